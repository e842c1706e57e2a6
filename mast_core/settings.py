"""One settings object for every MAST process, read from ``MAST_…`` environment variables.

The defaults run the whole system on one machine: a local Kafka broker on loopback and
ClickHouse embedded through chDB in the project's state folder. Pointing
``MAST_CLICKHOUSE_URL`` at an ``http(s)://`` server, or ``MAST_KAFKA_BOOTSTRAP`` at a
cluster, changes nothing else.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _default_state_dir() -> Path:
    """A source checkout keeps its state beside the code, so two clones never share a broker's
    data; an installed copy keeps it in the user's state folder."""
    if (_PACKAGE_ROOT / "pyproject.toml").is_file():
        return _PACKAGE_ROOT / ".mast"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mast"


def _default_cache_dir() -> Path:
    """The assembled Kafka class path is large and identical between clones: share it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mast"


DEFAULT_PURPOSES = {
    "section_47_enquiry": "Section 47 enquiry",
    "strategy_discussion": "Strategy discussion",
    "welfare_check": "Welfare check",
    "self_neglect_review": "Self-neglect review",
    "missing_person": "Missing person",
    "mash_triage": "Multi-agency safeguarding hub triage",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAST_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_format: Literal["text", "json"] = "text"
    state_dir: Path = Field(default_factory=_default_state_dir)
    cache_dir: Path = Field(default_factory=_default_cache_dir)

    # Kafka ------------------------------------------------------------------------------------
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_version: str = "4.1.1"
    kafka_broker_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    kafka_start_timeout_s: float = 90.0
    kafka_compression: Literal["none", "lz4", "zstd", "gzip", "snappy"] = Field(
        default="lz4", description="Compression of everything MAST produces."
    )
    kafka_session_timeout_s: float = Field(
        default=10.0,
        description="How soon Kafka gives up on a worker that stopped answering; a worker "
        "restarted after a crash waits this long before it resumes.",
    )
    kafka_publish_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a stage waits for Kafka to acknowledge what a batch produced; "
        "past it the process stops, unacknowledged, for its supervisor to start again.",
    )
    topic_prefix: str = Field(
        default="mast.", description="Prepended to every topic name; tests use their own."
    )
    topic_partitions: int = 3
    topic_replication: int = 1
    interactions_retention_days: int = 14
    resolution_log_retention_days: int = Field(
        default=-1,
        description="Retention of the accepted-interactions topic, the log the resolver's state "
        "is a function of: a worker that lost its checkpoint rebuilds by replaying it; -1 keeps "
        "it for ever.",
    )
    dead_letter_retention_days: int = 90

    # ClickHouse -------------------------------------------------------------------------------
    clickhouse_url: str | None = Field(
        default=None,
        description="http(s)://user:password@host:port for a server; unset means embedded chDB "
        "under the state folder (chdb:///path is accepted too).",
    )
    clickhouse_database: str = "mast"
    clickhouse_password: SecretStr | None = None
    retention_days: int = Field(
        default=2190,
        description="How long ClickHouse keeps partners' records and what is derived from them: "
        "interactions, search keys, alerts, dead letters (by TTL; sinks/clickhouse/retention.py).",
    )
    audit_retention_days: int = Field(
        default=2190,
        description="How long ClickHouse keeps the audit log and the decisions recorded beside "
        "it: disputes, stewards' decisions, access-review outcomes (by TTL).",
    )

    # Stream processing ------------------------------------------------------------------------
    app_id: str = Field(default="mast", description="Faust app id, also its consumer group.")
    checkpoint_interval_s: float = 30.0
    sink_batch_size: int = 2000
    sink_batch_wait_s: float = 0.5
    rules_file: Path | None = Field(
        default=None, description="Escalation rules (YAML); unset means the shipped rules."
    )
    parameters_file: Path | None = Field(
        default=None, description="Linkage parameters (JSON); unset means the shipped ones."
    )
    access_rules_file: Path | None = Field(
        default=None,
        description="Unusual-access rules over the audit log (YAML); unset means the shipped "
        "rules.",
    )
    access_review_days: int = Field(
        default=31,
        gt=0,
        description="How many days of the audit log the unusual-access review reads.",
    )

    # Access -----------------------------------------------------------------------------------
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs sign-in tokens; unset means one generated into the state "
        "folder (set it when more than one API process serves).",
    )
    token_minutes: int = 30
    login_max_failures: int = Field(
        default=5, description="Failed sign-ins within login_window_minutes before lock-out."
    )
    login_window_minutes: int = 15
    max_body_bytes: int = Field(
        default=5_000_000,
        description="Largest request body the API reads (413 above it): a full ingest batch "
        "of 1,000 events is well under 1 MB.",
    )
    ingest_events_per_minute: int = Field(
        default=120_000,
        description="Events one partner key may send over HTTP per minute (429 above it).",
    )
    search_parameters_refresh_s: float = Field(
        default=60.0,
        description="How long person search keeps the linkage parameter set it last read "
        "(the newest the pipeline learnt and published) before it reads again.",
    )
    purposes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PURPOSES),
        description="Purposes a look-up may declare, code to label (JSON in MAST_PURPOSES).",
    )

    lead_agency_quiet_purposes: list[str] = Field(
        default_factory=lambda: ["mash_triage"],
        description="Purposes whose person views do not notify the organisation holding the "
        "person's open case (JSON in MAST_LEAD_AGENCY_QUIET_PURPOSES).",
    )
    lead_agency_notice_days: int = Field(
        default=30,
        gt=0,
        description="How many days of other organisations' views a case holder is told of.",
    )

    break_glass_minutes: int = Field(
        default=15,
        gt=0,
        le=24 * 60,
        description="How long a break-glass into a shielded person or address lasts.",
    )
    break_glass_notice_days: int = Field(
        default=90,
        gt=0,
        description="How many days of break-glass a reviewer's queue and notifications read.",
    )

    triage_organisation: str | None = Field(
        default=None,
        description="The partnership's triage team (an agency code, e.g. OTHER): its users may "
        "acknowledge and assign every alert, not only those with their own organisation's "
        "records among the evidence. Unset: no organisation acts on every alert.",
    )

    operator_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics and /api/v1/status answer only a request that sends "
        "it (Authorization: Bearer, or X-Operator-Token); mast status sends it. Unset (one "
        "machine), they answer anyone who can reach the port.",
    )

    # HTTP -------------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_port: int = Field(
        default=8001, description="Health and metrics of a worker run without the API."
    )

    @field_validator("triage_organisation", mode="before")
    @classmethod
    def _triage_organisation_is_an_agency(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        code = value.strip().upper()
        if not code:
            return None
        from mast_core.events import Agency  # here: the settings import nothing of MAST's

        if code not in Agency.__members__:
            raise ValueError(
                f"MAST_TRIAGE_ORGANISATION must be one of {', '.join(Agency.__members__)}"
            )
        return code

    @model_validator(mode="after")
    def _refuse_embedded_defaults_in_production(self) -> Settings:
        if self.environment == "production" and self.clickhouse_url is None:
            raise ValueError("MAST_CLICKHOUSE_URL must name a ClickHouse server in production")
        return self

    # Derived ----------------------------------------------------------------------------------
    @property
    def clickhouse_dsn(self) -> str:
        if self.clickhouse_url:
            return self.clickhouse_url
        return f"chdb://{(self.state_dir / 'clickhouse').resolve()}"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def interactions_topic(self) -> str:
        return self.topic("interactions")

    @property
    def dead_letter_topic(self) -> str:
        return self.topic("dead-letters")

    @property
    def accepted_interactions_topic(self) -> str:
        """Validated events in one partition: the single order identity resolution follows."""
        return self.topic("interactions-accepted")

    @property
    def checkpoint_path(self) -> Path:
        return self.state_dir / "worker" / f"{self.app_id}.checkpoint"

    @property
    def resolved_interactions_topic(self) -> str:
        return self.topic("resolved-interactions")

    @property
    def identity_merges_topic(self) -> str:
        return self.topic("identity-merges")

    @property
    def alerts_topic(self) -> str:
        return self.topic("alerts")

    @property
    def corrections_topic(self) -> str:
        """Stewards' decisions (``correction`` records), one partition: validation appends
        each to the accepted log, so the resolver applies it in order with the events."""
        return self.topic("corrections")

    @property
    def identity_splits_topic(self) -> str:
        return self.topic("identity-splits")

    @property
    def retractions_topic(self) -> str:
        """Partners' retractions as resolution applied them (``event_retraction`` records,
        ids only): the sink deletes the withdrawn records' rows."""
        return self.topic("event-retractions")

    @property
    def possible_matches_topic(self) -> str:
        """Records the resolver kept for review beside the identity they may be
        (``possible_match`` records, ids and scores only), for the stewards' queue."""
        return self.topic("possible-matches")

    @property
    def linkage_parameters_topic(self) -> str:
        """Each linkage parameter set the resolver puts in force, keyed by its version."""
        return self.topic("linkage-parameters")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings(...)`` instead."""
    return Settings()
