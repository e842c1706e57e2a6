"""Subject access (sensitive records issue, item 4): for the data protection officer only,
everything MAST holds about one person and every access to it (``query_api.subject_access``
says what is in it and what is left out), as JSON or CSV; and a search that finds the person
a request is about. Both are audited, the report with the person and the copy made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from mast_core.errors import InvalidEvent
from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.bodies import RequestBody
from query_api.csv_export import csv_response
from query_api.pages import BreakGlassBanner
from query_api.routes.persons import SubjectId
from query_api.search import NarrowQuery, PersonMatch, PersonQuery, PersonSearch
from query_api.shield_guard import banner, guard_person, shielded_search
from query_api.stewards import DPO
from query_api.subject_access import CSV_COLUMNS, Copy, SubjectAccess, csv_rows

router = APIRouter(prefix="/api/v1", tags=["subject access"], responses=refusals(401, 422))

PURPOSE = "subject_access_request"
ONLY_DPO = "only the data protection officer (role dpo) makes subject access reports"
Text = Annotated[str | None, Field(max_length=100)]


class SubjectAddress(BaseModel):
    line1: str | None
    line2: str | None
    town: str | None
    postcode: str | None
    uprn: str | None


class SubjectContact(BaseModel):
    name: str | None = Field(description="In the person's copy, the organisation, not a name.")
    team: str | None
    phone: str | None
    email: str | None = Field(description="Left out of the person's copy.")


class SubjectRecord(BaseModel):
    agency: str
    event_id: str
    source_system: str | None
    source_record_id: str | None
    event_type: str | None
    occurred_at: datetime
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    gender: str
    address: SubjectAddress
    nhs_number: str | None
    case_status: str | None
    contact: SubjectContact
    linked_because: str = Field(description="Why MAST linked the record to the person.")


class SubjectLink(BaseModel):
    merge_id: str
    at: datetime
    because: str = Field(description="The evidence that two of the person's ids were one.")


class SubjectAlert(BaseModel):
    alert_id: str
    rule_id: str
    severity: str
    summary: str
    window_start: datetime
    window_end: datetime
    raised_at: datetime


class SubjectAccessEntry(BaseModel):
    at: datetime
    who: str = Field(description="The user; in the person's copy, their organisation.")
    organisation: str
    role: str
    action: str = Field(description="The audited action: a search, a page view, a dispute…")
    outcome: str = Field(description="`shown`, `refused` or `not_found`.")
    purpose: str = Field(description="The purpose declared (its free-text detail left out).")


class SubjectAccessReport(BaseModel):
    person_id: str
    requested_id: str
    ids: list[str] = Field(description="The person's current id and every id merged into it.")
    made_for: Copy = Field(
        description="The copy made: `officer`, as held; `person`: the copy for the person, "
        "practitioners' names replaced by their organisation."
    )
    records: list[SubjectRecord] = Field(description="Every partner record, oldest first.")
    links: list[SubjectLink] = Field(description="Merges among the person's own ids.")
    alerts: list[SubjectAlert] = Field(description="Alerts about the person (not addresses').")
    accesses: list[SubjectAccessEntry] = Field(
        description="Every audited look-up that named the person, oldest first."
    )
    break_glass: BreakGlassBanner | None = Field(
        default=None,
        description="Set when the person is shielded and the report was made under the "
        "officer's break-glass in force: the banner to show. Null otherwise.",
    )


class Candidate(BaseModel):
    person_id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    postcode: str | None
    town: str | None
    records: int
    confidence: float
    shielded: bool = Field(
        default=False,
        description="The person is shielded: their report needs break-glass (POST "
        "/api/v1/break-glass), and names, date of birth, postcode and town are null. Postcode "
        "and town are null too for anyone with a record at a shielded address.",
    )


class SubjectSearch(RequestBody):
    given_name: Text = None
    family_name: Text = None
    date_of_birth: Annotated[str | None, Field(max_length=32)] = None
    postcode: Annotated[str | None, Field(max_length=16)] = None


def _dpo(trail: Trail, **asked: object) -> None:
    trail.purpose = PURPOSE
    if trail.who.role != DPO:
        trail.refuse(status.HTTP_403_FORBIDDEN, ONLY_DPO, asked={**asked, "problems": ["role"]})


@router.post(
    "/subject-access/search",
    summary="Find the person a subject access request is about",
    description=(
        "Data protection officer only (403 for everyone else, audited). The details the "
        "request gives, matched as a person search is; answers ids, names, date of birth, "
        "postcode and town only. Audited as `subject_access_search` with the people found, "
        f"purpose `{PURPOSE}`."
    ),
    responses=refusals(400, 403, 413, _403="Not the data protection officer (audited)."),
)
def search_subject(
    trail: Annotated[Trail, audit_of("subject_access_search")], body: SubjectSearch
) -> list[Candidate]:
    typed = sorted(k for k, v in body.model_dump().items() if v)
    _dpo(trail, typed=typed)
    if not (body.given_name or body.family_name):
        trail.refuse(422, "give at least a name", asked={"typed": typed})
    query = PersonQuery(body.given_name, body.family_name, body.date_of_birth, body.postcode)
    try:
        ctx = trail.ctx
        found = shielded_search(PersonSearch(ctx.client, ctx.lock, ctx.search_parameters), query)
    except (InvalidEvent, NarrowQuery) as exc:
        trail.refuse(422, str(exc), asked={"typed": typed})
    trail.record(asked={"typed": typed}, person_ids=[m.person_id for m in found.matches])
    return [
        _candidate(m, shielded=m.person_id in found.shields, nearby=m.person_id in found.nearby)
        for m in found.matches
    ]


def _candidate(match: PersonMatch, *, shielded: bool, nearby: bool) -> Candidate:
    """A person found, as the officer may see them before any break-glass: a shielded
    person by id and count of records only; no postcode or town of anyone with a record at
    a shielded address."""
    return Candidate(
        person_id=match.person_id,
        given_name=None if shielded else match.given_name,
        family_name=None if shielded else match.family_name,
        date_of_birth=None if shielded else match.date_of_birth,
        postcode=None if shielded or nearby else match.postcode,
        town=None if shielded or nearby else match.town,
        records=match.records,
        confidence=match.confidence,
        shielded=shielded,
    )


@router.get(
    "/subject-access/{person_id}",
    summary="Everything MAST holds about one person, and every access to it",
    description=(
        "Data protection officer only (403 for everyone else, audited). `purpose` must be "
        f"`{PURPOSE}`. The person's partner records of the minimum dataset with why each was "
        "linked, merges among their own ids, alerts about them, and every audited look-up "
        "that named them (who, organisation, role, action, purpose, when), never another "
        "person's details. `copy=person` makes the copy sent to the person: practitioners' "
        "names replaced by their organisation. `format=csv` answers one table (section, at, "
        "organisation, who, what, detail). Audited as `subject_access_report` with the "
        "person and the copy; an unknown id is 404, audited as `not_found`."
    ),
    response_model=SubjectAccessReport,
    responses={
        200: {
            "description": "The report as JSON, or with `format=csv` as a CSV file.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **refusals(
            403,
            404,
            _403="Not the data protection officer (audited).",
            _404="No record was ever linked to this id (audited as `not_found`).",
        ),
    },
)
def subject_access_report(
    trail: Annotated[
        Trail, audit_of("subject_access_report", asked=("person_id",), person="person_id")
    ],
    person_id: SubjectId,
    purpose: Annotated[
        Literal["subject_access_request"],
        Query(description="Why the report is made: a subject access request."),
    ],
    copy: Annotated[Copy, Query(description="`officer` (as held) or `person`.")] = "officer",
    format: Annotated[Literal["json", "csv"], Query(description="`json` or `csv`.")] = "json",
) -> SubjectAccessReport | Response:
    asked = {"person_id": person_id, "copy": copy, "format": format}
    _dpo(trail, **asked)
    grant = guard_person(trail, person_id, asked=asked)
    report = SubjectAccess(trail.ctx.client, trail.ctx.lock).report(
        person_id, copy, show_shielded=grant is not None
    )
    if report is None:
        trail.refuse(
            404, "no such person", asked=asked, outcome="not_found", person_ids=[person_id]
        )
    trail.record(
        asked=asked if grant is None else {**asked, "break_glass": grant.grant_id},
        person_ids=report["ids"],
    )
    if format == "csv":
        rows = csv_rows(report)
        return csv_response(
            CSV_COLUMNS,
            ([row[c] for c in CSV_COLUMNS] for row in rows),
            f"subject-access-{report['person_id']}.csv",
        )
    return SubjectAccessReport.model_validate({**report, "break_glass": banner(grant)})
