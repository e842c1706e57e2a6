"""What every part of MAST shares: settings, the interaction event and its wire contract,
and (under ``mast_core.domain``) the pure logic of linkage and escalation.

Nothing here imports Kafka, Faust, ClickHouse or FastAPI."""
