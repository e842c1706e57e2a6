"""The Faust app: the two processing stages as agents.

    interactions (N partitions) ─ validate ─► interactions-accepted (1 partition) ─ resolve ─►
        resolved-interactions, identity-merges, alerts, linkage-parameters ─ sink ─► ClickHouse
        dead-letters ─ sink ─► ClickHouse

The sink is ``sinks.clickhouse.consumer``. Every agent works in batches and lets Faust
acknowledge a batch only after what it produced is acknowledged by Kafka, so a crash can
repeat work but never lose it; the repeats are absorbed downstream by keys. Faust
acknowledges a message whose agent raises, so the stages catch bad input themselves and
dead-letter it; an error that still escapes stops the process before Faust can
acknowledge the batch (``Pipeline.halt``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import faust

from mast_core.settings import Settings
from stream_processors.pipeline import Pipeline

log = logging.getLogger(__name__)

ROLES = ("validate", "resolve", "sink")
"""What a worker process can do. One process may do all three (``mast up``), or each its own
(a deployment, or two cores' worth of throughput on one machine)."""

VALIDATE_BATCH = 1000
RESOLVE_BATCH = 4
"""Accepted-log messages per batch; each holds up to 500 events."""
STAGE_WAIT_S = 0.05
"""The longest a stage waits to fill a batch: the latency it adds at low rates."""


PROCESSORS = frozenset({"validate", "resolve"})


def group_id(settings: Settings, roles: frozenset[str]) -> str:
    """The consumer group (and Faust app id) of the processors in a process with these roles:
    one group when both run together, one per stage when they run apart. The sink has its
    own group (``sinks.clickhouse.consumer.sink_group``)."""
    processors = roles & PROCESSORS
    if processors == PROCESSORS:
        return settings.app_id
    if len(processors) != 1:
        raise ValueError("no processor role to name a consumer group for")
    (role,) = processors
    return f"{settings.app_id}-{role}"


def role_topics(settings: Settings, role: str) -> list[str]:
    """The topics a role consumes."""
    if role == "validate":
        return [settings.interactions_topic, settings.corrections_topic]
    if role == "resolve":
        return [settings.accepted_interactions_topic]
    return [
        settings.resolved_interactions_topic,
        settings.identity_merges_topic,
        settings.identity_splits_topic,
        settings.retractions_topic,
        settings.alerts_topic,
        settings.dead_letter_topic,
        settings.linkage_parameters_topic,
    ]


Located = tuple[bytes | None, str, int, int]
"""A consumed message's value with where it was read: topic, partition, offset."""


def _located(message: Any) -> Located:
    return (message.value, message.topic, message.partition, message.offset)


@contextlib.contextmanager
def _crashes_halt(pipeline: Pipeline, agent: str) -> Iterator[None]:
    """Each message's failure is dead-lettered inside the stage, so an exception that still
    escapes is a fault of the stage itself (Kafka not taking the output, a bug). Faust would
    restart the agent and acknowledge the batch in hand, losing it; the process stops
    instead, unacknowledged (``Pipeline.halt``)."""
    try:
        yield
    except Exception:
        log.exception("the %s agent crashed", agent)
        pipeline.halt(agent)


def build_app(pipeline: Pipeline, roles: frozenset[str]) -> faust.App:
    settings = pipeline.settings
    app = faust.App(
        group_id(settings, roles),
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

    if "validate" in roles:

        def passing_on(name: str, source: str, handle: Callable[[list[Located]], int]) -> None:
            """An agent that hands each batch of messages, as (value, topic, partition,
            offset), to ``handle`` and lets it be acknowledged once what it produced is in
            Kafka: validation of events, and the forwarding of stewards' corrections."""

            async def agent(stream: Any) -> None:
                with _crashes_halt(pipeline, name):
                    async for batch in stream.take_events(VALIDATE_BATCH, within=STAGE_WAIT_S):
                        handle([_located(e.message) for e in batch])
                        pipeline.publisher.flush_blocking()

            app.agent(topic(source), name=name)(agent)

        passing_on("validate", settings.interactions_topic, pipeline.validate)
        passing_on("corrections", settings.corrections_topic, pipeline.forward_corrections)

    if "resolve" in roles:

        @app.agent(topic(settings.accepted_interactions_topic), name="resolve")
        async def resolve(stream: Any) -> None:
            with _crashes_halt(pipeline, "resolve"):
                async for batch in stream.take_events(RESOLVE_BATCH, within=STAGE_WAIT_S):
                    for event in batch:
                        message = event.message
                        pipeline.resolve(
                            message.value, message.offset, message.timestamp, message.headers
                        )
                    pipeline.publisher.flush_blocking()
                    pipeline.maybe_checkpoint()

    @app.task
    async def started() -> None:
        pipeline.health.running = True

    return app
