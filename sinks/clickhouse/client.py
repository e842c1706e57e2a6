"""One way to reach ClickHouse: clickhouse-connect, by DSN.

The default DSN is ``chdb:///…/clickhouse`` (the real ClickHouse engine embedded in this
process); an ``http(s)://`` URL reaches a server with the same SQL. chDB allows one engine
per process and one process per data folder, so callers share the client this returns
rather than opening a second one.
"""

from __future__ import annotations

from clickhouse_connect import get_client
from clickhouse_connect.driver.client import Client

from mast_core.settings import Settings


def connect(settings: Settings) -> Client:
    """A client whose default database is MAST's, created if missing."""
    dsn = settings.clickhouse_dsn
    database = settings.clickhouse_database
    if dsn.startswith("chdb:"):
        (settings.state_dir / "clickhouse").mkdir(parents=True, exist_ok=True)
        client = get_client(dsn=dsn)
        client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
        # One engine per process: point this client at the database rather than open another.
        client.database = database
        return client
    secret = settings.clickhouse_password
    password = secret.get_secret_value() if secret is not None else ""
    with get_client(dsn=dsn, password=password) as bootstrap:
        bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    return get_client(dsn=dsn, database=database, password=password)


def quote_identifier(name: str) -> str:
    """Backquote a database or table name; settings are trusted, but quoting costs nothing."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
