"""Search by person and by address, and the person and address pages: every search or view
declares a purpose and is audited with what it showed.

Each route takes one dependency that authenticates the caller, requires the purpose and
hands over a ``Declared`` look-up whose trail records the outcome (``query_api.audited``).
The search bodies' schemas state the rules the API applies before it searches (a purpose
from the configured list, which names are enough), so the OpenAPI document refuses what the
API refuses; what no schema can state (a name that normalises to nothing, a date of birth
that is not one) is a 422 with a sentence saying what to give instead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from mast_core.errors import InvalidEvent
from mast_core.linkage.address_search import split_address_query
from mast_core.normalise.dates import is_placeholder_birth_date, parse_birth_date
from query_api.answers import refusals
from query_api.audited import Audited, Declared, Trail, auditing, declared_purpose
from query_api.bodies import RequestBody
from query_api.context import Context, SignedIn
from query_api.pages import AddressPage, PersonHistory, PersonPage
from query_api.records import Records
from query_api.search import (
    AddressQuery,
    AddressSearch,
    NarrowQuery,
    PersonMatch,
    PersonQuery,
    PersonSearch,
)

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
    person_id: str
    confidence: float
    match_weight: float
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    postcode: str | None
    town: str | None
    agencies: list[str]
    records: int


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


SEARCH_PERSONS = Audited("search_persons")
SEARCH_ADDRESSES = Audited("search_addresses")
VIEW_PERSON = Audited("view_person", asked=("person_id",), person="person_id")
VIEW_ADDRESS = Audited("view_address", asked=("address_id",), address="address_id")
VIEW_HISTORY = Audited("view_identity_history", asked=("person_id",), person="person_id")

PurposeParam = Annotated[
    str | None, Query(description=PURPOSE_DESCRIPTION, json_schema_extra={PURPOSES: True})
]
SubjectId = Annotated[str, Path(max_length=64)]


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


def _declare_view(
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
    ctx: Context, who: SignedIn, person_id: SubjectId, raw: Request, purpose: PurposeParam = None
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_PERSON)
    _declare_view(trail, purpose, "", raw, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_PERSON)
def _person_view_posted(
    ctx: Context, who: SignedIn, person_id: SubjectId, body: PageRequest
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_PERSON)
    _declare_view(trail, body.purpose, body.purpose_detail.strip(), None, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_HISTORY)
def _history_view(
    ctx: Context, who: SignedIn, person_id: SubjectId, raw: Request, purpose: PurposeParam = None
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_HISTORY)
    _declare_view(trail, purpose, "", raw, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_HISTORY)
def _history_view_posted(
    ctx: Context, who: SignedIn, person_id: SubjectId, body: PageRequest
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_HISTORY)
    _declare_view(trail, body.purpose, body.purpose_detail.strip(), None, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_ADDRESS)
def _address_view(
    ctx: Context, who: SignedIn, address_id: SubjectId, raw: Request, purpose: PurposeParam = None
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_ADDRESS)
    _declare_view(trail, purpose, "", raw, address_ids=[address_id])
    return Declared(trail, address_id)


@auditing(VIEW_ADDRESS)
def _address_view_posted(
    ctx: Context, who: SignedIn, address_id: SubjectId, body: PageRequest
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_ADDRESS)
    _declare_view(trail, body.purpose, body.purpose_detail.strip(), None, address_ids=[address_id])
    return Declared(trail, address_id)


PersonSearchAsked = Annotated[Declared[PersonSearchRequest], Depends(_person_search)]
AddressSearchAsked = Annotated[Declared[AddressSearchRequest], Depends(_address_search)]
PersonView = Annotated[Declared[str], Depends(_person_view)]
PersonViewPosted = Annotated[Declared[str], Depends(_person_view_posted)]
HistoryView = Annotated[Declared[str], Depends(_history_view)]
HistoryViewPosted = Annotated[Declared[str], Depends(_history_view_posted)]
AddressView = Annotated[Declared[str], Depends(_address_view)]
AddressViewPosted = Annotated[Declared[str], Depends(_address_view_posted)]


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
    matches: list[PersonMatch] = []
    if problem is None:
        query = PersonQuery(
            request.given_name, request.family_name, request.date_of_birth, request.postcode
        )
        try:
            ctx = trail.ctx
            matches = PersonSearch(ctx.client, ctx.lock, ctx.search_parameters).search(query)
        except (InvalidEvent, NarrowQuery) as exc:
            problem = str(exc)
    if problem is not None:
        trail.refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, problem, asked=_typed(request))
    trail.record(
        asked=_typed(request),
        person_ids=[m.person_id for m in matches],
        event_ids=[e for m in matches for e in m.event_ids],
    )
    return [_result(match) for match in matches]


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


PERSON_PAGE = "A person: records per agency, timeline, open cases, contacts, alerts"
ADDRESS_PAGE = "An address: the people linked to it, its events and alerts"


@router.get(
    "/persons/{person_id}",
    summary=PERSON_PAGE,
    responses=refusals(404, _404="No such person (audited as `not_found`)."),
)
def get_person(view: PersonView) -> PersonPage:
    """The purpose code in the query; a ``purpose_detail`` there is refused (use the POST)."""
    return _person_page(view)


@router.post(
    "/persons/{person_id}/view",
    summary=PERSON_PAGE + " (the purpose and its detail in the body)",
    responses=refusals(400, 404, 413, _404="No such person (audited as `not_found`)."),
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


def _person_page(view: Declared[str]) -> PersonPage:
    trail, person_id = view.trail, view.asked
    page = Records(trail.ctx.client, trail.ctx.lock).person(person_id)
    if page is None:
        _no_such_person(trail, person_id)
    trail.record(
        asked={"person_id": person_id},
        person_ids=[page["person_id"], *page["merged_ids"]],
        address_ids=[a["address_id"] for a in page["addresses"]],
        event_ids=[i["event_id"] for i in page["interactions"]],
    )
    return PersonPage.model_validate(page)


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
    history = Records(trail.ctx.client, trail.ctx.lock).history(person_id)
    if history is None:
        _no_such_person(trail, person_id)
    trail.record(
        asked={"person_id": person_id},
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
    responses=refusals(404, _404="No such address (audited as `not_found`)."),
)
def get_address(view: AddressView) -> AddressPage:
    """The purpose code in the query; a ``purpose_detail`` there is refused (use the POST)."""
    return _address_page(view)


@router.post(
    "/addresses/{address_id}/view",
    summary=ADDRESS_PAGE + " (the purpose and its detail in the body)",
    responses=refusals(400, 404, 413, _404="No such address (audited as `not_found`)."),
)
def view_address(view: AddressViewPosted) -> AddressPage:
    """The same page as the GET, opened with a purpose whose detail stays out of URLs."""
    return _address_page(view)


def _address_page(view: Declared[str]) -> AddressPage:
    trail, address_id = view.trail, view.asked
    page = Records(trail.ctx.client, trail.ctx.lock).address(address_id)
    if page is None:
        trail.refuse(
            status.HTTP_404_NOT_FOUND,
            "no such address",
            outcome="not_found",
            asked={"address_id": address_id},
            address_ids=[address_id],
        )
    trail.record(
        asked={"address_id": address_id},
        person_ids=[p["person_id"] for p in page["people"]],
        address_ids=[address_id],
        event_ids=[i["event_id"] for i in page["interactions"]],
    )
    return AddressPage.model_validate(page)
