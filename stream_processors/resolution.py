"""The resolution stage: one accepted event in, the records to publish out.

Identity resolution is one sequence over all agencies' events (a person's records arrive on
any partner's partition), so this stage reads the single-partition accepted-interactions
log. Given the same state and the same log it produces the same ids, merges and alerts,
which is what makes a restart safe: the state is checkpointed together with the next log
offset, a restarted worker replays the log from there, and whatever it publishes again is
identical to what it published before the crash (downstream writes are keyed, so a repeat
is absorbed).

For that, nothing the stage publishes may depend on when it runs. Every time it stamps
(``resolved_at``, ``merged_at``, an alert's ``raised_at``, and the time of an event whose
partner gave none) is the event's received time: the time validation accepted it, which the
accepted log keeps with the event. A replay reads the same times from the log.

The resolver re-estimates its linkage parameters from the stream as it goes. Whenever the set
in force is not the one last published, the stage hands it out with the event after which it
changed (``StageOutput.parameters``, stamped with that event's received time), for the
linkage-parameters topic and from there the API's person search: the search scores with what
the pipeline has learnt, and a replay publishes the same sets at the same times.

This module knows no Kafka or Faust: the agents feed it and publish what it returns.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mast_core.errors import MastError
from mast_core.escalation import EscalationEngine, Observation
from mast_core.escalation.engine import Alert
from mast_core.escalation.rules import load_rules
from mast_core.events import InteractionEvent
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.resolver import (
    READABLE_FORMATS,
    STATE_FORMAT,
    Merge,
    Resolution,
    Resolver,
    upgrade_state,
)
from mast_core.linkage.scoring import Contribution
from mast_core.normalise.dates import parse_birth_date
from mast_core.seen_events import SeenEvents
from mast_core.state_files import StateFileError, read_state, write_state

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 3
"""2: repeats are recognised by (agency, event id), and identity ids derive from that key.
3: the seen events are one compact structure shared with escalation (``SeenEvents``), and
the stage's times come from the accepted log (``LogClock``)."""


_RESOLVER_FORMAT = "_resolver_state_format"


class CheckpointError(MastError):
    reason = "checkpoint"


class LogClock:
    """The time as the accepted log tells it: the received time of the event being resolved.

    The escalation engine asks its clock when it raises an alert; given this one, an alert
    replayed from the log is raised at the same time as the first time. A class rather than
    a closure, so the engine's state still pickles into the checkpoint.
    """

    def __init__(self) -> None:
        self.now = datetime(1970, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class StageOutput:
    """What one event gives rise to, as Avro-ready records. ``resolved`` holds the fields a
    resolved interaction adds to the interaction itself (see ``resolved_record``)."""

    event: InteractionEvent
    resolved: dict[str, Any]
    merges: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    resolution: Resolution | None = None
    parameters: dict[str, Any] | None = None
    """The resolver's parameter set (``parameters_record``) when it changed with this event
    (or this is the first event the stage resolves): to publish."""
    possible_matches: list[dict[str, Any]] = field(default_factory=list)
    """The record kept for review beside each identity it may be (``possible_match_records``),
    for the stewards' queue."""


class ResolutionStage:
    published_version: str | None = None
    """The version of the parameter set last handed out for publishing (None: none yet).
    Class-level defaults, so a checkpoint written before sets were published still loads:
    its set is published with the next event."""
    published_at: datetime | None = None
    """When that set came into force: the received time of the event it was handed out with."""
    corrections_applied: frozenset[str] | set[str] = frozenset()
    """Ids of the stewards' corrections already applied (``stream_processors.corrections``):
    the API publishes a decision again under the same id when Kafka's answer was lost."""

    def __init__(
        self,
        resolver: Resolver,
        engine: EscalationEngine,
        clock: LogClock | None = None,
        seen: SeenEvents | None = None,
    ) -> None:
        """``engine`` should have been made with the same ``clock`` and ``seen`` (``fresh``
        does this): then its alerts carry log times and it remembers events in the one
        structure."""
        self.resolver = resolver
        self.engine = engine
        self.clock = clock or LogClock()
        self.next_offset = 0
        """The accepted-log offset the state has not yet seen."""
        self.seen = seen if seen is not None else engine.seen_events
        """Keys (``event_key``) of events already resolved, for ever: a partner re-sending
        one, however much later, changes nothing. An event that failed is not in it, so its
        partner can send it again. Shared with the escalation engine."""
        self.duplicates = 0
        self.published_version = None
        self.published_at = None

    @classmethod
    def fresh(
        cls, *, parameters_file: Path | None = None, rules_file: Path | None = None
    ) -> ResolutionStage:
        parameters = Parameters.load(parameters_file) if parameters_file else Parameters.default()
        rules = load_rules(rules_file) if rules_file else load_rules()
        clock, seen = LogClock(), SeenEvents()
        return cls(Resolver(parameters), EscalationEngine(rules, clock, seen), clock, seen)

    # Processing -------------------------------------------------------------------------------
    def accepts(self, offset: int) -> bool:
        """False for an accepted-log message already in the state (a replay after restart)."""
        return offset >= self.next_offset

    def done(self, offset: int) -> None:
        """The message at ``offset`` is wholly resolved."""
        self.next_offset = max(self.next_offset, offset + 1)

    def process(
        self, event: InteractionEvent, received_at: datetime | None = None
    ) -> StageOutput | None:
        """Resolve one event; None for an event seen before (a re-sent event).

        ``received_at`` is when validation accepted the event, as the accepted log carries
        it; the pipeline always gives it. A caller with no log (a test, a one-off tool) may
        leave it out and gets the wall clock, and with it no promise that a second run
        stamps the same times.

        An event is marked seen only once it is wholly resolved: one that raises (and so goes
        to the dead-letter topic) can be sent again, corrected.
        """
        key = event.key
        if key in self.seen:
            self.duplicates += 1
            return None
        try:
            output = self._process(event, received_at or datetime.now(UTC))
        except BaseException:
            self.seen.discard(key)  # escalation may have noted it before the failure
            raise
        self.seen.add(key)
        return output

    def parameters_changed(self, at: datetime) -> dict[str, Any] | None:
        """The resolver's parameter set as a record to publish, when it is not the set last
        published (which it then becomes, in force from ``at``); None when it is. Asked after
        every event, so a re-estimate is published with the event that caused it."""
        parameters = self.resolver.parameters
        if parameters.version == self.published_version:
            return None
        self.published_version, self.published_at = parameters.version, at
        return parameters_record(parameters, at)

    def published_parameters(self) -> dict[str, Any] | None:
        """The set last published, as it was published, to publish once more at start-up
        (the same record, so the same bytes and the same row): a consumer that missed it
        still learns the set in force. None when nothing has been published yet, or the set
        in force is no longer it (then the next event publishes it)."""
        parameters = self.resolver.parameters
        if self.published_at is None or parameters.version != self.published_version:
            return None
        return parameters_record(parameters, self.published_at)

    def forget(self, event: InteractionEvent) -> None:
        """The event's outputs could not be published: let its partner send it again."""
        self.seen.discard(event.key)

    def _process(self, event: InteractionEvent, received_at: datetime) -> StageOutput:
        self.clock.now = received_at
        resolution = self.resolver.resolve(event)
        occurred_at = event.occurred_at or received_at
        alerts: list[Alert] = []
        for merge in resolution.merges:
            alerts.extend(self.engine.merge(merge.surviving_person_id, merge.retired_person_id))
        birth = parse_birth_date(event.subject.date_of_birth)
        alerts.extend(
            self.engine.observe(
                Observation(
                    event_id=event.event_id,
                    occurred_at=occurred_at,
                    agency=event.agency.value,
                    event_type=event.event_type,
                    person_id=resolution.person_id,
                    address_id=resolution.address_id,
                    date_of_birth=birth.as_date() if birth else None,
                    case_status=event.case_status.value if event.case_status else None,
                )
            )
        )
        return StageOutput(
            event=event,
            resolved={
                "person_id": resolution.person_id,
                "address_id": resolution.address_id,
                "match_weight": resolution.match_weight,
                "match_reason": resolution.reason,
                "resolved_at": received_at,
                "search_keys": list(resolution.keys),
                "parameters_version": resolution.parameters_version,
                "match_contributions": contribution_records(resolution.contributions),
            },
            merges=[merge_record(merge, received_at) for merge in resolution.merges],
            alerts=[alert.to_record() for alert in alerts],
            resolution=resolution,
            parameters=self.parameters_changed(received_at),
            possible_matches=possible_match_records(event, resolution, received_at),
        )

    # Checkpoints ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the state atomically: a crash mid-write leaves the previous checkpoint. The
        resolver's own state format goes with it: the resolver inside is pickled whole, so a
        checkpoint is readable only by a MAST whose resolver has the same layout."""
        write_state(path, CHECKPOINT_FORMAT, {**self.__dict__, _RESOLVER_FORMAT: STATE_FORMAT})

    @classmethod
    def load(cls, path: Path) -> ResolutionStage:
        """A checkpoint written by ``save`` (the worker's own local file: it is a pickle)."""
        try:
            version, state = read_state(path)
        except StateFileError as exc:
            raise CheckpointError(f"cannot read checkpoint: {exc}") from None
        resolver_format = state.pop(_RESOLVER_FORMAT, None) if isinstance(state, dict) else None
        if version != CHECKPOINT_FORMAT or resolver_format not in READABLE_FORMATS:
            raise CheckpointError(
                f"checkpoint {path} has format {version} (resolver state {resolver_format}), "
                f"and this MAST reads only format {CHECKPOINT_FORMAT} (resolver state "
                f"{' or '.join(map(str, READABLE_FORMATS))}). Move the file aside and start "
                "again: the resolution state "
                "is rebuilt by replaying the accepted-interactions log from its start (kept "
                "for ever unless MAST_RESOLUTION_LOG_RETENTION_DAYS says otherwise)"
            )
        stage = cls.__new__(cls)
        stage.__dict__.update(state)
        upgrade_state(stage.resolver, resolver_format)  # an older resolver state, brought up
        return stage

    @classmethod
    def load_or_fresh(
        cls, path: Path, *, parameters_file: Path | None = None, rules_file: Path | None = None
    ) -> ResolutionStage:
        """The worker's state at start. A restored state is millions of long-lived objects:
        they are frozen out of the garbage collector's reach (``FREEZE_EVERY`` says why)."""
        if path.exists():
            stage = cls.load(path)
            gc.freeze()
            log.info("resolution state restored at log offset %d", stage.next_offset)
            return stage
        return cls.fresh(parameters_file=parameters_file, rules_file=rules_file)


def resolved_record(output: StageOutput) -> dict[str, Any]:
    """The whole Avro ``resolved_interaction`` record."""
    return {"interaction": output.event.to_record(), **output.resolved}


def parameters_record(parameters: Parameters, published_at: datetime) -> dict[str, Any]:
    """A parameter set to publish: its version, when it came into force, and the set itself
    (``messaging.parameter_sets`` puts it on the wire)."""
    return {
        "version": parameters.version,
        "published_at": published_at,
        "parameters": parameters.to_dict(),
    }


def possible_match_records(
    event: InteractionEvent, resolution: Resolution, found_at: datetime
) -> list[dict[str, Any]]:
    """The Avro ``possible_match`` records of one resolution: ids, the score and its
    evidence only. Each id derives from the record's key and the candidate, so a replay
    publishes the same records."""
    return [
        {
            "possible_id": "Q"
            + hashlib.blake2b(f"{event.key}|{p.person_id}".encode(), digest_size=8).hexdigest(),
            "agency": event.agency.value,
            "event_id": event.event_id,
            "person_id": resolution.person_id,
            "candidate_person_id": p.person_id,
            "match_weight": p.match_weight,
            "reason": p.reason,
            "evidence": contribution_records(p.contributions),
            "found_at": found_at,
        }
        for p in resolution.possible_matches
        if p.person_id != resolution.person_id
    ]


def merge_record(merge: Merge, merged_at: datetime) -> dict[str, Any]:
    """The Avro ``identity_merge`` record."""
    return {
        "merge_id": merge.merge_id,
        "surviving_person_id": merge.surviving_person_id,
        "retired_person_id": merge.retired_person_id,
        "triggered_by_event_id": merge.triggered_by_event_id,
        "match_weight": merge.match_weight,
        "evidence": contribution_records(merge.evidence),
        "merged_at": merged_at,
    }


def contribution_records(contributions: Iterable[Contribution]) -> list[dict[str, Any]]:
    """Per-field contributions as Avro ``FieldContribution`` records: a merge's evidence,
    a resolved interaction's ``match_contributions`` (v4)."""
    return [{"field": c.field, "level": c.level, "weight": c.weight} for c in contributions]
