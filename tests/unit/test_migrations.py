import re

import pytest

from sinks.clickhouse.migrate import REWRITTEN, Migration, MigrationError, load_migrations


def test_shipped_migrations_are_numbered_in_order():
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


def test_statements_split_at_line_end_semicolons_and_drop_comments():
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x String DEFAULT ';');\n\n"
        "CREATE TABLE b (y UInt8);\n"
    )
    migration = Migration(1, "x", sql)
    assert migration.statements() == [
        "CREATE TABLE a (x String DEFAULT ';')",
        "CREATE TABLE b (y UInt8)",
    ]


def test_badly_named_files_are_refused(tmp_path):
    (tmp_path / "1_first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(tmp_path)


def test_duplicate_versions_are_refused(tmp_path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(MigrationError, match="share a version"):
        load_migrations(tmp_path)


def test_a_guard_belongs_to_the_statement_after_it():
    sql = (
        "-- a comment\n"
        "CREATE TABLE IF NOT EXISTS a (x UInt8);\n\n"
        "-- only if: SELECT count() > 0 FROM system.tables WHERE name = 'a'\n"
        "-- an ordinary comment between guard and statement\n"
        "INSERT INTO a\nSELECT 1;\n"
        "DROP TABLE IF EXISTS b;\n"
    )
    steps = Migration(1, "x", sql).steps()
    assert [(s.sql, s.only_if) for s in steps] == [
        ("CREATE TABLE IF NOT EXISTS a (x UInt8)", None),
        ("INSERT INTO a\nSELECT 1", "SELECT count() > 0 FROM system.tables WHERE name = 'a'"),
        ("DROP TABLE IF EXISTS b", None),
    ]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("-- only if: SELECT 1\n", "a guard with no statement"),
        ("-- only if: SELECT 1\n-- only if: SELECT 0\nDROP TABLE IF EXISTS a;\n", "two guards"),
        ("-- only if:\nDROP TABLE IF EXISTS a;\n", "an empty guard"),
    ],
)
def test_a_malformed_guard_is_refused(sql, message):
    with pytest.raises(MigrationError, match=message):
        Migration(1, "x", sql).steps()


def test_only_guarded_or_idempotent_statements_ship():
    """Every shipped statement can run twice: it says IF [NOT] EXISTS, or is guarded, or is a
    kind that is harmless again (a setting set to the same value)."""
    harmless = re.compile(
        r"^(CREATE (TABLE|VIEW|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS"
        r"|DROP (TABLE|VIEW) IF EXISTS"
        r"|ALTER TABLE \w+ (MODIFY SETTING|ADD COLUMN IF NOT EXISTS))"
    )
    unsafe = [
        (m.label, s.sql.splitlines()[0])
        for m in load_migrations()
        for s in m.steps()
        if s.only_if is None and not harmless.match(" ".join(s.sql.split()))
    ]
    assert unsafe == []


def test_rewritten_migrations_accept_the_checksum_they_were_applied_under():
    by_version = {m.version: m for m in load_migrations()}
    for version, old in REWRITTEN.items():
        migration = by_version[version]
        assert all(migration.accepts(checksum) for checksum in old)
        assert migration.checksum not in old  # it was rewritten: the text differs
    assert not by_version[1].accepts("0" * 64)
