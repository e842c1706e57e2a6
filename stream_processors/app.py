"""The Faust app: three stages as agents, all in one consumer group.

    interactions (N partitions) ─ validate ─► interactions-accepted (1 partition) ─ resolve ─►
        resolved-interactions, identity-merges, alerts ─ sink ─► ClickHouse
        dead-letters ─ sink ─► ClickHouse

Every agent works in batches and lets Faust acknowledge a batch only after what it produced
is acknowledged by Kafka (or written to ClickHouse), so a crash can repeat work but never
lose it; the repeats are absorbed downstream by keys. Faust acknowledges a message whose
agent raises, so the stages catch bad input themselves and dead-letter it.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from stream_processors.pipeline import Pipeline

log = logging.getLogger(__name__)

VALIDATE_BATCH = 1000
RESOLVE_BATCH = 500
STAGE_WAIT_S = 0.05


def build_app(pipeline: Pipeline, *, sink: bool = True) -> faust.App:
    settings = pipeline.settings
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        topic_allow_declare=False,  # topics are created by messaging/topics.py
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.kafka_session_timeout_s / 4),
        producer_acks=-1,
        stream_wait_empty=False,
        datadir=str(settings.state_dir / "faust"),
    )

    def topic(name: str) -> Any:
        return app.topic(name, value_type=bytes, key_type=bytes, allow_empty=True)

    @app.agent(topic(settings.interactions_topic), name="validate")
    async def validate(stream: Any) -> None:
        async for batch in stream.take_events(VALIDATE_BATCH, within=STAGE_WAIT_S):
            for event in batch:
                message = event.message
                pipeline.validate(message.value, message.topic, message.partition, message.offset)
            await pipeline.publisher.flush()

    @app.agent(topic(settings.accepted_interactions_topic), name="resolve")
    async def resolve(stream: Any) -> None:
        async for batch in stream.take_events(RESOLVE_BATCH, within=STAGE_WAIT_S):
            for event in batch:
                pipeline.resolve(event.message.value, event.message.offset)
            await pipeline.publisher.flush()
            await pipeline.maybe_checkpoint()

    if sink:
        tables = {
            settings.resolved_interactions_topic: "resolved_interactions",
            settings.identity_merges_topic: "identity_merges",
            settings.alerts_topic: "alerts",
            settings.dead_letter_topic: "dead_letters",
        }
        for name, table in tables.items():
            app.agent(topic(name), name=f"sink_{table}")(_sink_agent(pipeline, table))

    @app.task
    async def started() -> None:
        pipeline.health.running = True

    return app


def _sink_agent(pipeline: Pipeline, table: str) -> Any:
    settings = pipeline.settings

    async def sink(stream: Any) -> None:
        async for values in stream.take(
            settings.sink_batch_size, within=settings.sink_batch_wait_s
        ):
            await pipeline.sink(table, values)

    sink.__name__ = f"sink_{table}"
    return sink
