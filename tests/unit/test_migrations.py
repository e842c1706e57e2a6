import pytest

from sinks.clickhouse.migrate import Migration, MigrationError, load_migrations


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
