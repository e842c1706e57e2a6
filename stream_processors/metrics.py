"""Prometheus metrics of the pipeline, served at ``/metrics`` by the API or the worker."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("mast_events_in", "Messages consumed, by topic.", ["topic"])
EVENTS_OUT = Counter("mast_events_out", "Messages published, by topic.", ["topic"])
DEAD_LETTERS = Counter("mast_dead_letters", "Messages sent to the dead-letter topic.", ["reason"])
DUPLICATES = Counter("mast_duplicate_events", "Events ignored because their id was seen before.")
RESOLUTION_SECONDS = Histogram(
    "mast_resolution_seconds",
    "Time to resolve one event and judge the escalation rules.",
    buckets=(0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1),
)
MERGES = Counter("mast_identity_merges", "Identities merged.")
ALERTS = Counter("mast_alerts", "Alerts raised, by rule.", ["rule"])
SINK_BATCH_ROWS = Histogram(
    "mast_sink_batch_rows",
    "Rows per ClickHouse insert, by table.",
    ["table"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
SINK_BATCH_SECONDS = Histogram(
    "mast_sink_batch_seconds",
    "Time per ClickHouse insert, by table.",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CONSUMER_LAG = Gauge(
    "mast_consumer_lag", "Messages not yet committed by the worker.", ["topic", "partition"]
)
CHECKPOINT_OFFSET = Gauge(
    "mast_checkpoint_offset", "Accepted-log offset of the last resolution checkpoint."
)
CHECKPOINT_SECONDS = Histogram(
    "mast_checkpoint_seconds",
    "Time to write a resolution checkpoint.",
    buckets=(0.01, 0.1, 1, 5, 30),
)
AGENT_CRASHES = Counter(
    "mast_agent_crashes", "Times a stage's agent raised out of its loop, by agent.", ["agent"]
)
PLACEHOLDER_BIRTH_DATES = Counter(
    "mast_placeholder_birth_dates",
    "Accepted events whose date of birth is a 'not known' placeholder, by feed.",
    ["agency", "source_system"],
)
