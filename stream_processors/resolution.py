"""The resolution stage: one accepted event in, the records to publish out.

Identity resolution is one sequence over all agencies' events (a person's records arrive on
any partner's partition), so this stage reads the single-partition accepted-interactions
log. Given the same state and the same log it produces the same ids, merges and alerts,
which is what makes a restart safe: the state is checkpointed together with the next log
offset, a restarted worker replays the log from there, and whatever it publishes again is
identical to what it published before the crash (downstream writes are keyed, so a repeat
is absorbed).

This module knows no Kafka or Faust: the agents feed it and publish what it returns.
"""

from __future__ import annotations

import logging
import os
import pickle
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
from mast_core.linkage.resolver import Merge, Resolution, Resolver
from mast_core.normalise.dates import parse_birth_date

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 2
"""2: repeats are recognised by (agency, event id), and identity ids derive from that key."""


class CheckpointError(MastError):
    reason = "checkpoint"


@dataclass
class StageOutput:
    """What one event gives rise to, as Avro-ready records. ``resolved`` holds the fields a
    resolved interaction adds to the interaction itself (see ``resolved_record``)."""

    event: InteractionEvent
    resolved: dict[str, Any]
    merges: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    resolution: Resolution | None = None


class ResolutionStage:
    def __init__(self, resolver: Resolver, engine: EscalationEngine) -> None:
        self.resolver = resolver
        self.engine = engine
        self.next_offset = 0
        """The accepted-log offset the state has not yet seen."""
        self.seen: set[str] = set()
        """Keys (``event_key``) of events already resolved: a partner re-sending one changes
        nothing. An event that failed is not in it, so its partner can send it again."""
        self.duplicates = 0

    @classmethod
    def fresh(
        cls, *, parameters_file: Path | None = None, rules_file: Path | None = None
    ) -> ResolutionStage:
        parameters = Parameters.load(parameters_file) if parameters_file else Parameters.default()
        rules = load_rules(rules_file) if rules_file else load_rules()
        return cls(Resolver(parameters), EscalationEngine(rules))

    # Processing -------------------------------------------------------------------------------
    def accepts(self, offset: int) -> bool:
        """False for an accepted-log message already in the state (a replay after restart)."""
        return offset >= self.next_offset

    def done(self, offset: int) -> None:
        """The message at ``offset`` is wholly resolved."""
        self.next_offset = max(self.next_offset, offset + 1)

    def process(self, event: InteractionEvent) -> StageOutput | None:
        """Resolve one event; None for an event seen before (a re-sent event).

        An event is marked seen only once it is wholly resolved: one that raises (and so goes
        to the dead-letter topic) can be sent again, corrected.
        """
        key = event.key
        if key in self.seen:
            self.duplicates += 1
            return None
        output = self._process(event)
        self.seen.add(key)
        return output

    def forget(self, event: InteractionEvent) -> None:
        """The event's outputs could not be published: let its partner send it again."""
        self.seen.discard(event.key)

    def _process(self, event: InteractionEvent) -> StageOutput:
        now = datetime.now(UTC)
        resolution = self.resolver.resolve(event)
        occurred_at = event.occurred_at or now
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
                "resolved_at": now,
                "search_keys": list(resolution.keys),
                "parameters_version": resolution.parameters_version,
            },
            merges=[merge_record(merge, now) for merge in resolution.merges],
            alerts=[alert.to_record() for alert in alerts],
            resolution=resolution,
        )

    # Checkpoints ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the state atomically: a crash mid-write leaves the previous checkpoint."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        with temporary.open("wb") as handle:
            pickle.dump(
                (CHECKPOINT_FORMAT, self.__dict__), handle, protocol=pickle.HIGHEST_PROTOCOL
            )
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> ResolutionStage:
        """A checkpoint written by ``save`` (the worker's own local file: it is a pickle)."""
        try:
            with path.open("rb") as handle:
                version, state = pickle.load(handle)  # noqa: S301 - our own state file
        except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from None
        if version != CHECKPOINT_FORMAT:
            raise CheckpointError(
                f"checkpoint {path} has format {version}, not {CHECKPOINT_FORMAT}"
            )
        stage = cls.__new__(cls)
        stage.__dict__.update(state)
        return stage

    @classmethod
    def load_or_fresh(
        cls, path: Path, *, parameters_file: Path | None = None, rules_file: Path | None = None
    ) -> ResolutionStage:
        if path.exists():
            stage = cls.load(path)
            log.info("resolution state restored at log offset %d", stage.next_offset)
            return stage
        return cls.fresh(parameters_file=parameters_file, rules_file=rules_file)


def resolved_record(output: StageOutput) -> dict[str, Any]:
    """The whole Avro ``resolved_interaction`` record."""
    return {"interaction": output.event.to_record(), **output.resolved}


def merge_record(merge: Merge, merged_at: datetime) -> dict[str, Any]:
    """The Avro ``identity_merge`` record."""
    return {
        "merge_id": merge.merge_id,
        "surviving_person_id": merge.surviving_person_id,
        "retired_person_id": merge.retired_person_id,
        "triggered_by_event_id": merge.triggered_by_event_id,
        "match_weight": merge.match_weight,
        "evidence": [
            {"field": c.field, "level": c.level, "weight": c.weight} for c in merge.evidence
        ],
        "merged_at": merged_at,
    }
