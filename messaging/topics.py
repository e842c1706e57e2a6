"""The topics MAST needs, with their partitions and retention, created by code.

Partition counts bound how many workers can share the work; retention bounds how long
personal data sits in Kafka. Interactions are keyed by partner record, so one partner's
record stays ordered within a partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka.admin import AdminClient, NewTopic

from mast_core.settings import Settings

_DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int
    compacted: bool = False
    personal_data: bool = False
    """Its messages carry partners' details (names, dates of birth, addresses), not only ids."""

    def config(self) -> dict[str, str]:
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": "compact,delete" if self.compacted else "delete",
            "min.insync.replicas": "1",
        }


def topic_specs(settings: Settings) -> list[TopicSpec]:
    partitions = settings.topic_partitions
    data_ms = settings.interactions_retention_days * _DAY_MS
    return [
        TopicSpec(settings.interactions_topic, partitions, data_ms, personal_data=True),
        # One partition: resolution is one sequence, and replaying it must give the same ids.
        TopicSpec(
            settings.accepted_interactions_topic,
            1,
            settings.resolution_log_retention_days * _DAY_MS
            if settings.resolution_log_retention_days > 0
            else -1,
            personal_data=True,
        ),
        TopicSpec(settings.resolved_interactions_topic, partitions, data_ms, personal_data=True),
        TopicSpec(settings.identity_merges_topic, partitions, data_ms),
        TopicSpec(settings.alerts_topic, partitions, data_ms),
        TopicSpec(
            settings.dead_letter_topic,
            1,
            settings.dead_letter_retention_days * _DAY_MS,
            personal_data=True,
        ),
        # Linkage parameter sets, keyed by version: no personal data, a few a day at most;
        # kept (compacted) so a sink starting on an empty ClickHouse finds them all.
        TopicSpec(settings.linkage_parameters_topic, 1, -1, compacted=True),
        # Stewards' corrections: ids only, few; kept as long as the accepted log they join.
        TopicSpec(
            settings.corrections_topic,
            1,
            settings.resolution_log_retention_days * _DAY_MS
            if settings.resolution_log_retention_days > 0
            else -1,
        ),
        TopicSpec(settings.identity_splits_topic, partitions, data_ms),
        # Partners' retractions (ids only), keyed by the withdrawn event.
        TopicSpec(settings.retractions_topic, partitions, data_ms),
        # Possible matches kept for review (ids and scores only), keyed by the record's person.
        TopicSpec(settings.possible_matches_topic, partitions, data_ms),
    ]


@dataclass(frozen=True)
class TopicReport:
    created: list[str]
    existing: list[str]


def ensure_topics(
    admin: AdminClient, specs: list[TopicSpec], *, replication: int = 1, timeout: float = 30.0
) -> TopicReport:
    """Create the topics that are missing; leave existing ones alone. Safe to re-run."""
    present = set(admin.list_topics(timeout=timeout).topics)
    missing = [spec for spec in specs if spec.name not in present]
    created: list[str] = []
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=replication,
                    config=spec.config(),
                )
                for spec in missing
            ],
            operation_timeout=timeout,
        )
        for name, future in futures.items():
            try:
                future.result()
                created.append(name)
            except Exception as exc:  # a concurrent creator won the race: that is fine
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
    existing = [spec.name for spec in specs if spec.name in present]
    return TopicReport(created=sorted(created), existing=sorted(existing))
