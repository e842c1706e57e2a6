from sinks.clickhouse.client import connect
from sinks.clickhouse.migrate import apply_migrations

__all__ = ["apply_migrations", "connect"]
