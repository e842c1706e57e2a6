"""Partners' retractions, applied by the resolution stage in order with the events.

A retraction is an interaction (schema v3) whose ``retracts_event_id`` names an earlier event
of the same agency (docs/event-contract.md, "Retractions and corrections"). It travels the
way every event does: validated, appended to the accepted log, resolved in its place in the
one sequence, so a replay after a crash meets it at the same place and reaches the same
state. Here it takes the earlier record out of the resolver (``Resolver.retract``) and out
of everything escalation keeps (``EscalationEngine.forget``), and says what that changed,
for the pipeline to publish:

- an ``event_retraction`` record (ids, agency and time only): the sink deletes the record's
  rows wherever they hold its details, withdraws the alerts it was evidence for, and keeps
  this record as the audit that a retraction happened;
- an ``identity_split`` for each merge the record had bridged, undone, and the alerts each
  person parted still meets on their own records, raised anew (as after a steward's split);
- the alerts raised anew, under new ids, in the periods of alerts the record was evidence
  for, when the records left still meet the rule (docs/alerts.md, "Retractions");
- for a correction (a retraction that carries details of its own), the event itself, which
  the pipeline then resolves like any other: the corrected record, under its own event id.

This module knows no Kafka or Faust: the pipeline feeds it and publishes what it returns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mast_core.escalation.engine import Withdrawal
from mast_core.events import InteractionEvent
from mast_core.linkage.resolver import ResolverError
from mast_core.linkage.retraction import Retraction
from stream_processors.corrections import split_record
from stream_processors.resolution import ResolutionStage

WITHDRAWN = "WITHDRAWN"
CORRECTED = "CORRECTED"


@dataclass
class RetractionOutput:
    """What one retraction gives rise to, as Avro-ready records."""

    retraction: dict[str, Any]
    splits: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    """Alerts raised anew: for the people a bridge's undoing parted, as after a steward's
    split, and in the periods of alerts the withdrawn record was evidence for, when the
    records left still meet the rule (``forget_in_escalation``)."""
    replacement: InteractionEvent | None = None
    """A correction's own record, to resolve as an event once the retraction is applied."""


def retraction_id(event: InteractionEvent) -> str:
    """Derived from the retracting event's key: a replay publishes the same id."""
    return "R" + hashlib.blake2b(event.key.encode(), digest_size=8).hexdigest()


def apply_retraction(
    stage: ResolutionStage, event: InteractionEvent, received_at: datetime
) -> RetractionOutput | None:
    """Apply the retraction ``event`` (``retracts_event_id`` set); None when this event was
    resolved before (a partner sending it again).

    Raises ``RetractionRefused`` (a ``MastError``: the dead-letter topic) when the event
    named is unknown to resolution, another agency's, or retracted before; nothing changes
    then, and the partner may send a corrected retraction under the same event id.
    """
    key, target = event.key, event.retracted_key
    if key in stage.seen:
        stage.duplicates += 1
        return None
    if target is None:
        raise ValueError("not a retraction: retracts_event_id is not set")
    stage.resolver.retractions.refuse_if_before_upgrade(target, resolved=target in stage.seen)
    stage.clock.now = received_at
    retraction = stage.resolver.retract(target)
    rid = retraction_id(event)
    alerts = forget_in_escalation(stage, event, retraction, rid)
    splits = [
        split_record(split, {"correction_id": rid}, received_at) for split in retraction.splits
    ]
    withdrawal = event.is_withdrawal_only
    if withdrawal:
        stage.seen.add(key)  # a correction is marked seen when its own record is resolved
    record = {
        "retraction_id": rid,
        "agency": event.agency.value,
        "retracted_event_id": event.retracts_event_id,
        "retracting_event_id": event.event_id,
        "kind": WITHDRAWN if withdrawal else CORRECTED,
        "person_id": retraction.person_id,
        "merge_ids_undone": [split.merge_id for split in retraction.splits],
        "retracted_at": received_at,
    }
    return RetractionOutput(record, splits, alerts, None if withdrawal else event)


def forget_in_escalation(
    stage: ResolutionStage, event: InteractionEvent, retraction: Retraction, rid: str
) -> list[dict[str, Any]]:
    """Take the withdrawn record out of escalation (``EscalationEngine.forget``): its event,
    date of birth, case status and address, unless the person's other records carry them;
    the periods of the alerts it was evidence for (the sink withdraws those alerts); the
    merges it bridged, undone as the resolver undid them. Returns, as Avro ``alert``
    records, the alerts the records left still meet, raised anew under new ids."""
    resolver = stage.resolver

    def owner_of(person_id: str) -> str:
        try:
            return resolver.person_of(person_id)
        except ResolverError:  # not an id the resolver knows: the record stays where it is
            return person_id

    withdrawal = Withdrawal(
        agency=event.agency.value,
        event_id=event.retracts_event_id or "",
        person_id=retraction.previous_person_id or retraction.person_id,
        address_id=retraction.address_id,
        date_of_birth=retraction.birth,
        births_left=retraction.births_left,
        homes_left=retraction.homes_left,
        withdrawn_by=rid,
    )
    splits = [(s.kept_person_id, s.restored_person_id, s.merge_id) for s in retraction.splits]
    alerts = stage.engine.forget(withdrawal, splits, owner_of)
    return [alert.to_record() for alert in alerts]
