"""Stewards' corrections, applied by the resolution stage in order with the events.

A steward's decision is published on the corrections topic; validation appends each one to
the accepted log (marked by the ``CORRECTION_HEADER``), so the resolver meets it at one
place in the one sequence it resolves. A replay after a crash meets it at the same place
and reaches the same state, which is what makes corrections as safe to repeat as events.

This module knows no Kafka or Faust: the pipeline feeds it and publishes what it returns.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mast_core.errors import MastError
from mast_core.escalation.engine import Withdrawal
from mast_core.events import event_key
from mast_core.linkage.detach import Detach
from mast_core.linkage.resolver import ResolverError, Split
from mast_core.linkage.retraction import left_to
from stream_processors.resolution import ResolutionStage, merge_record

log = logging.getLogger(__name__)

CORRECTION_HEADER = "mast-record"
"""The Kafka header that marks an accepted-log message as a correction, not a batch."""
CORRECTION_MARK = b"correction"


class CorrectionNotApplied(MastError):
    """A correction the resolver cannot apply (an unknown or already undone merge, ids it
    does not know): kept on the dead-letter topic for an operator, like any bad input."""

    reason = "correction_not_applied"


@dataclass
class CorrectionOutput:
    """What one correction gives rise to, as Avro-ready records."""

    splits: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    """Alerts raised anew by a split for each of the people it parted (``alerts_after_split``),
    or by a confirmed match for the person it joined (``confirm_possible_match``)."""
    merges: list[dict[str, Any]] = field(default_factory=list)
    """The merge a steward's confirmation of a possible match makes (``identity_merge``)."""
    skipped: list[str] = field(default_factory=list)
    """Why each part that could not be applied was not (no personal data: ids only)."""


Headers = Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]] | None
"""A message's headers as Kafka clients give them: pairs, or a mapping."""


def is_correction(headers: Headers) -> bool:
    """Whether an accepted-log message carries a correction (by its header)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    return any(key == CORRECTION_HEADER and value == CORRECTION_MARK for key, value in pairs)


def apply_correction(
    stage: ResolutionStage, correction: dict[str, Any], received_at: datetime
) -> CorrectionOutput:
    """Apply one decoded ``correction`` record to the stage's resolver.

    SPLIT undoes each merge named (the records it moved go back to the identity it retired,
    and the two are never merged again) and detaches each record named (``records``: linked
    to the person directly, so no merge brought it; ``detach_records``); MARK_DIFFERENT
    records that two identities are not one person. Parts that cannot be applied are skipped
    and said; when nothing could be, ``CorrectionNotApplied`` is raised for the dead-letter
    topic. A correction applied before (the same id) changes nothing.
    """
    stage.clock.now = received_at
    resolver = stage.resolver
    output = CorrectionOutput()
    if correction["correction_id"] in stage.corrections_applied:
        output.skipped.append("already applied")  # the API published it again
        return output
    stage.corrections_applied = {*stage.corrections_applied, correction["correction_id"]}
    kind = correction["kind"]
    if kind == "SPLIT":
        for merge_id in correction["merge_ids"]:
            try:
                split = resolver.split(merge_id)
            except ResolverError as error:
                output.skipped.append(f"{merge_id}: {error}")
                continue
            output.splits.append(split_record(split, correction, received_at))
            output.alerts.extend(alerts_after_split(stage, split))
        if correction.get("records"):
            detach_records(stage, correction, received_at, output)
        if not output.splits:
            why = "; ".join(output.skipped) or "no merges or records named"
            raise CorrectionNotApplied(
                f"split {correction['correction_id']}: nothing to undo ({why})"
            )
    elif kind == "MARK_DIFFERENT":
        other = correction.get("other_person_id")
        try:
            if other is None:
                raise ResolverError("no other person named")
            resolver.mark_different(correction["person_id"], other)
        except ResolverError as error:
            raise CorrectionNotApplied(
                f"mark different {correction['correction_id']}: {error}"
            ) from None
    elif kind == "CONFIRM_MATCH":
        confirm_possible_match(stage, correction, received_at, output)
    else:
        raise CorrectionNotApplied(f"{kind} corrections are not applied by this version")
    for reason in output.skipped:
        log.warning("correction %s: skipped %s", correction["correction_id"], reason)
    return output


def detach_records(
    stage: ResolutionStage,
    correction: dict[str, Any],
    received_at: datetime,
    output: CorrectionOutput,
) -> None:
    """The records a SPLIT names (``records``): linked to the person directly, they leave
    for identities of their own (``Resolver.detach``). Each new identity is published as an
    ``identity_split`` with no merge and the records it took (``detached``), for the sink to
    move their rows; a merge a record bridged, undone, as any split. Escalation forgets each
    record as the person's, as it forgets a partner's withdrawn record, and raises again
    under new ids what the person's records left still meet."""
    resolver = stage.resolver
    keys = [event_key(r["agency"], r["event_id"]) for r in correction["records"]]
    try:
        detach = resolver.detach(correction["person_id"], keys, correction["correction_id"])
    except ResolverError as error:
        output.skipped.append(f"detach: {error}")
        return
    output.skipped.extend(detach.skipped)
    for split in detach.splits:
        output.splits.append(split_record(split, correction, received_at))
    by_key = {event_key(r["agency"], r["event_id"]): r for r in correction["records"]}
    for moved in detach.detached:
        records = [by_key[key] for key in moved.event_keys]
        seed = f"{moved.person_id}|{correction['correction_id']}"
        output.splits.append(
            {
                "split_id": "S" + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest(),
                "merge_id": "",
                "surviving_person_id": moved.from_person_id or detach.person_id,
                "restored_person_id": moved.person_id,
                "correction_id": correction["correction_id"],
                "moved_records": 1,
                "detached": [{"agency": r["agency"], "event_id": r["event_id"]} for r in records],
                "split_at": received_at,
            }
        )
    output.alerts.extend(_forget_detached(stage, detach, by_key, correction))


def _forget_detached(
    stage: ResolutionStage,
    detach: Detach,
    by_key: dict[str, dict[str, Any]],
    correction: dict[str, Any],
) -> list[dict[str, Any]]:
    """Escalation forgets the detached records as the person's (``EscalationEngine.forget``,
    as for a withdrawn record): they no longer count towards the person's alerts, and what
    the records left still meet is raised again, saying so. The merges the records bridged,
    undone, are applied to escalation once, with the first record forgotten; what each
    record leaves is read over every person those undone merges part the person into. The
    detached records start the new person's escalation history with their next record
    (docs/alerts.md)."""
    resolver = stage.resolver
    parted = [resolver._current(resolver.identity_by_person[detach.person_id])] + [
        resolver._current(resolver.identity_by_person[person])
        for split in detach.splits
        for person in (split.kept_person_id, split.restored_person_id)
    ]
    births, homes = left_to(resolver, parted)
    splits = [(s.kept_person_id, s.restored_person_id, s.merge_id) for s in detach.splits]
    owner = _owner(resolver, detach.person_id)
    alerts: list[dict[str, Any]] = []
    first = True
    for moved in detach.detached:
        identity = resolver.identities[resolver.identity_by_person[moved.person_id]]
        profile = resolver.profiles[identity.members[0]]
        for key in moved.event_keys:
            record = by_key[key]
            withdrawal = Withdrawal(
                agency=record["agency"],
                event_id=record["event_id"],
                # the first, as escalation knows the person before the undone merges
                # (it applies them with this one); the rest, the half that held them
                person_id=detach.previous_person_id if first else moved.from_person_id,
                address_id=profile.address_id,
                date_of_birth=profile.dob.as_date() if profile.dob else None,
                births_left=births,
                homes_left=homes,
                withdrawn_by=f"{correction['correction_id']}|{moved.person_id}",
                detached=True,
            )
            forgotten = stage.engine.forget(withdrawal, splits if first else (), owner)
            first = False
            alerts.extend(alert.to_record() for alert in forgotten)
    return alerts


def _owner(resolver: Any, fallback: str) -> Any:
    def owner_of(person_id: str) -> str:
        try:
            return str(resolver.person_of(person_id))
        except ResolverError:  # not an id the resolver knows: the record stays where it is
            return fallback

    return owner_of


def split_record(split: Split, correction: dict[str, Any], split_at: datetime) -> dict[str, Any]:
    """The Avro ``identity_split`` record: its id derives from the merge and the correction,
    so a replay publishes the same record."""
    seed = f"{split.merge_id}|{correction['correction_id']}"
    return {
        "split_id": "S" + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest(),
        "merge_id": split.merge_id,
        "surviving_person_id": split.kept_person_id,
        "restored_person_id": split.restored_person_id,
        "correction_id": correction["correction_id"],
        "moved_records": split.restored_profiles,
        "detached": [],
        "split_at": split_at,
    }


# Alerts after a split (issue 13: "alerts that relied on the wrong link are re-evaluated") -----
def alerts_after_split(stage: ResolutionStage, split: Split) -> list[dict[str, Any]]:
    """Separate the escalation engine's timelines as the resolver separated the identities,
    and return as Avro ``alert`` records the alerts each person's own records still meet,
    raised anew (``EscalationEngine.split``). The sink withdraws the merged person's alerts
    whose evidence the split leaves with two people; these take their place. The engine's
    clock is the correction's received time, so a replay raises the same alerts."""
    resolver = stage.resolver

    def owner_of(person_id: str) -> str:
        try:
            return resolver.person_of(person_id)
        except ResolverError:  # not an id the resolver knows: the record stays where it is
            return split.kept_person_id

    alerts = stage.engine.split(
        split.kept_person_id, split.restored_person_id, owner_of, split.merge_id
    )
    return [alert.to_record() for alert in alerts]


# A possible match confirmed by a steward (issue 13: the stewards' queue) -----------------------
def confirm_possible_match(
    stage: ResolutionStage,
    correction: dict[str, Any],
    received_at: datetime,
    output: CorrectionOutput,
) -> None:
    """CONFIRM_MATCH: ``person_id`` and ``other_person_id`` are one person. An ordinary,
    explained merge (``Resolver.confirm_match``), published like any merge with no
    triggering event, and the escalation engine joins their timelines and judges the
    merged person again, as for any merge. Ids it cannot merge (unknown, one already, or
    marked different since) raise ``CorrectionNotApplied`` for the dead-letter topic."""
    other = correction.get("other_person_id")
    try:
        if other is None:
            raise ResolverError("no other person named")
        merge = stage.resolver.confirm_match(
            correction["person_id"], other, correction["correction_id"]
        )
    except ResolverError as error:
        raise CorrectionNotApplied(
            f"confirm match {correction['correction_id']}: {error}"
        ) from None
    record = merge_record(merge, received_at)
    record["triggered_by_event_id"] = None  # a steward's decision, not an event
    output.merges.append(record)
    alerts = stage.engine.merge(merge.surviving_person_id, merge.retired_person_id)
    output.alerts.extend(alert.to_record() for alert in alerts)
