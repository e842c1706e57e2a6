"""Versioned ClickHouse migrations, applied at start under a lock, recorded, and re-runnable.

Each file in ``migrations/`` is ``NNNN_name.sql``: statements separated by ``;`` at the end
of a line. A migration runs once; its checksum is recorded, and a recorded migration whose
file has since changed is an error (write a new migration instead).

Processes starting together (a deployment's services, on several machines) take turns:
pending migrations are applied under ``MigrationLock``, and whoever gets the lock second
finds nothing left to do.

A migration that fails midway (a server restart, a full disk, a killed process) is not
recorded, so the next start runs it again from its first statement. Every statement must
therefore be harmless the second time: ``IF NOT EXISTS``, ``IF EXISTS``, ``ADD COLUMN IF NOT
EXISTS``; and a step that is not (copying rows, swapping tables) is preceded by a guard,

    -- only if: SELECT count() > 0 FROM system.tables WHERE … (the layout it replaces)
    EXCHANGE TABLES resolved_interactions AND resolved_interactions_0010;

which runs the statement only when the query's first value is true.
``tests/integration/test_migration_reruns.py`` runs every migration twice, and fails each
one after each of its statements and runs it again, and compares the schema and rows with a
clean run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from mast_core.errors import MastError
from sinks.clickhouse.migration_lock import MigrationLock

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_TABLE = "schema_migrations"
_GUARD = "-- only if:"
_GUARD_MARK = "\x00guard\x00"

REWRITTEN: dict[int, frozenset[str]] = {
    7: frozenset({"7a4ce2278825a8f555da23141ef242bce7aa3a2711510b7732d55f45712d3093"}),
    10: frozenset({"259cf67d0e46d08b0296e26a078bbcb190ed7185f6fbd501122733512cf3903a"}),
}
"""Migrations rewritten after they shipped to be re-runnable, with the same end state, and
the checksums they were applied under before: a database that applied the old text is not
told the migration changed."""


class MigrationError(MastError):
    reason = "migration"


@dataclass(frozen=True)
class Step:
    sql: str
    only_if: str | None = None
    """A query whose first value says whether to run ``sql`` (None: always)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    def steps(self) -> list[Step]:
        """The statements in order, each with its guard. Comments are dropped (a ``;`` in a
        comment splits nothing); a guard line belongs to the statement after it."""
        lines = []
        for line in self.sql.splitlines():
            stripped = line.strip()
            if stripped.startswith(_GUARD):
                lines.append(_GUARD_MARK + stripped.removeprefix(_GUARD).strip())
            elif not stripped.startswith("--"):
                lines.append(line)
        steps = []
        for part in re.split(r";\s*$", "\n".join(lines), flags=re.M):
            guards = [line for line in part.splitlines() if line.startswith(_GUARD_MARK)]
            sql = "\n".join(
                line for line in part.splitlines() if not line.startswith(_GUARD_MARK)
            ).strip()
            if not sql:
                if guards:
                    raise MigrationError(f"migration {self.label}: a guard with no statement")
                continue
            if len(guards) > 1:
                raise MigrationError(f"migration {self.label}: two guards on one statement")
            guard = guards[0].removeprefix(_GUARD_MARK) if guards else None
            if guard is not None and not guard:
                raise MigrationError(f"migration {self.label}: an empty guard")
            steps.append(Step(sql, guard))
        return steps

    def statements(self) -> list[str]:
        return [step.sql for step in self.steps()]

    def accepts(self, checksum: str) -> bool:
        """Whether a recorded checksum is this migration's, now or before a rewrite."""
        return checksum == self.checksum or checksum in REWRITTEN.get(self.version, frozenset())


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name {path.name!r} is not NNNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    for migration in migrations:
        migration.steps()  # a malformed guard is refused before anything runs
    return migrations


def apply_migrations(
    client: Client,
    directory: Path = MIGRATIONS_DIR,
    *,
    lock: MigrationLock | None = None,
) -> list[Migration]:
    """Apply pending migrations in order; return those applied now (empty when up to date).

    Nothing is locked when nothing is pending (every start but the first after an upgrade).
    Otherwise the lock is taken and the pending list read again under it, since the process
    that held the lock before may have applied them.
    """
    client.command(
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (version UInt32, name String, checksum String, "
        "applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version"
    )
    migrations = load_migrations(directory)
    if not _pending(client, migrations):
        return []
    applied = []
    with lock or MigrationLock(client) as held:
        for migration in _pending(client, migrations):
            for step in migration.steps():
                held.renew()
                if step.only_if is not None and not _holds(client, step.only_if):
                    continue
                client.command(step.sql)
            client.insert(
                _TABLE,
                [[migration.version, migration.name, migration.checksum, datetime.now(UTC)]],
                column_names=["version", "name", "checksum", "applied_at"],
            )
            applied.append(migration)
    return applied


def _pending(client: Client, migrations: list[Migration]) -> list[Migration]:
    recorded = {
        int(row["version"]): str(row["checksum"])
        for row in client.query(
            f"SELECT version, any(checksum) AS checksum FROM {_TABLE} GROUP BY version"  # noqa: S608 - constant
        ).named_results()
    }
    pending = []
    for migration in migrations:
        known = recorded.get(migration.version)
        if known is None:
            pending.append(migration)
        elif not migration.accepts(known):
            raise MigrationError(
                f"migration {migration.label} changed after it was applied; add a new "
                "migration instead of editing an applied one"
            )
    return pending


def _holds(client: Client, guard: str) -> bool:
    rows = client.query(guard).result_rows
    return bool(rows and rows[0] and rows[0][0])
