"""Versioned ClickHouse migrations, applied at start and recorded, safe to re-run.

Each file in ``migrations/`` is ``NNNN_name.sql``: statements separated by ``;`` at the end
of a line. A migration runs once; its checksum is recorded, and a recorded migration whose
file has since changed is an error (write a new migration instead). Statements use
``IF NOT EXISTS`` so that two processes starting together cannot break each other.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from mast_core.errors import MastError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_TABLE = "schema_migrations"


class MigrationError(MastError):
    reason = "migration"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self) -> list[str]:
        body = "\n".join(
            line for line in self.sql.splitlines() if not line.lstrip().startswith("--")
        )
        return [part.strip() for part in re.split(r";\s*$", body, flags=re.M) if part.strip()]


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
    return migrations


def apply_migrations(client: Client, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply pending migrations in order; return those applied now (empty when up to date)."""
    client.command(
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (version UInt32, name String, checksum String, "
        "applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version"
    )
    recorded = {
        int(version): checksum
        for version, checksum in client.query(
            f"SELECT version, any(checksum) FROM {_TABLE} GROUP BY version"  # noqa: S608 - constant
        ).result_rows
    }
    applied = []
    for migration in load_migrations(directory):
        known = recorded.get(migration.version)
        if known is not None:
            if known != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it was "
                    "applied; add a new migration instead of editing an applied one"
                )
            continue
        for statement in migration.statements():
            client.command(statement)
        client.insert(
            _TABLE,
            [[migration.version, migration.name, migration.checksum, datetime.now(UTC)]],
            column_names=["version", "name", "checksum", "applied_at"],
        )
        applied.append(migration)
    return applied
