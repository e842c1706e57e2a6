"""One way to reach ClickHouse: clickhouse-connect, by DSN.

The default DSN is ``chdb:///…/clickhouse`` (the real ClickHouse engine embedded in this
process); an ``http(s)://`` URL reaches a server with the same SQL. chDB allows one engine
per process and one process per data folder, so callers share the client this returns
rather than opening a second one.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from clickhouse_connect import get_client
from clickhouse_connect.driver.client import Client

from mast_core.errors import SetupError
from mast_core.settings import Settings


def connect(settings: Settings) -> Client:
    """A client whose default database is MAST's, created if missing."""
    dsn = settings.clickhouse_dsn
    database = settings.clickhouse_database
    if dsn.startswith("chdb:"):
        folder = settings.state_dir / "clickhouse"
        folder.mkdir(parents=True, exist_ok=True)
        in_use = SetupError(
            f"the embedded ClickHouse in {folder} is in use by another MAST process "
            "(is `mast up` running?); stop it first, or use a ClickHouse server "
            "(MAST_CLICKHOUSE_URL)"
        )
        if folder.resolve() not in _OPENED and _held_by_another_process(folder):
            raise in_use
        try:
            client = get_client(dsn=dsn)
        except Exception:
            if _held_by_another_process(folder):  # it started between the check and here
                raise in_use from None
            raise
        client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
        _OPENED.add(folder.resolve())
        # One engine per process: point this client at the database rather than open another.
        client.database = database
        return client
    secret = settings.clickhouse_password
    password = secret.get_secret_value() if secret is not None else ""
    with get_client(dsn=dsn, password=password) as bootstrap:
        bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    return get_client(dsn=dsn, database=database, password=password)


_OPENED: set[Path] = set()
"""Embedded folders this process has opened: its own engine's lock is not another's."""


def _held_by_another_process(folder: Path) -> bool:
    """ClickHouse holds an exclusive lock on its folder's ``status`` file while it runs."""
    status = folder / "status"
    if not status.exists():
        return False
    with status.open("rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def quote_identifier(name: str) -> str:
    """Backquote a database or table name; settings are trusted, but quoting costs nothing."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
