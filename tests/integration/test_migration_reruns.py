"""Migrations on the real engine: each can run again after failing at any statement (or
after succeeding unrecorded) and ends as a clean run does, rows kept; and of processes
starting together only one applies them, under the lock in ClickHouse."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sinks.clickhouse.client import connect
from sinks.clickhouse.migrate import MIGRATIONS_DIR, apply_migrations, load_migrations
from sinks.clickhouse.migration_lock import (
    MigrationLock,
    MigrationLockError,
    ensure_lock_table,
)

pytestmark = pytest.mark.integration

MIGRATIONS = load_migrations()


class SimulatedFailure(RuntimeError):
    pass


class FailAfter:
    """A client that fails once ``allowed`` of a migration's statements have run (or, when
    all have, as the migration is about to be recorded), as a crash or a lost server would."""

    def __init__(self, client: Any, statements: list[str], allowed: int) -> None:
        self.client = client
        self.statements = set(statements)
        self.total = len(statements)
        self.allowed = allowed
        self.done = 0

    def command(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if sql in self.statements:
            if self.done == self.allowed:
                raise SimulatedFailure(f"failed before statement {self.done + 1}")
            self.done += 1
        return self.client.command(sql, *args, **kwargs)

    def insert(self, table: str, *args: Any, **kwargs: Any) -> Any:
        if table == "schema_migrations" and self.allowed >= self.total:
            raise SimulatedFailure("failed before the migration was recorded")
        return self.client.insert(table, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _quick_lock(client: Any) -> MigrationLock:
    return MigrationLock(client, settle_s=0.0, timeout_s=30.0)


def _first(tmp_path: Path, count: int) -> Path:
    """A migrations folder holding the first ``count`` shipped migrations."""
    folder = tmp_path / f"first-{count}"
    if not folder.exists():
        folder.mkdir()
        for migration in MIGRATIONS[:count]:
            name = f"{migration.label}.sql"
            shutil.copy(MIGRATIONS_DIR / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def engine(settings) -> Any:
    """One client for the module (opening one costs seconds on chDB), pointed at a fresh
    database by each test."""
    return connect(settings.model_copy(update={"clickhouse_database": "mast_mig_base"}))


@pytest.fixture
def database(engine) -> Iterator[Any]:
    name = f"mast_mig_{uuid.uuid4().hex[:8]}"
    engine.command(f"CREATE DATABASE IF NOT EXISTS {name}")
    engine.database = name
    yield engine
    engine.database = "mast_mig_base"
    engine.command(f"DROP DATABASE IF EXISTS {name}")


def _schema(client: Any) -> dict[str, str]:
    """Each table and view as its CREATE statement, without the database's name."""
    rows = client.query(
        "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() "
        "AND name NOT IN ('schema_migrations', 'schema_migrations_lock') ORDER BY name"
    ).result_rows
    database = client.database
    return {
        name: re.sub(r"\s+UUID '[0-9a-f-]+'", "", query.replace(f"{database}.", ""))
        for name, query in rows
    }


def _add_rows(client: Any) -> None:
    """One interaction and its search key, in the columns every version of the tables has."""
    tables = {row[0] for row in client.query("SHOW TABLES").result_rows}
    if "resolved_interactions" in tables:
        client.command(
            "INSERT INTO resolved_interactions (event_id, person_id, address_id, agency, "
            "event_type, event_time, match_reason, resolved_at) VALUES ('e1', 'P1', 'A1', "
            "'FIRE', 'FIRE_ATTENDANCE', '2026-04-03 21:15:00', 'new person', "
            "'2026-04-03 21:16:00')"
        )
    if "person_keys" in tables:
        client.command(
            "INSERT INTO person_keys (key, person_id, event_id, event_time, resolved_at) "
            "VALUES ('k1', 'P1', 'e1', '2026-04-03 21:15:00', '2026-04-03 21:16:00')"
        )


def _counts(client: Any) -> dict[str, int]:
    tables = {row[0] for row in client.query("SHOW TABLES").result_rows}
    wanted = ("resolved_interactions", "address_interactions", "person_keys")
    return {
        table: int(client.query(f"SELECT count() FROM {table} FINAL").result_rows[0][0])
        for table in wanted
        if table in tables
    }


@pytest.fixture(scope="module")
def clean_schemas(engine, tmp_path_factory) -> dict[int, dict[str, str]]:
    """The schema after each migration when all are applied once, cleanly."""
    folder = tmp_path_factory.mktemp("clean")
    name = f"mast_mig_clean_{uuid.uuid4().hex[:8]}"
    engine.command(f"CREATE DATABASE IF NOT EXISTS {name}")
    engine.database = name
    after: dict[int, dict[str, str]] = {}
    try:
        for count in range(1, len(MIGRATIONS) + 1):
            apply_migrations(engine, _first(folder, count), lock=_quick_lock(engine))
            after[count] = _schema(engine)
    finally:
        engine.database = "mast_mig_base"
        engine.command(f"DROP DATABASE IF EXISTS {name}")
    return after


def _scenarios() -> list[tuple[int, int]]:
    """(migration position, statements that ran before the failure): every statement of
    every migration, and the point after its last statement, before it is recorded."""
    return [
        (position, allowed)
        for position, migration in enumerate(MIGRATIONS, start=1)
        for allowed in range(1, len(migration.steps()) + 1)
    ]


@pytest.mark.parametrize(("position", "allowed"), _scenarios())
def test_a_migration_that_failed_midway_runs_again_to_the_same_end(
    database, tmp_path, clean_schemas, position, allowed
):
    migration = MIGRATIONS[position - 1]
    if position > 1:
        apply_migrations(database, _first(tmp_path, position - 1), lock=_quick_lock(database))
    _add_rows(database)
    before = _counts(database)
    failing = FailAfter(database, migration.statements(), allowed)
    with pytest.raises(SimulatedFailure):
        apply_migrations(failing, _first(tmp_path, position), lock=_quick_lock(failing))  # type: ignore[arg-type]
    applied = apply_migrations(database, _first(tmp_path, position), lock=_quick_lock(database))
    assert [m.version for m in applied] == [migration.version]
    assert _schema(database) == clean_schemas[position]
    after = _counts(database)
    for table, count in before.items():  # no row lost, none doubled
        assert after.get(table, 0) == count, table


def test_every_migration_can_run_twice(database):
    """Each migration's statements run, then run again at once, as a re-run after an
    unrecorded success would; the end is the clean run's."""
    for migration in MIGRATIONS:
        for _ in range(2):
            for step in migration.steps():
                if step.only_if is not None:
                    holds = database.query(step.only_if).result_rows
                    if not (holds and holds[0][0]):
                        continue
                database.command(step.sql)
        _add_rows(database) if migration.version == 2 else None
    reference = f"{database.database}_ref"
    database.command(f"CREATE DATABASE IF NOT EXISTS {reference}")
    twice, name = _schema(database), database.database
    database.database = reference
    try:
        apply_migrations(database, lock=_quick_lock(database))
        assert twice == _schema(database)
    finally:
        database.database = name
        database.command(f"DROP DATABASE IF EXISTS {reference}")
    assert _counts(database) == {
        "resolved_interactions": 1,
        "address_interactions": 1,
        "person_keys": 0,
    }


# The lock -------------------------------------------------------------------------------------


class Serialised:
    """One client shared by threads that stand for processes: each call runs whole, as each
    statement does on a server, and the threads interleave between calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lock = threading.Lock()

    def command(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return self.client.command(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return self.client.query(*args, **kwargs)

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return self.client.insert(*args, **kwargs)


def test_of_two_processes_starting_together_only_one_applies(database, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_counted.sql").write_text(
        "CREATE TABLE IF NOT EXISTS counted (n UInt8) ENGINE = MergeTree ORDER BY n;\n"
        "-- only if: SELECT 1\n"  # not re-runnable on purpose: only the lock keeps it single
        "INSERT INTO counted VALUES (1);\n"
    )
    shared = Serialised(database)
    start = threading.Barrier(2)
    results: dict[str, list[int]] = {}

    def process(name: str) -> None:
        lock = MigrationLock(shared, settle_s=0.3, timeout_s=30.0, holder=f"test:{name}")  # type: ignore[arg-type]
        start.wait()
        results[name] = [m.version for m in apply_migrations(shared, folder, lock=lock)]  # type: ignore[arg-type]

    threads = [threading.Thread(target=process, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results.values()) == [[], [1]]
    assert database.query("SELECT count() FROM counted").result_rows == [(1,)]


def test_claims_queue_and_withdrawn_or_expired_or_dead_claims_do_not_hold(database):
    ensure_lock_table(database)
    first = MigrationLock(database, holder="elsewhere:1")
    second = MigrationLock(database, holder="elsewhere:2")
    first.claim()
    second.claim()
    assert first.first() == second.first()
    holder = first.first()
    assert holder is not None and holder.token == first.token
    first.release()
    holder = second.first()
    assert holder is not None and holder.token == second.token
    second.release()
    assert second.first() is None

    brief = MigrationLock(database, lease_s=0.05, holder="elsewhere:3")
    brief.claim()
    time.sleep(0.2)
    assert brief.first() is None  # its lease ran out

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = MigrationLock(database, holder=f"{socket.gethostname()}:{ended.stdout.strip()}")
    dead.claim()  # a process on this machine that has ended without withdrawing its claim
    assert MigrationLock(database, holder="elsewhere:4").first() is None
    waiting = MigrationLock(database, settle_s=0.0, timeout_s=5.0)
    waiting.acquire()
    assert waiting.held
    waiting.release()


def test_a_process_that_cannot_get_the_lock_says_who_holds_it(database):
    holder = MigrationLock(database, settle_s=0.0, holder="migrator-host:4242")
    holder.acquire()
    try:
        with pytest.raises(MigrationLockError, match="migrator-host:4242"):
            MigrationLock(database, settle_s=0.0, timeout_s=1.0).acquire()
    finally:
        holder.release()
