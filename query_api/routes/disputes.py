"""Disputes: "not the same person" (corrections issue, item 2).

A practitioner (or a manager or admin: whoever opens person pages) marks records on a
person's page as not this person, with a reason and the purpose of the look-up, as a person
view declares it. A steward, the partnership's data-quality officer, works the queue of
disputes (the disputed records beside the person's other records, minimum dataset only,
with the evidence that linked them) and decides: ``split`` publishes a correction for the
resolver (``query_api.corrections``) and answers once Kafka has it; ``keep`` publishes
nothing. Every request is audited, refusals included (``query_api.audited``).

The same queue holds the resolver's possible matches, records it kept for review beside an
identity they may be (``query_api.possible_matches``), each its own kind of entry with the
two sides' records and the evidence; a steward decides ``merge`` (confirm: a CONFIRM_MATCH
correction, an ordinary explained merge) or ``different`` (a MARK_DIFFERENT correction, a
lasting cannot-link) on the same decision route.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field, PrivateAttr

from query_api.answers import refusals
from query_api.audited import Audited, Declared, Trail, audit_of, auditing, declared_purpose
from query_api.bodies import RequestBody
from query_api.context import Context, SignedIn
from query_api.corrections import match_correction, split_correction
from query_api.disputes import (
    Disputes,
    Key,
    Plan,
    missing_sentence,
    new_dispute_id,
)
from query_api.pages import Address
from query_api.possible_matches import (
    DIFFERENT,
    MERGE,
    Entry,
    PossibleMatches,
    is_possible_match,
)
from query_api.routes.persons import Purposeful, SubjectId
from query_api.shield_guard import guard_person
from query_api.shielding import Shielding
from query_api.stewards import ROLE_PROBLEM, STEWARD
from sinks.clickhouse.tables import DisputeDecisionRow, DisputeRow

router = APIRouter(prefix="/api/v1", tags=["disputes"], responses=refusals(401, 422))

MAX_RECORDS = 200
"""Records one dispute may name."""
ONLY_STEWARDS = "only a steward works the disputes queue and decides disputes"
NOT_A_STEWARD = "role: not_a_steward"
RETRY_AFTER = "30"

Linked = Literal["directly", "by_merge", "no_longer"]
EventId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"\S")]
Sentence = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


# Bodies and answers ----------------------------------------------------------------------------
class DisputeRequest(Purposeful):
    """Records on the person's page that are not this person, why, and the purpose (as for
    opening the page: a code from GET /purposes, with an optional detail)."""

    event_ids: Annotated[
        list[EventId],
        Field(
            min_length=1,
            max_length=MAX_RECORDS,
            description="Ids of interactions on this person's page (`event_id` of the "
            "page's `interactions`); one naming two agencies' records disputes both.",
        ),
    ]
    reason: Annotated[
        Sentence, Field(description="Why these records are not this person (1–500 characters).")
    ]


class DisputeRaised(BaseModel):
    dispute_id: str
    person_id: str = Field(description="The person whose page showed the records (current id).")
    event_ids: list[str]
    status: Literal["open"]
    raised_at: datetime


DecisionKind = Literal["split", "keep", "merge", "different"]
DISPUTE_DECISIONS = ("split", "keep")
MATCH_DECISIONS = (MERGE, DIFFERENT)


class DecisionRequest(RequestBody):
    """For a dispute, ``split`` (the records are not this person) or ``keep`` (they are);
    for a possible match, ``merge`` (they are one person) or ``different`` (they are not).
    The note says why (1–500 characters)."""

    decision: Annotated[
        DecisionKind,
        Field(
            description="A dispute (`kind` dispute) takes `split` or `keep`; a possible "
            "match (`kind` possible_match) takes `merge` or `different`. Another is 422."
        ),
    ]
    note: Sentence


CorrectionState = Literal["pending", "applied", "refused"]


class Decision(BaseModel):
    dispute_id: str = Field(description="The queue entry decided: a dispute or a possible match.")
    decision: DecisionKind
    note: str
    decided_by: str
    decided_org: str
    decided_at: datetime
    correction_id: str | None = Field(
        description="The correction published to the corrections topic (split, merge, "
        "different); null for keep."
    )
    merge_ids: list[str] = Field(description="The merges the split undoes, latest first.")
    correction_state: CorrectionState | None = Field(
        default=None,
        description="What became of the correction: `pending` (published; the resolver "
        "has not applied it yet, or its effect is not stored yet), `applied` (the split is "
        "stored, or the two people of a confirmed match are one person now) or `refused` "
        "(the resolver could not apply it: the people changed since; an operator sees the "
        "dead letter). Null for keep, and for `different` until refused.",
    )


class LinkContribution(BaseModel):
    field: str
    level: str
    weight: float


class MergeEvidence(BaseModel):
    """A merge of one of the person's ids into another, and the evidence for it."""

    merge_id: str
    surviving_person_id: str
    retired_person_id: str
    merged_at: datetime
    triggered_by_event_id: str | None
    match_weight: float | None
    evidence: list[LinkContribution] = Field(
        description="Each field's part in the merge's match weight, as the resolver stored it."
    )
    undone_by_split: bool = Field(description="A split of this dispute would undo it.")


class DisputeRecord(BaseModel):
    """A record as a steward sees it: the minimum dataset and why it was linked. Never a
    contact or a case status; never the details of a shielded person, nor a shielded
    address (``withhold_shielded``)."""

    _address_id: str = PrivateAttr(default="")

    agency: str
    event_id: str
    source_system: str | None
    source_record_id: str | None
    event_type: str | None
    occurred_at: datetime | None
    event_time: datetime = Field(description="When it happened, or when MAST received it.")
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    gender: str
    address: Address
    held_as: str = Field(description="The person id the record was resolved to.")
    linked: Linked = Field(
        description="`directly`: resolved to the person's current id; `by_merge`: resolved "
        "to an id merged into the person since (`merge_id`); `no_longer`: not this "
        "person's record any more (split off since)."
    )
    merge_id: str | None = Field(description="The merge that brought it (`by_merge`).")
    match_reason: str
    match_weight: float | None
    shielded: bool = Field(
        default=False,
        description="The record is a shielded person's: names, date of birth and gender "
        "are withheld (null or empty), as any shielded address is.",
    )


class SplitPlan(BaseModel):
    possible: bool
    merge_ids: list[str] = Field(description="The merges a split would undo, latest first.")
    directly_linked: list[str] = Field(
        description="Disputed records (event ids) linked to the person directly, not by a "
        "merge: a split detaches each, to an identity of its own that is never linked to "
        "the person again."
    )
    explanation: str | None = Field(description="Why a split is not possible, when it is not.")


class DisputeItem(BaseModel):
    kind: Literal["dispute"] = Field(
        default="dispute", description="A practitioner's dispute: records on a person's page."
    )
    dispute_id: str
    status: Literal["open", "split", "kept"]
    person_id: str = Field(description="The person whose page showed the records, as raised.")
    current_person_id: str = Field(description="The person those records belong to now.")
    person_ids: list[str] = Field(description="Every id of that person, the current one first.")
    reason: str
    raised_by: str
    raised_org: str
    raised_at: datetime
    disputed: list[DisputeRecord]
    other_records: list[DisputeRecord] = Field(
        description="The person's other records, latest first (at most 100)."
    )
    other_records_total: int
    merges: list[MergeEvidence] = Field(
        description="The merges that brought each of the person's ids and the disputed "
        "records' ids into it, latest first."
    )
    split: SplitPlan
    decision: Decision | None


class PossibleMatchItem(BaseModel):
    """A record the resolver kept for review beside an identity it may be: the two people
    side by side (minimum dataset only) with the evidence the resolver weighed."""

    kind: Literal["possible_match"] = Field(
        default="possible_match", description="The resolver's possible match (kept for review)."
    )
    dispute_id: str = Field(description="The possible match's id (Q…): decide it by this id.")
    status: Literal["open", "merged", "different"] = Field(
        description="`open`; or decided: `merged` (confirmed) or `different`."
    )
    record: DisputeRecord | None = Field(
        description="The record kept for review; null when it is no longer held."
    )
    person_id: str = Field(description="The person the record belongs to now.")
    person_ids: list[str] = Field(description="Every id of that person, the current one first.")
    person_records: list[DisputeRecord] = Field(
        description="That person's other records, latest first (at most 20)."
    )
    candidate_person_id: str = Field(description="The person it may be, now.")
    candidate_person_ids: list[str]
    candidate_records: list[DisputeRecord] = Field(
        description="The candidate's records, latest first (at most 20)."
    )
    match_weight: float = Field(description="The record's match weight against the candidate.")
    reason: str = Field(description="The resolver's explanation of the weight, in words.")
    evidence: list[LinkContribution] = Field(
        description="Each field's part in the weight, as the resolver weighed it."
    )
    found_at: datetime = Field(description="When the record was received and kept for review.")
    decision: Decision | None


QueueItem = Annotated[DisputeItem | PossibleMatchItem, Field(discriminator="kind")]


# Raising ---------------------------------------------------------------------------------------
RAISE_DISPUTE = Audited("raise_dispute", asked=("person_id",), person="person_id")


@auditing(RAISE_DISPUTE)
def _dispute_raised(
    ctx: Context, who: SignedIn, person_id: SubjectId, body: DisputeRequest
) -> Declared[tuple[str, DisputeRequest]]:
    """The purpose as a person view declares it in a body; a steward (who opens no person
    pages) is refused."""
    trail = Trail(ctx, who, RAISE_DISPUTE)
    if who.role == STEWARD:
        trail.purpose = declared_purpose(body.purpose)
        trail.refuse(
            status.HTTP_403_FORBIDDEN,
            "disputes are raised from a person's page, which stewards do not open",
            asked={"person_id": person_id, "problems": [ROLE_PROBLEM]},
            person_ids=[person_id],
        )
    trail.require_purpose(body.purpose, body.purpose_detail.strip(), person_ids=[person_id])
    return Declared(trail, (person_id, body))


@router.post(
    "/persons/{person_id}/disputes",
    summary="Dispute records on a person's page: not this person (with a reason and a purpose)",
    description=(
        "The records must be on this person's page (their `event_id`s among its "
        "interactions); otherwise 422 naming those that are not. The dispute waits in the "
        "stewards' queue (GET /disputes). Audited with the person and the records."
    ),
    responses=refusals(
        400,
        403,
        404,
        413,
        _403="A steward (who opens no person pages; audited).",
        _404="No such person (audited as `not_found`).",
    ),
)
def raise_dispute(
    raised: Annotated[Declared[tuple[str, DisputeRequest]], Depends(_dispute_raised)],
) -> DisputeRaised:
    trail, (person_id, body) = raised.trail, raised.asked
    event_ids = list(dict.fromkeys(body.event_ids))
    store = Disputes(trail.ctx.client, trail.ctx.lock)
    asked: dict[str, Any] = {"person_id": person_id}
    guard_person(trail, person_id, asked=asked, event_ids=event_ids)  # their page needs it
    page = store.on_page(person_id, event_ids)
    if page is None:
        trail.refuse(
            status.HTTP_404_NOT_FOUND,
            "no such person",
            outcome="not_found",
            asked=asked,
            person_ids=[person_id],
            event_ids=event_ids,
        )
    current, _ids, found = page
    missing = [e for e in event_ids if e not in found]
    if missing:
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            missing_sentence(missing),
            asked={**asked, "problems": ["event_ids: not_on_page"]},
            person_ids=[current],
            event_ids=event_ids,
        )
    keys = [(agency, e, held) for e in event_ids for agency, held in found[e]]
    row = DisputeRow(
        dispute_id=new_dispute_id(),
        person_id=current,
        agencies=[k[0] for k in keys],
        event_ids=[k[1] for k in keys],
        held_as=[k[2] for k in keys],
        reason=body.reason,
        raised_by=trail.who.username,
        raised_org=trail.who.organisation,
        raised_at=datetime.now(UTC),
    )
    store.add(row)
    trail.record(
        asked={**asked, "dispute_id": row.dispute_id},
        person_ids=_involved(current, row.held_as),
        event_ids=event_ids,
    )
    return DisputeRaised(
        dispute_id=row.dispute_id,
        person_id=current,
        event_ids=event_ids,
        status="open",
        raised_at=row.raised_at,
    )


# The queue -------------------------------------------------------------------------------------
def _steward(trail: Trail, **recorded: Any) -> None:
    """Refuses (403, audited) anyone but a steward."""
    if trail.who.role != STEWARD:
        asked = dict(recorded.pop("asked", {}))
        trail.refuse(
            status.HTTP_403_FORBIDDEN,
            ONLY_STEWARDS,
            asked={**asked, "problems": [NOT_A_STEWARD]},
            **recorded,
        )


@router.get(
    "/disputes",
    summary="The stewards' queue: disputes and possible matches, open ones first, each with "
    "the records side by side and the evidence",
    description=(
        "Stewards only (403 for everyone else, audited). Two kinds of entry (`kind`): "
        "disputes, then the resolver's possible matches (records it kept for review), up to "
        "`limit` of each. Open ones come first, oldest first; then decided ones, latest "
        "first. A dispute shows the minimum dataset of the disputed records and of the "
        "person's other records (names, date of birth, gender, address, agency, system, "
        "reference, dates, event type), never contacts or case status; each record's "
        "stored match reason and weight; the evidence of each merge of the person's ids; "
        "and what a split would undo. A possible match shows the record kept for review, "
        "each side's records (the same minimum dataset) and the evidence the resolver "
        "weighed; one between two people who are one person now (merged since), or "
        "between two people another possible match's decision concerned, has left the "
        "queue. Audited with every person and record shown."
    ),
    responses=refusals(403, _403="Not a steward (audited)."),
)
def list_disputes(
    trail: Annotated[Trail, audit_of("list_disputes", asked=("status",))],
    status_: Annotated[
        Literal["open", "decided", "all"],
        Query(alias="status", description="`open`, `decided`, or `all` (open ones first)."),
    ] = "all",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    kind: Annotated[
        Literal["dispute", "possible_match", "all"],
        Query(description="`dispute`, `possible_match`, or `all` (disputes first)."),
    ] = "all",
) -> list[QueueItem]:
    asked = {"status": status_, "limit": limit, "kind": kind}
    _steward(trail, asked=asked)
    store = Disputes(trail.ctx.client, trail.ctx.lock)
    items: list[DisputeItem | PossibleMatchItem] = []
    people: set[str] = set()
    events: list[str] = []
    if kind in ("dispute", "all"):
        disputes = store.listed(status_, limit)
        plans, merges = store.plans(disputes)
        states = store.correction_states(d["decision"] for d in disputes if d["decision"])
        for d, plan in zip(disputes, plans, strict=True):
            item = _item(store, d, plan, merges, states)
            items.append(item)
            people.update([item.person_id, *item.person_ids])
            events += [r.event_id for r in [*item.disputed, *item.other_records]]
    if kind in ("possible_match", "all"):
        possible = PossibleMatches(trail.ctx.client, trail.ctx.lock)
        entries = possible.entries(status_, limit)
        states = store.correction_states(e.decision for e in entries if e.decision)
        for entry in entries:
            match = _possible_item(entry, states)
            items.append(match)
            people.update([*match.person_ids, *match.candidate_person_ids])
            shown = [match.record] if match.record else []
            events += [
                r.event_id for r in [*shown, *match.person_records, *match.candidate_records]
            ]
    withhold_shielded(trail, [r for item in items for r in _records_of(item)])
    trail.record(asked=asked, person_ids=sorted(people), event_ids=events)
    return items


def _records_of(item: DisputeItem | PossibleMatchItem) -> list[DisputeRecord]:
    if isinstance(item, DisputeItem):
        return [*item.disputed, *item.other_records]
    shown = [item.record] if item.record else []
    return [*shown, *item.person_records, *item.candidate_records]


def _possible_item(entry: Entry, states: dict[str, str]) -> PossibleMatchItem:
    """A possible match as the queue shows it: each record by ``_record`` (minimum dataset),
    linked as seen from its own side."""
    row, decision = entry.row, entry.decision

    def shown(record: dict[str, Any], current: str) -> DisputeRecord:
        return _record(record, Plan(current, [current], {}), {})

    return PossibleMatchItem(
        dispute_id=row["possible_id"],
        status=entry.status,
        record=None if entry.record is None else shown(entry.record, entry.person),
        person_id=entry.person,
        person_ids=entry.person_ids,
        person_records=[shown(r, entry.person) for r in entry.person_records],
        candidate_person_id=entry.candidate,
        candidate_person_ids=entry.candidate_ids,
        candidate_records=[shown(r, entry.candidate) for r in entry.candidate_records],
        match_weight=row["match_weight"],
        reason=row["reason"],
        evidence=[LinkContribution(**c) for c in row["evidence"]],
        found_at=row["found_at"],
        decision=None
        if decision is None
        else _decision(
            decision,
            "applied"
            if decision["decision"] == MERGE and entry.person == entry.candidate
            else states.get(decision["correction_id"]),
        ),
    )


def _item(
    store: Disputes,
    dispute: dict[str, Any],
    plan: Plan,
    merges: dict[str, dict[str, Any]],
    states: dict[str, str],
) -> DisputeItem:
    decision = dispute["decision"]
    shown = [r for r in plan.records.values()]
    others, total = store.others(plan.ids, plan.records.keys() | set(_keys(dispute)))
    undone = set(plan.merge_ids)
    retired = [*plan.ids[1:], *(r["person_id"] for r in shown)]
    evidence = {m["merge_id"]: m for p in retired if (m := merges.get(p)) is not None}
    return DisputeItem(
        dispute_id=dispute["dispute_id"],
        status=_status(decision),
        person_id=dispute["person_id"],
        current_person_id=plan.current,
        person_ids=plan.ids,
        reason=dispute["reason"],
        raised_by=dispute["raised_by"],
        raised_org=dispute["raised_org"],
        raised_at=dispute["raised_at"],
        disputed=[_record(r, plan, merges) for r in shown],
        other_records=[_record(r, plan, merges) for r in others],
        other_records_total=total,
        merges=[
            MergeEvidence(
                merge_id=m["merge_id"],
                surviving_person_id=m["surviving_person_id"],
                retired_person_id=m["retired_person_id"],
                merged_at=m["merged_at"],
                triggered_by_event_id=m["triggered_by_event_id"],
                match_weight=m["match_weight"],
                evidence=[LinkContribution(**c) for c in m["evidence"]],
                undone_by_split=m["merge_id"] in undone,
            )
            for m in sorted(evidence.values(), key=lambda m: m["merged_at"], reverse=True)
        ],
        split=_split_plan(plan, open_=decision is None),
        decision=None
        if decision is None
        else _decision(decision, states.get(decision["correction_id"])),
    )


def _status(decision: dict[str, Any] | None) -> Literal["open", "split", "kept"]:
    if decision is None:
        return "open"
    return "split" if decision["decision"] == "split" else "kept"


def _keys(dispute: dict[str, Any]) -> list[Key]:
    return list(zip(dispute["agencies"], dispute["event_ids"], strict=True))


def _record(record: dict[str, Any], plan: Plan, merges: dict[str, dict[str, Any]]) -> DisputeRecord:
    held_as = record["person_id"]
    linked: Linked = record.get("linked") or ("directly" if held_as == plan.current else "by_merge")
    merge = merges.get(held_as) if linked == "by_merge" else None
    shown = DisputeRecord(
        agency=record["agency"],
        event_id=record["event_id"],
        source_system=record["source_system"],
        source_record_id=record["source_record_id"],
        event_type=record["event_type"] or None,
        occurred_at=record["occurred_at"],
        event_time=record["event_time"],
        given_name=record["given_name"],
        family_name=record["family_name"],
        date_of_birth=record["date_of_birth"],
        gender=record["gender"],
        address=Address(
            line1=record["address_line1"],
            line2=record["address_line2"],
            town=record["town"],
            postcode=record["postcode"],
        ),
        held_as=held_as,
        linked=linked,
        merge_id=merge["merge_id"] if merge else None,
        match_reason=record["match_reason"],
        match_weight=record["match_weight"],
    )
    shown._address_id = record.get("address_id") or ""
    return shown


def withhold_shielded(trail: Trail, records: list[DisputeRecord]) -> None:
    """Takes off these records what shielding hides from a steward: a shielded address
    (every record written there), and a shielded person's names, date of birth and gender
    (``query_api.shielding``); one judgement for the whole queue."""
    shielding = Shielding(trail.ctx.client, trail.ctx.lock)
    addresses = shielding.addresses({r._address_id for r in records})
    people = shielding.people({r.held_as for r in records})
    for record in records:
        if record._address_id in addresses:
            record.address = Address(line1=None, line2=None, town=None, postcode=None)
        if record.held_as in people:
            record.given_name = record.family_name = record.date_of_birth = None
            record.gender, record.shielded = "", True


def _split_plan(plan: Plan, *, open_: bool) -> SplitPlan:
    explanation = None
    if not open_:
        explanation = "the dispute has been decided"
    elif not plan.merge_ids and not plan.directly_linked:
        explanation = NOTHING_TO_SPLIT
    return SplitPlan(
        possible=explanation is None,
        merge_ids=plan.merge_ids,
        directly_linked=[event_id for _agency, event_id in plan.directly_linked],
        explanation=explanation,
    )


def _decision(row: dict[str, Any], state: str | None = None) -> Decision:
    """A decision as the queue shows it. ``state``: what became of its correction, as read
    (``Disputes.correction_states``); a correction neither applied nor refused yet is
    ``pending``, and one whose effect cannot be read (``different``) is left null."""
    if state is None and row["correction_id"] and row["decision"] in ("split", MERGE):
        state = "pending"
    return Decision(
        correction_state=state,  # type: ignore[arg-type]  # one of CorrectionState
        dispute_id=row["dispute_id"],
        decision=row["decision"],
        note=row["note"],
        decided_by=row["decided_by"],
        decided_org=row["decided_org"],
        decided_at=row["decided_at"],
        correction_id=row["correction_id"] or None,
        merge_ids=list(row["merge_ids"]),
    )


# Deciding --------------------------------------------------------------------------------------
NOTHING_TO_SPLIT = (
    "the disputed records are no longer this person's (split off since): there is nothing to split"
)
DisputeId = Annotated[str, Path(max_length=64)]


@router.post(
    "/disputes/{dispute_id}/decision",
    summary="Decide a dispute: split (a correction for the resolver) or keep, with a note",
    description=(
        "Stewards only (403 for everyone else, audited). The decisions each kind of entry "
        "accepts (another is 422, audited):\n\n"
        "- **dispute** (`D…`): `split` publishes a SPLIT correction: the merges that brought "
        "the disputed records, latest first, are undone, and each disputed record linked to "
        "the person directly (no merge brought it) is detached, to an identity of its own "
        "that is never linked to the person again; `keep` publishes nothing. A dispute "
        "whose records are no longer the person's is 409.\n"
        "- **possible match** (`Q…`): `merge` publishes a CONFIRM_MATCH correction for the "
        "two people as they are now (the resolver merges them: an ordinary merge, explained "
        "by their best-agreeing records, in the person's history); `different` publishes a "
        "MARK_DIFFERENT correction (a lasting cannot-link: no later record joins them). One "
        "whose two people are one person already, or whose pair another possible match's "
        "decision concerned, is 409.\n\n"
        "A correction is published to the corrections topic and the answer comes once Kafka "
        "has acknowledged it; if Kafka does not, 503 with Retry-After and the decision is "
        "not recorded (sending it again publishes the same correction id). An entry is "
        "decided once (a second decision is 409). Audited with the people and the records."
    ),
    responses=refusals(
        400,
        403,
        404,
        409,
        413,
        503,
        _403="Not a steward (audited).",
        _404="No such dispute or possible match (audited as `not_found`).",
        _409="Already decided; a split with nothing to split (the records are no longer the "
        "person's); a possible match resolved since (audited).",
        _503="Kafka did not acknowledge the correction: nothing was recorded; send the "
        "decision again.",
    ),
)
def decide_dispute(
    trail: Annotated[Trail, audit_of("decide_dispute", asked=("dispute_id",))],
    dispute_id: DisputeId,
    body: DecisionRequest,
) -> Decision:
    ctx = trail.ctx
    asked: dict[str, Any] = {"dispute_id": dispute_id, "decision": body.decision}
    _steward(trail, asked=asked)
    if is_possible_match(dispute_id):
        return _decide_possible_match(trail, dispute_id, body, asked)
    if body.decision not in DISPUTE_DECISIONS:
        asked["problems"] = ["decision: not_for_a_dispute"]
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "a dispute is decided `split` or `keep`",
            asked=asked,
        )
    store = Disputes(ctx.client, ctx.lock)
    with ctx.deciding:
        dispute = store.get(dispute_id)
        if dispute is None:
            trail.refuse(
                status.HTTP_404_NOT_FOUND, "no such dispute", outcome="not_found", asked=asked
            )
        people = _involved(dispute["person_id"], dispute["held_as"])
        recorded: dict[str, Any] = {"person_ids": people, "event_ids": dispute["event_ids"]}
        if dispute["decision"] is not None:
            asked["problems"] = ["dispute_id: already_decided"]
            trail.refuse(
                status.HTTP_409_CONFLICT,
                f"this dispute was decided already ({dispute['decision']['decision']})",
                asked=asked,
                **recorded,
            )
        decided_at = datetime.now(UTC)
        correction_id, merge_ids = "", []
        if body.decision == "split":
            plans, _merges = store.plans([dispute])
            plan = plans[0]
            recorded["person_ids"] = _involved(plan.current, [*people, *plan.ids])
            if not plan.merge_ids and not plan.directly_linked:
                asked["problems"] = ["event_ids: apart"]
                trail.refuse(status.HTTP_409_CONFLICT, NOTHING_TO_SPLIT, asked=asked, **recorded)
            correction = split_correction(
                dispute_id,
                plan.current,
                plan.merge_ids,
                trail.who.organisation,
                decided_at,
                plan.directly_linked,
            )
            asked["detached"] = [event_id for _agency, event_id in plan.directly_linked]
            failed = ctx.corrections().publish(correction)
            if failed is not None:
                asked["problems"] = ["kafka: not_acknowledged"]
                trail.record("refused", asked=asked, **recorded)
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    "the decision could not be passed on to the resolver (Kafka did not "
                    "acknowledge it) and is not recorded; send it again",
                    headers={"Retry-After": RETRY_AFTER},
                )
            correction_id, merge_ids = correction["correction_id"], plan.merge_ids
        row = DisputeDecisionRow(
            dispute_id=dispute_id,
            decision=body.decision,
            note=body.note,
            decided_by=trail.who.username,
            decided_org=trail.who.organisation,
            decided_at=decided_at,
            correction_id=correction_id,
            merge_ids=merge_ids,
        )
        store.decide(row)
    trail.record(
        asked={**asked, "correction_id": correction_id or None, "merge_ids": merge_ids},
        **recorded,
    )
    return _decision(row._asdict())


def _decide_possible_match(
    trail: Trail, possible_id: str, body: DecisionRequest, asked: dict[str, Any]
) -> Decision:
    """``merge`` or ``different`` on a possible match: the correction for the two people as
    they are now, published before the decision is recorded."""
    ctx = trail.ctx
    store = PossibleMatches(ctx.client, ctx.lock)
    with ctx.deciding:
        row = store.one(possible_id)
        if row is None:
            trail.refuse(
                status.HTTP_404_NOT_FOUND,
                "no such dispute or possible match",
                outcome="not_found",
                asked=asked,
            )
        person, candidate = store.pair(row)
        recorded: dict[str, Any] = {
            "person_ids": _involved(
                person, [candidate, row["person_id"], row["candidate_person_id"]]
            ),
            "event_ids": [row["event_id"]],
        }
        if body.decision not in MATCH_DECISIONS:
            asked["problems"] = ["decision: not_for_a_possible_match"]
            trail.refuse(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "a possible match is decided `merge` or `different`",
                asked=asked,
                **recorded,
            )
        problem = None
        if row["decision"] is not None:
            asked["problems"] = ["dispute_id: already_decided"]
            problem = f"this possible match was decided already ({row['decision']['decision']})"
        elif person == candidate:
            asked["problems"] = ["dispute_id: one_person"]
            problem = "the two are one person now (merged since): nothing to decide"
        elif (other := store.pair_decided((person, candidate))) is not None:
            asked["problems"] = ["dispute_id: pair_decided"]
            problem = (
                f"another possible match between these two people was decided already "
                f"({other['decision']})"
            )
        if problem is not None:
            trail.refuse(status.HTTP_409_CONFLICT, problem, asked=asked, **recorded)
        decided_at = datetime.now(UTC)
        correction = match_correction(
            possible_id, body.decision, person, candidate, trail.who.organisation, decided_at
        )
        failed = ctx.corrections().publish(correction)
        if failed is not None:
            asked["problems"] = ["kafka: not_acknowledged"]
            trail.record("refused", asked=asked, **recorded)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the decision could not be passed on to the resolver (Kafka did not "
                "acknowledge it) and is not recorded; send it again",
                headers={"Retry-After": RETRY_AFTER},
            )
        decision = DisputeDecisionRow(
            dispute_id=possible_id,
            decision=body.decision,
            note=body.note,
            decided_by=trail.who.username,
            decided_org=trail.who.organisation,
            decided_at=decided_at,
            correction_id=correction["correction_id"],
            merge_ids=[],
        )
        store.decide(decision)
    trail.record(
        asked={**asked, "correction_id": correction["correction_id"], "kind": correction["kind"]},
        **recorded,
    )
    return _decision(decision._asdict())


def _involved(person_id: str, others: list[str]) -> list[str]:
    """The person first, then every other id involved, once each."""
    return list(dict.fromkeys([person_id, *others]))
