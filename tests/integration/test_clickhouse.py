"""ClickHouse through clickhouse-connect on embedded chDB: the same code as for a server."""

from __future__ import annotations

import pytest

from sinks.clickhouse.client import connect
from sinks.clickhouse.migrate import MigrationError, apply_migrations, load_migrations
from sinks.clickhouse.tables import TABLES

pytestmark = pytest.mark.integration


def test_migrations_are_recorded_and_safe_to_re_run(clickhouse):
    recorded = clickhouse.query(
        "SELECT version, name FROM schema_migrations ORDER BY version"
    ).result_rows
    assert [(m.version, m.name) for m in load_migrations()] == [(v, n) for v, n in recorded]
    assert apply_migrations(clickhouse) == []
    assert clickhouse.query("SELECT count() FROM schema_migrations").result_rows[0][0] == len(
        recorded
    )
    tables = {row[0] for row in clickhouse.query("SHOW TABLES").result_rows}
    assert {"resolved_interactions", "dead_letters", "schema_migrations"} <= tables
    assert "interactions" not in tables  # the foundation's raw table, dropped by 0009


def test_an_applied_migration_that_changed_is_refused(settings, tmp_path):
    other = connect(settings.model_copy(update={"clickhouse_database": "mast_migration_test"}))
    (tmp_path / "0001_first.sql").write_text(
        "CREATE TABLE IF NOT EXISTS t1 (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
    )
    assert [m.name for m in apply_migrations(other, tmp_path)] == ["first"]
    (tmp_path / "0002_second.sql").write_text(
        "CREATE TABLE IF NOT EXISTS t2 (y UInt8) ENGINE = MergeTree ORDER BY y;\n"
    )
    assert [m.name for m in apply_migrations(other, tmp_path)] == ["second"]
    (tmp_path / "0001_first.sql").write_text(
        "CREATE TABLE IF NOT EXISTS t1 (x UInt16) ENGINE = MergeTree ORDER BY x;\n"
    )
    with pytest.raises(MigrationError, match="0001_first changed"):
        apply_migrations(other, tmp_path)


def test_queries_take_parameters_not_concatenated_text(clickhouse):
    hostile = "x' OR 1=1 --"
    result = clickhouse.query(
        "SELECT count() FROM resolved_interactions WHERE family_name = {name:String}",
        parameters={"name": hostile},
    )
    assert result.result_rows[0][0] == 0


def test_every_column_list_is_its_tables_columns_in_order(clickhouse):
    """sinks/clickhouse/tables.py owns the column lists that writers and readers use: each
    must be exactly what the migrations built, so a migration that adds a column and a list
    that does not (or the other way round) fail here, not in production."""
    for table, row_type in TABLES.items():
        columns = [
            row[0]
            for row in clickhouse.query(
                "SELECT name FROM system.columns WHERE database = currentDatabase() "
                "AND table = {table:String} ORDER BY position",
                parameters={"table": table},
            ).result_rows
        ]
        assert list(row_type._fields) == columns, table  # type: ignore[attr-defined]
