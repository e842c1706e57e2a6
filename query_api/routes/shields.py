"""Shielding by hand (sensitive records issue, item 1): a steward or a manager shields a
person or an address that no partner marked sensitive, or lifts such a shield; a partner's
own mark (``sensitivity``) is lifted only by the partner, by correcting or withdrawing the
record. A person is shielded under every id they have now, so that both halves of a later
split stay shielded (``query_api.shielding``).

Shielding and lifting are audited as ``shield`` and ``lift_shield``, with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.bodies import RequestBody
from query_api.routes.break_glass import Id, one_subject, recorded, subject_of
from query_api.shielding import ADDRESS, LIFT, PERSON, SHIELD, Shielding, SubjectKind
from query_api.stewards import DPO, STEWARD

router = APIRouter(prefix="/api/v1", tags=["shielding"], responses=refusals(401, 422))

MAY_SHIELD = (STEWARD, "manager")
MAY_LIST = (STEWARD, "manager", "admin", DPO)
NOT_ALLOWED = "a steward or a manager shields and lifts shields"


class ShieldRequest(RequestBody):
    """The person or the address (one of the two ids) and why."""

    model_config = ConfigDict(json_schema_extra=one_subject)

    person_id: Id = None
    address_id: Id = None
    reason: Annotated[str, Field(min_length=10, max_length=1000, pattern=r"\S")] = Field(
        description="Why, in words a reviewer can check (10 characters at least)."
    )


class HandShield(BaseModel):
    subject_kind: SubjectKind
    subject_id: str
    reason: str
    decided_by: str
    organisation: str
    at: datetime


class ShieldDecision(BaseModel):
    subject_kind: SubjectKind
    subject_id: str = Field(description="The id asked about.")
    ids: list[str] = Field(description="Every id shielded or lifted: a person's, all of them.")
    action: str = Field(description="`shield` or `lift`.")
    at: datetime
    still_shielded: bool = Field(
        description="After a lift: whether the subject is still shielded, by a partner's "
        "mark on one of its records or because someone with a record there is shielded."
    )


@router.get(
    "/shields",
    summary="The shields placed by hand and in force",
    description=(
        "For stewards, managers, administrators and the data protection officer (403 for "
        "practitioners, audited). Ids, reasons, who and when, newest first (1,000 at most); "
        "records marked sensitive by partners are not listed here. Audited as "
        "`list_shields`."
    ),
    responses=refusals(403, _403="A practitioner (audited)."),
)
def list_shields(trail: Annotated[Trail, audit_of("list_shields")]) -> list[HandShield]:
    if trail.who.role not in MAY_LIST:
        trail.refuse(status.HTTP_403_FORBIDDEN, NOT_ALLOWED, asked={"problems": ["role"]})
    shields = Shielding(trail.ctx.client, trail.ctx.lock).hand_shields()
    trail.record(
        person_ids=[str(s["subject_id"]) for s in shields if s["subject_kind"] == PERSON],
        address_ids=[str(s["subject_id"]) for s in shields if s["subject_kind"] == ADDRESS],
    )
    return [HandShield.model_validate(s) for s in shields]


SHIELD_RESPONSES = refusals(
    400,
    403,
    404,
    413,
    _403="Not a steward or a manager (audited).",
    _404="No record was ever resolved to the person or address (audited as `not_found`).",
)


@router.post(
    "/shields/place",
    summary="Shield a person or an address",
    description=(
        "Stewards and managers. From now on the person appears in search only as held by "
        "agencies, with whom to call, and their pages need break-glass; a shielded "
        "address is never found, shown or named. Audited as `shield`."
    ),
    responses=SHIELD_RESPONSES,
)
def shield(trail: Annotated[Trail, audit_of("shield")], body: ShieldRequest) -> ShieldDecision:
    return _decide(trail, body, SHIELD)


@router.post(
    "/shields/lift",
    summary="Lift a shield placed by hand",
    description=(
        "Stewards, and managers of the organisation that placed the shield (403 for another "
        "organisation's). Lifts the hand shield of the person (every id of theirs) or the "
        "address; a partner's mark is lifted only by that partner, so the answer says "
        "whether the subject is still shielded. Audited as `lift_shield`."
    ),
    responses=SHIELD_RESPONSES,
)
def lift_shield(
    trail: Annotated[Trail, audit_of("lift_shield")], body: ShieldRequest
) -> ShieldDecision:
    return _decide(trail, body, LIFT)


def _decide(trail: Trail, body: ShieldRequest, action: str) -> ShieldDecision:
    asked, named = recorded(body)
    if trail.who.role not in MAY_SHIELD:
        trail.refuse(
            status.HTTP_403_FORBIDDEN, NOT_ALLOWED, asked={**asked, "problems": ["role"]}, **named
        )
    subject = subject_of(body)
    if subject is None:
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "give one of person_id and address_id",
            asked=asked,
            **named,
        )
    kind, subject_id = subject
    shielding = Shielding(trail.ctx.client, trail.ctx.lock)
    if kind == PERSON:
        ids = sorted(shielding.owners([shielding.current_person(subject_id)]))
        known = shielding.rows(
            "SELECT 1 FROM resolved_interactions WHERE person_id IN {ids:Array(String)} LIMIT 1",
            {"ids": ids},
        )
    else:
        ids = [subject_id]
        known = shielding.rows(
            "SELECT 1 FROM address_interactions WHERE address_id = {id:String} LIMIT 1",
            {"id": subject_id},
        )
    if not known:
        trail.refuse(
            status.HTTP_404_NOT_FOUND,
            f"no such {kind.lower()}",
            outcome="not_found",
            asked=asked,
            **named,
        )
    if action == LIFT and trail.who.role != STEWARD:
        others = shielding.shielded_by(kind, ids) - {trail.who.organisation}
        if others:  # a manager lifts only their own organisation's shields
            trail.refuse(
                status.HTTP_403_FORBIDDEN,
                "this shield was placed by another organisation: its managers or a steward "
                "may lift it",
                asked={**asked, "problems": ["shield: another_organisation"]},
                **named,
            )
    at = shielding.decide(trail.who, kind, ids, action, body.reason)
    still = shielding.people([subject_id]) if kind == PERSON else shielding.addresses([subject_id])
    trail.record(asked=asked, **named)
    return ShieldDecision(
        subject_kind=kind,
        subject_id=subject_id,
        ids=ids,
        action=action,
        at=at,
        still_shielded=subject_id in still,
    )
