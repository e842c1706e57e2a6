"""Search by person and by address, and the person and address pages: every search or view
declares a purpose and is audited with what it showed.

Each route takes one dependency that authenticates the caller, requires the purpose and
hands over a ``Declared`` look-up whose trail records the outcome (``query_api.audited``).
The search bodies' schemas state the rules the API applies before it searches (a purpose
from the configured list, which names are enough), so the OpenAPI document refuses what the
API refuses; what no schema can state (a name that normalises to nothing, a date of birth
that is not one) is a 422 with a sentence saying what to give instead.

A manager may open a page as it stood at an earlier time (``as_at``): the page is read from
the rows stored by then (``query_api.records``), and every page, as it stands too, is read
as at a time that its audit entry records, so the review sees what the practitioner saw."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from mast_core.errors import InvalidEvent
from mast_core.linkage.address_search import split_address_query
from mast_core.normalise.dates import is_placeholder_birth_date, parse_birth_date
from query_api import look_ups
from query_api.answers import refusals
from query_api.audited import Audited, Declared, Trail, auditing, declared_purpose
from query_api.bodies import RequestBody
from query_api.context import Context, SignedIn
from query_api.pages import AddressPage, HeldByEntry, PersonHistory, PersonPage
from query_api.reads import EARLIEST, Reader, to_the_millisecond
from query_api.records import Records
from query_api.search import (
    AddressQuery,
    AddressSearch,
    NarrowQuery,
    PersonMatch,
    PersonQuery,
    PersonSearch,
)
from query_api.shield_guard import (
    ShieldedSearch,
    banner,
    guard_address,
    guard_person,
    held_by,
    shielded_search,
)
from query_api.shielding import PERSON, Grant, Shielding

router = APIRouter(prefix="/api/v1", tags=["search"], responses=refusals(401, 422))
BODY_REFUSALS = refusals(400, 413)

Text = Annotated[str | None, Field(max_length=128)]

PURPOSE_DESCRIPTION = (
    "Required: a code from GET /purposes (surrounding space is ignored). Missing, empty or "
    "not on the list, the request is refused with 422 and the refusal audited, the same on "
    "every route."
)
PURPOSES = "x-mast-purposes"
"""Marks a purpose in the schema; ``query_api.openapi`` replaces it with the configured list
(the list is the deployment's, so the document is made per application)."""
BIRTH_DATE = "birth-date"
"""The format of a date of birth as typed: ISO (1957-02-13), day first (13/02/1957),
compact (19570213) or with the month's name (13 Feb 1957), of a year from 1880 to this one,
and not a placeholder for 'not known' (1900-01-01)."""
NOT_BLANK = r"\S"


def _stated(*fields: str) -> dict[str, Any]:
    """A JSON Schema branch: these fields given, as text that is not blank."""
    return {
        "required": list(fields),
        "properties": {name: {"type": "string", "pattern": NOT_BLANK} for name in fields},
    }


def _purpose_required(schema: dict[str, Any]) -> None:
    """The purpose is optional to the model (so that a missing one is refused with the same
    audited answer as a wrong one) but required by the API: the document says so."""
    schema["properties"]["purpose"] = {
        "type": "string",
        "description": PURPOSE_DESCRIPTION,
        PURPOSES: True,
    }
    schema.setdefault("required", []).append("purpose")


class Purposeful(RequestBody):
    model_config = ConfigDict(json_schema_extra=_purpose_required)

    purpose: str | None = None
    purpose_detail: Annotated[str, Field(max_length=500)] = ""


def _person_search_rules(schema: dict[str, Any]) -> None:
    _purpose_required(schema)
    schema["anyOf"] = [
        _stated("given_name", "family_name"),
        _stated("family_name", "date_of_birth"),
        _stated("family_name", "postcode"),
        _stated("given_name", "date_of_birth"),
        _stated("given_name", "postcode"),
    ]


class PageRequest(Purposeful):
    """The purpose of opening a person's or an address's page. Its free-text detail often
    names the person or the case ("strategy meeting for J.S."), so it travels in a body: a
    URL is kept in browser history and in the logs of every proxy on the way."""


AS_AT_ROLES = ("manager", "admin")
"""Who may open a page as it stood at an earlier time: a case review is a manager's to hold
(from the audit of their organisation); a practitioner works from the page as it stands."""
AS_AT_EXAMPLE = "2026-04-03T17:00:00Z"
AS_AT_DESCRIPTION = (
    "The page as it stood at this time (RFC 3339: an ISO 8601 date and time with a zone, e.g. "
    + AS_AT_EXAMPLE
    + "): the records, the identity map (merges and splits) and the alerts MAST had stored "
    "then, exactly as the API answered at that time. For managers and administrators (403 "
    "for other roles, audited); not a time, or a time without a zone, is refused with 422 "
    "saying what to send. A time later than now is read as now (the answer's `as_at` says "
    "the time used); one before 1900 as 1900, when nothing was stored (404). Records "
    "deleted since (retention, or a partner's retraction) are not shown. Audited as "
    "`view_person_as_at` or `view_address_as_at`, with the time used. Leave it out for the "
    "page as it stands."
)


class PageAsAtRequest(PageRequest):
    """The purpose of opening a person's or an address's page, and optionally the time it
    is to be shown as it stood at."""

    as_at: Annotated[
        str | None,
        Field(
            max_length=40,
            description=AS_AT_DESCRIPTION,
            examples=[AS_AT_EXAMPLE],
            json_schema_extra={"format": "date-time"},
        ),
    ] = None


class PersonSearchRequest(Purposeful):
    """A name and one more detail: the other name, a date of birth or a postcode. Less
    finds too many people to rank; so may a given name with only a postcode, which is then
    refused with a sentence saying what to add."""

    model_config = ConfigDict(json_schema_extra=_person_search_rules)

    given_name: Text = None
    family_name: Text = None
    date_of_birth: Annotated[
        str | None,
        Field(
            max_length=32,
            description="Any usual form (1957-02-13, 13/02/1957, 13 Feb 1957); a placeholder "
            "for 'not known' such as 1900-01-01 is refused: leave it out.",
            json_schema_extra={"format": BIRTH_DATE},
        ),
    ] = None
    postcode: Annotated[str | None, Field(max_length=16)] = None


class PersonResult(BaseModel):
    """A person found. A shielded person (``query_api.shielding``) is shown only as held by
    agencies, with whom to call: names, date of birth, postcode and town are null."""

    person_id: str
    confidence: float
    match_weight: float
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    postcode: str | None = Field(
        description="Of the latest record; null when the person has a record at a shielded "
        "address (it could be that one)."
    )
    town: str | None
    agencies: list[str]
    records: int
    shielded: bool = Field(
        default=False,
        description="The person is shielded: open their page only by break-glass in an "
        "emergency (POST /api/v1/break-glass).",
    )
    held_by: list[HeldByEntry] = Field(
        default_factory=list,
        description='For a shielded person: "a record is held by AGENCY — contact TEAM, '
        'PHONE", per agency.',
    )


def _address_search_rules(schema: dict[str, Any]) -> None:
    _purpose_required(schema)
    schema["anyOf"] = [_stated("q"), _stated("address"), _stated("postcode")]


class AddressSearchRequest(Purposeful):
    """An address or a postcode, typed on one line (``q``) or in parts: a town alone is too
    little."""

    model_config = ConfigDict(json_schema_extra=_address_search_rules)

    q: Annotated[
        str | None,
        Field(
            max_length=300,
            description='One line as typed: "7 Larch Close, Walsall WS3 1EE", "ws31ee"',
        ),
    ] = None
    address: Annotated[str | None, Field(max_length=256)] = None
    town: Text = None
    postcode: Annotated[str | None, Field(max_length=16)] = None


class Resident(BaseModel):
    person_id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    events: int


class AddressResult(BaseModel):
    address_id: str
    confidence: float
    line1: str
    line2: str
    town: str
    postcode: str
    events: int
    people: list[Resident]


SEARCH_PERSONS = Audited(look_ups.SEARCH_PERSONS)
SEARCH_ADDRESSES = Audited(look_ups.SEARCH_ADDRESSES)
VIEW_PERSON = Audited(look_ups.VIEW_PERSON, asked=("person_id",), person="person_id")
VIEW_ADDRESS = Audited(look_ups.VIEW_ADDRESS, asked=("address_id",), address="address_id")
VIEW_HISTORY = Audited(look_ups.VIEW_HISTORY, asked=("person_id",), person="person_id")
VIEW_PERSON_AS_AT = look_ups.VIEW_PERSON_AS_AT
"""The audit action of a person page opened as it stood at an earlier time (a refusal
before the time was read, e.g. a missing purpose, is recorded as ``view_person``)."""
VIEW_ADDRESS_AS_AT = look_ups.VIEW_ADDRESS_AS_AT

PurposeParam = Annotated[
    str | None, Query(description=PURPOSE_DESCRIPTION, json_schema_extra={PURPOSES: True})
]
AsAtParam = Annotated[
    str | None,
    Query(
        max_length=40,
        description=AS_AT_DESCRIPTION,
        examples=[AS_AT_EXAMPLE],
        json_schema_extra={"format": "date-time"},
    ),
]
SubjectId = Annotated[str, Path(max_length=64)]


@dataclass(frozen=True)
class PageAsked:
    """A page asked for: the person's or address's id, and the time it is to be shown as it
    stood at (None: as it stands)."""

    subject_id: str
    as_at: datetime | None = None


def audit_time(at: datetime) -> str:
    """A time as the audit records it (``asked.data_as_at``), to the millisecond, in UTC:
    the form ``as_at`` takes back."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
"""A time as ``as_at`` takes it: RFC 3339's date-time (what the document's ``format:
date-time`` promises), and the same without a zone, refused with its own sentence."""


def _as_at(
    trail: Trail,
    raw: str | None,
    action: str,
    *,
    person_ids: Sequence[str] = (),
    address_ids: Sequence[str] = (),
) -> datetime | None:
    """The time a page is asked as at, in UTC to the millisecond (None: as it stands).
    Refused, and the refusal audited under ``action``: from a role that holds no case
    reviews (403); not a time, or a time without a zone (422, with what to send instead).
    Any RFC 3339 time is taken (the document declares ``format: date-time``), so a time
    later than now is read as now (a page cannot stand at a time not yet come; the answer
    says the time used), and one before 1900 as 1900 (DateTime64's range starts there; MAST
    stored nothing older), which finds nothing."""
    if raw is None:
        return None
    recorded: dict[str, Any] = {
        "action": action,
        "person_ids": person_ids,
        "address_ids": address_ids,
        "asked": {"person_id": person_ids[0]} if person_ids else {"address_id": address_ids[0]},
    }
    if trail.who.role not in AS_AT_ROLES:
        trail.refuse(
            status.HTTP_403_FORBIDDEN,
            "a page as it stood at an earlier time is for case reviews by managers: "
            "leave as_at out to see the page as it stands",
            **recorded,
        )
    text = raw.strip().upper()  # RFC 3339 allows a small t and z
    form = RFC_3339.fullmatch(text)
    at: datetime | None = None
    if form is not None:
        with suppress(ValueError):  # a 30th of February, an hour 24
            at = datetime.fromisoformat(text)
    if at is None or at.tzinfo is None:
        problem = "has no time zone" if at is not None else "is not a time"
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"as_at {problem}: write a date and time with a zone (RFC 3339), e.g. {AS_AT_EXAMPLE}",
            **recorded,
        )
    now = Reader(trail.ctx.client, trail.ctx.lock).data_time()
    # compared before any conversion, which a time near year 1 or 9999 would overflow
    return to_the_millisecond(min(max(at, EARLIEST), now).astimezone(UTC))


@auditing(SEARCH_PERSONS)
def _person_search(
    ctx: Context, who: SignedIn, request: PersonSearchRequest
) -> Declared[PersonSearchRequest]:
    trail = Trail(ctx, who, SEARCH_PERSONS)
    trail.require_purpose(request.purpose, request.purpose_detail)
    return Declared(trail, request)


@auditing(SEARCH_ADDRESSES)
def _address_search(
    ctx: Context, who: SignedIn, request: AddressSearchRequest
) -> Declared[AddressSearchRequest]:
    trail = Trail(ctx, who, SEARCH_ADDRESSES)
    trail.require_purpose(request.purpose, request.purpose_detail)
    return Declared(trail, request)


DETAIL_IN_URL = (
    "purpose_detail is free text that may name someone, and a URL is logged: send it in "
    "the body of POST {path}/view (the page is the same), or send only the purpose code here"
)


def declare_view(
    trail: Trail,
    purpose: str | None,
    detail: str,
    raw: Request | None,
    *,
    person_ids: Sequence[str] = (),
    address_ids: Sequence[str] = (),
) -> None:
    """The purpose of a view, from the query (code only) or a body (code and detail). A
    detail in the URL is refused, audited without it, so that nobody learns to send it."""
    if raw is not None and "purpose_detail" in raw.query_params:
        trail.purpose = declared_purpose(purpose)
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            DETAIL_IN_URL.format(path=raw.scope["route"].path),
            person_ids=person_ids,
            address_ids=address_ids,
        )
    trail.require_purpose(purpose, detail, person_ids=person_ids, address_ids=address_ids)


@auditing(VIEW_PERSON)
def _person_view(
    ctx: Context,
    who: SignedIn,
    person_id: SubjectId,
    raw: Request,
    purpose: PurposeParam = None,
    as_at: AsAtParam = None,
) -> Declared[PageAsked]:
    trail = Trail(ctx, who, VIEW_PERSON)
    declare_view(trail, purpose, "", raw, person_ids=[person_id])
    at = _as_at(trail, as_at, VIEW_PERSON_AS_AT, person_ids=[person_id])
    return Declared(trail, PageAsked(person_id, at))


@auditing(VIEW_PERSON)
def _person_view_posted(
    ctx: Context, who: SignedIn, person_id: SubjectId, body: PageAsAtRequest
) -> Declared[PageAsked]:
    trail = Trail(ctx, who, VIEW_PERSON)
    declare_view(trail, body.purpose, body.purpose_detail.strip(), None, person_ids=[person_id])
    at = _as_at(trail, body.as_at, VIEW_PERSON_AS_AT, person_ids=[person_id])
    return Declared(trail, PageAsked(person_id, at))


@auditing(VIEW_HISTORY)
def _history_view(
    ctx: Context, who: SignedIn, person_id: SubjectId, raw: Request, purpose: PurposeParam = None
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_HISTORY)
    declare_view(trail, purpose, "", raw, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_HISTORY)
def _history_view_posted(
    ctx: Context, who: SignedIn, person_id: SubjectId, body: PageRequest
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_HISTORY)
    declare_view(trail, body.purpose, body.purpose_detail.strip(), None, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_ADDRESS)
def _address_view(
    ctx: Context,
    who: SignedIn,
    address_id: SubjectId,
    raw: Request,
    purpose: PurposeParam = None,
    as_at: AsAtParam = None,
) -> Declared[PageAsked]:
    trail = Trail(ctx, who, VIEW_ADDRESS)
    declare_view(trail, purpose, "", raw, address_ids=[address_id])
    at = _as_at(trail, as_at, VIEW_ADDRESS_AS_AT, address_ids=[address_id])
    return Declared(trail, PageAsked(address_id, at))


@auditing(VIEW_ADDRESS)
def _address_view_posted(
    ctx: Context, who: SignedIn, address_id: SubjectId, body: PageAsAtRequest
) -> Declared[PageAsked]:
    trail = Trail(ctx, who, VIEW_ADDRESS)
    declare_view(trail, body.purpose, body.purpose_detail.strip(), None, address_ids=[address_id])
    at = _as_at(trail, body.as_at, VIEW_ADDRESS_AS_AT, address_ids=[address_id])
    return Declared(trail, PageAsked(address_id, at))


PersonSearchAsked = Annotated[Declared[PersonSearchRequest], Depends(_person_search)]
AddressSearchAsked = Annotated[Declared[AddressSearchRequest], Depends(_address_search)]
PersonView = Annotated[Declared[PageAsked], Depends(_person_view)]
PersonViewPosted = Annotated[Declared[PageAsked], Depends(_person_view_posted)]
HistoryView = Annotated[Declared[str], Depends(_history_view)]
HistoryViewPosted = Annotated[Declared[str], Depends(_history_view_posted)]
AddressView = Annotated[Declared[PageAsked], Depends(_address_view)]
AddressViewPosted = Annotated[Declared[PageAsked], Depends(_address_view_posted)]


def _typed(request: Purposeful) -> dict[str, Any]:
    """What was typed, as the audit records it (the purpose is recorded on its own)."""
    return request.model_dump(exclude={"purpose", "purpose_detail"})


@router.post(
    "/search/persons",
    summary="Find people by name, date of birth and postcode, ranked by match confidence",
    responses=BODY_REFUSALS,
)
def search_persons(search: PersonSearchAsked) -> list[PersonResult]:
    trail, request = search.trail, search.asked
    problem = None
    if request.date_of_birth and parse_birth_date(request.date_of_birth) is None:
        problem = "date_of_birth " + (
            "is a placeholder for 'not known': leave it out"
            if is_placeholder_birth_date(request.date_of_birth)
            else "is not a date"
        )
    elif not (request.family_name or request.given_name):
        problem = "give at least a name"
    found = ShieldedSearch([], {}, set())
    if problem is None:
        query = PersonQuery(
            request.given_name, request.family_name, request.date_of_birth, request.postcode
        )
        try:
            ctx = trail.ctx
            found = shielded_search(
                PersonSearch(ctx.client, ctx.lock, ctx.search_parameters), query
            )
        except (InvalidEvent, NarrowQuery) as exc:
            problem = str(exc)
    if problem is not None:
        trail.refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, problem, asked=_typed(request))
    trail.record(
        asked=_typed(request),
        person_ids=[m.person_id for m in found.matches],
        event_ids=[e for m in found.matches for e in m.event_ids],
    )
    return [_shown(_result(match), found) for match in found.matches]


def _shown(result: PersonResult, found: ShieldedSearch) -> PersonResult:
    """A result as a searcher may see it: a shielded person as held by agencies only, and
    no postcode or town of anyone with a record at a shielded address."""
    shield = found.shields.get(result.person_id)
    if shield is not None:
        result.given_name = result.family_name = result.date_of_birth = None
        result.postcode = result.town = None
        result.shielded, result.held_by = True, held_by(shield)
    elif result.person_id in found.nearby:
        result.postcode = result.town = None
    return result


@router.post(
    "/search/addresses",
    summary="Find addresses by free text, town and postcode, with the people linked to each",
    responses=BODY_REFUSALS,
)
def search_addresses(search: AddressSearchAsked) -> list[AddressResult]:
    trail, request = search.trail, search.asked
    address, town, postcode = split_address_query(request.q) if request.q else (None,) * 3
    query = AddressQuery(
        request.address or address, request.town or town, request.postcode or postcode
    )
    if AddressSearch.normalise(query) is None:
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "give an address or a postcode",
            asked=_typed(request),
        )
    matches = AddressSearch(trail.ctx.client, trail.ctx.lock).search(query)
    shielded = Shielding(trail.ctx.client, trail.ctx.lock).addresses(m.address_id for m in matches)
    matches = [m for m in matches if m.address_id not in shielded]  # never found by search
    trail.record(
        asked=_typed(request),
        person_ids=[p["person_id"] for m in matches for p in m.people],
        address_ids=[m.address_id for m in matches],
    )
    return [
        AddressResult(
            address_id=m.address_id,
            confidence=m.confidence,
            line1=m.line1,
            line2=m.line2,
            town=m.town,
            postcode=m.postcode,
            events=m.events,
            people=[Resident(**p) for p in m.people],
        )
        for m in matches
    ]


def _result(match: PersonMatch) -> PersonResult:
    return PersonResult(
        person_id=match.person_id,
        confidence=match.confidence,
        match_weight=match.match_weight,
        given_name=match.given_name,
        family_name=match.family_name,
        date_of_birth=match.date_of_birth,
        postcode=match.postcode,
        town=match.town,
        agencies=sorted(match.agencies),
        records=match.records,
    )


AS_AT_REFUSED = (
    "A steward or the data protection officer (who open no pages), or `as_at` asked by a "
    "role other than manager or admin; audited."
)
NOT_THEN = (
    "No such {kind} (audited as `not_found`); with `as_at`, none had been stored by then "
    "(audited as `not_found` under the as-at action)."
)
PERSON_PAGE = "A person: records per agency, timeline, open cases, contacts, alerts"
ADDRESS_PAGE = "An address: the people linked to it, its events and alerts"


@router.get(
    "/persons/{person_id}",
    summary=PERSON_PAGE,
    responses=refusals(403, 404, _403=AS_AT_REFUSED, _404=NOT_THEN.format(kind="person")),
)
def get_person(view: PersonView) -> PersonPage:
    """The purpose code in the query; a ``purpose_detail`` there is refused (use the POST)."""
    return _person_page(view)


@router.post(
    "/persons/{person_id}/view",
    summary=PERSON_PAGE + " (the purpose and its detail in the body)",
    responses=refusals(403, 400, 404, 413, _403=AS_AT_REFUSED, _404=NOT_THEN.format(kind="person")),
)
def view_person(view: PersonViewPosted) -> PersonPage:
    """The same page as the GET, opened with a purpose whose detail stays out of URLs."""
    return _person_page(view)


def _no_such_person(trail: Trail, person_id: str) -> NoReturn:
    trail.refuse(
        status.HTTP_404_NOT_FOUND,
        "no such person",
        outcome="not_found",
        asked={"person_id": person_id},
        person_ids=[person_id],
    )


def _person_page(view: Declared[PageAsked]) -> PersonPage:
    """The page read as at the time asked, or as at the moment of reading (every row the
    sink had stored by then); the audit records that time as ``data_as_at``, so the same
    page can be opened again (``as_at``) exactly as it was shown."""
    trail, person_id, as_at = view.trail, view.asked.subject_id, view.asked.as_at
    records = Records(trail.ctx.client, trail.ctx.lock)
    data_as_at = as_at or records.data_time()
    action = VIEW_PERSON_AS_AT if as_at else None
    asked = {"person_id": person_id, "data_as_at": audit_time(data_as_at)}
    grant = guard_person(trail, person_id, action=action, asked=asked)
    page = records.person(person_id, data_as_at, show_shielded=grant is not None)
    if page is None:
        if as_at:
            trail.refuse(
                status.HTTP_404_NOT_FOUND,
                "no such person at that time",
                outcome="not_found",
                action=action,
                asked={"person_id": person_id, "data_as_at": audit_time(as_at)},
                person_ids=[person_id],
            )
        _no_such_person(trail, person_id)
    trail.record(
        action=action,
        asked=_with_grant(asked, grant),
        person_ids=[page["person_id"], *page["merged_ids"]],
        address_ids=[a["address_id"] for a in page["addresses"]],
        event_ids=[i["event_id"] for i in page["interactions"]],
    )
    return PersonPage.model_validate({**page, "as_at": as_at, "break_glass": banner(grant)})


def _withhold_residents(trail: Trail, page: dict[str, Any]) -> None:
    """On an address opened by break-glass, a resident shielded in their own right is shown
    as shielded, without names, date of birth or gender, unless the caller broke the glass
    into them too: a grant opens its own subject only."""
    shielding = Shielding(trail.ctx.client, trail.ctx.lock)
    shielded = shielding.people(p["person_id"] for p in page["people"])
    for person in page["people"]:
        if person["person_id"] not in shielded:
            continue
        ids = sorted(shielding.owners([person["person_id"]]))
        if shielding.granted(trail.who, PERSON, ids) is None:
            person.update(given_name=None, family_name=None, date_of_birth=None, gender="")
            person["shielded"] = True


def _with_grant(asked: dict[str, Any], grant: Grant | None) -> dict[str, Any]:
    """What a view records as asked: with the break-glass it was opened under, if any."""
    return asked if grant is None else {**asked, "break_glass": grant.grant_id}


PERSON_HISTORY = (
    "A person's history: each merge of their ids (when, why, what set it off) and split"
)


@router.get(
    "/persons/{person_id}/history",
    summary=PERSON_HISTORY,
    responses=refusals(404, _404="No such person (audited as `not_found`)."),
)
def get_person_history(view: HistoryView) -> PersonHistory:
    """The purpose code in the query; a ``purpose_detail`` there is refused (use the POST)."""
    return _person_history(view)


@router.post(
    "/persons/{person_id}/history/view",
    summary=PERSON_HISTORY + " (the purpose and its detail in the body)",
    responses=refusals(400, 404, 413, _404="No such person (audited as `not_found`)."),
)
def view_person_history(view: HistoryViewPosted) -> PersonHistory:
    """The same history as the GET, opened with a purpose whose detail stays out of URLs."""
    return _person_history(view)


def _person_history(view: Declared[str]) -> PersonHistory:
    trail, person_id = view.trail, view.asked
    grant = guard_person(trail, person_id)
    history = Records(trail.ctx.client, trail.ctx.lock).history(person_id)
    if history is None:
        _no_such_person(trail, person_id)
    trail.record(
        asked=_with_grant({"person_id": person_id}, grant),
        person_ids=[history["person_id"], *history["merged_ids"]],
        event_ids=sorted(
            {
                e["triggered_by"]["event_id"]
                for e in history["entries"]
                if e.get("triggered_by") and e["triggered_by"]["agency"]  # splits have none
            }
        ),
    )
    return PersonHistory.model_validate(history)


@router.get(
    "/addresses/{address_id}",
    summary=ADDRESS_PAGE,
    responses=refusals(403, 404, _403=AS_AT_REFUSED, _404=NOT_THEN.format(kind="address")),
)
def get_address(view: AddressView) -> AddressPage:
    """The purpose code in the query; a ``purpose_detail`` there is refused (use the POST)."""
    return _address_page(view)


@router.post(
    "/addresses/{address_id}/view",
    summary=ADDRESS_PAGE + " (the purpose and its detail in the body)",
    responses=refusals(
        403, 400, 404, 413, _403=AS_AT_REFUSED, _404=NOT_THEN.format(kind="address")
    ),
)
def view_address(view: AddressViewPosted) -> AddressPage:
    """The same page as the GET, opened with a purpose whose detail stays out of URLs."""
    return _address_page(view)


def _address_page(view: Declared[PageAsked]) -> AddressPage:
    """As ``_person_page``: read as at a time, which the audit records."""
    trail, address_id, as_at = view.trail, view.asked.subject_id, view.asked.as_at
    records = Records(trail.ctx.client, trail.ctx.lock)
    data_as_at = as_at or records.data_time()
    action = VIEW_ADDRESS_AS_AT if as_at else None
    asked = {"address_id": address_id, "data_as_at": audit_time(data_as_at)}
    unknown = "no such address at that time" if as_at else "no such address"
    grant = guard_address(trail, address_id, unknown, action=action, asked=asked)
    page = records.address(address_id, data_as_at)
    if page is None:
        trail.refuse(
            status.HTTP_404_NOT_FOUND,
            unknown,
            outcome="not_found",
            action=action,
            asked=asked if as_at else {"address_id": address_id},
            address_ids=[address_id],
        )
    if grant is not None:
        _withhold_residents(trail, page)
    trail.record(
        action=action,
        asked=_with_grant(asked, grant),
        person_ids=[p["person_id"] for p in page["people"]],
        address_ids=[address_id],
        event_ids=[i["event_id"] for i in page["interactions"]],
    )
    return AddressPage.model_validate({**page, "as_at": as_at, "break_glass": banner(grant)})
