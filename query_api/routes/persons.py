"""Search by person and by address, and the person and address pages: every search or view
declares a purpose and is audited with what it showed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import AfterValidator, BaseModel, Field

from mast_core.errors import InvalidEvent
from mast_core.linkage.address_search import split_address_query
from mast_core.normalise.dates import is_placeholder_birth_date, parse_birth_date
from query_api.audit import Entry
from query_api.bodies import RequestBody
from query_api.context import ApiContext, Context, SignedIn
from query_api.records import Records
from query_api.search import (
    AddressQuery,
    AddressSearch,
    NarrowQuery,
    PersonMatch,
    PersonQuery,
    PersonSearch,
)
from query_api.security import Principal

router = APIRouter(prefix="/api/v1", tags=["search"])

Text = Annotated[str | None, Field(max_length=128)]


class Purposeful(RequestBody):
    purpose: Annotated[str, Field(min_length=1, max_length=64)]
    purpose_detail: Annotated[str, Field(max_length=500)] = ""


class PersonSearchRequest(Purposeful):
    given_name: Text = None
    family_name: Text = None
    date_of_birth: Annotated[str | None, Field(max_length=32)] = None
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


@router.post(
    "/search/persons",
    summary="Find people by name, date of birth and postcode, ranked by match confidence",
    responses={422: {}},
)
def search_persons(ctx: Context, who: SignedIn, request: PersonSearchRequest) -> list[PersonResult]:
    require_purpose(ctx, who, "search_persons", request.purpose)
    if request.date_of_birth and parse_birth_date(request.date_of_birth) is None:
        problem = (
            "is a placeholder for 'not known': leave it out"
            if is_placeholder_birth_date(request.date_of_birth)
            else "is not a date"
        )
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"date_of_birth {problem}")
    if not (request.family_name or request.given_name):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give at least a name")
    query = PersonQuery(
        request.given_name, request.family_name, request.date_of_birth, request.postcode
    )
    try:
        matches = PersonSearch(ctx.client, ctx.lock).search(query)
    except (InvalidEvent, NarrowQuery) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    ctx.audit.record(
        who,
        Entry(
            action="search_persons",
            purpose=request.purpose,
            purpose_detail=request.purpose_detail,
            asked=request.model_dump(exclude={"purpose", "purpose_detail"}),
            person_ids=[m.person_id for m in matches],
            event_ids=[e for m in matches for e in m.event_ids],
        ),
    )
    return [_result(match) for match in matches]


class AddressSearchRequest(Purposeful):
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


@router.post(
    "/search/addresses",
    summary="Find addresses by free text, town and postcode, with the people linked to each",
    responses={422: {}},
)
def search_addresses(
    ctx: Context, who: SignedIn, request: AddressSearchRequest
) -> list[AddressResult]:
    require_purpose(ctx, who, "search_addresses", request.purpose)
    address, town, postcode = split_address_query(request.q) if request.q else (None,) * 3
    query = AddressQuery(
        request.address or address, request.town or town, request.postcode or postcode
    )
    if AddressSearch.normalise(query) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give an address or a postcode")
    matches = AddressSearch(ctx.client, ctx.lock).search(query)
    ctx.audit.record(
        who,
        Entry(
            action="search_addresses",
            purpose=request.purpose,
            purpose_detail=request.purpose_detail,
            asked=request.model_dump(exclude={"purpose", "purpose_detail"}),
            person_ids=[p["person_id"] for m in matches for p in m.people],
            address_ids=[m.address_id for m in matches],
        ),
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


PurposeParam = Annotated[str | None, Query(max_length=64)]
DetailParam = Annotated[str, Query(max_length=500), AfterValidator(str.strip)]


def require_purpose(
    ctx: ApiContext,
    who: Principal,
    action: str,
    purpose: str | None,
    *,
    person_ids: Sequence[str] = (),
    address_ids: Sequence[str] = (),
) -> str:
    """The declared purpose (surrounding space ignored, as in a search's body), if it is on
    the configured list; otherwise 422, and the refusal is audited with the person or
    address it concerned."""
    purpose = purpose.strip() if purpose is not None else None
    if purpose and purpose in ctx.settings.purposes:
        return purpose
    ctx.audit.record(
        who,
        Entry(
            action=action,
            outcome="refused",
            purpose=(purpose or "")[:64],
            person_ids=person_ids,
            address_ids=address_ids,
        ),
    )
    raise HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        f"declare a purpose: one of {', '.join(ctx.settings.purposes)}",
    )


@router.get(
    "/persons/{person_id}",
    summary="A person: records per agency, timeline, open cases, contacts, alerts",
    responses={404: {}, 422: {}},
)
def person(
    ctx: Context,
    who: SignedIn,
    person_id: Annotated[str, Path(max_length=64)],
    purpose: PurposeParam = None,
    purpose_detail: DetailParam = "",
) -> dict[str, Any]:
    declared = require_purpose(ctx, who, "view_person", purpose, person_ids=[person_id])
    page = Records(ctx.client, ctx.lock).person(person_id)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person")
    ctx.audit.record(
        who,
        Entry(
            action="view_person",
            purpose=declared,
            purpose_detail=purpose_detail,
            asked={"person_id": person_id},
            person_ids=[page["person_id"], *page["merged_ids"]],
            address_ids=[a["address_id"] for a in page["addresses"]],
            event_ids=[i["event_id"] for i in page["interactions"]],
        ),
    )
    return page


@router.get(
    "/addresses/{address_id}",
    summary="An address: the people linked to it, its events and alerts",
    responses={404: {}, 422: {}},
)
def address(
    ctx: Context,
    who: SignedIn,
    address_id: Annotated[str, Path(max_length=64)],
    purpose: PurposeParam = None,
    purpose_detail: DetailParam = "",
) -> dict[str, Any]:
    declared = require_purpose(ctx, who, "view_address", purpose, address_ids=[address_id])
    page = Records(ctx.client, ctx.lock).address(address_id)
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such address")
    ctx.audit.record(
        who,
        Entry(
            action="view_address",
            purpose=declared,
            purpose_detail=purpose_detail,
            asked={"address_id": address_id},
            person_ids=[p["person_id"] for p in page["people"]],
            address_ids=[address_id],
            event_ids=[i["event_id"] for i in page["interactions"]],
        ),
    )
    return page
