"""Search by person and by address, and the person and address pages: every search or view
declares a purpose and is audited with what it showed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import AfterValidator, BaseModel, Field

from mast_core.errors import InvalidEvent
from mast_core.linkage.address_search import split_address_query
from mast_core.normalise.dates import is_placeholder_birth_date, parse_birth_date
from query_api.audit import Entry
from query_api.audited import audited, declared_purpose
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


PURPOSE_DESCRIPTION = (
    "Required: a code from GET /purposes. Missing, empty or not on the list, the request is "
    "refused with 422 and the refusal audited, the same on every route."
)


class Purposeful(RequestBody):
    purpose: Annotated[str | None, Field(description=PURPOSE_DESCRIPTION)] = None
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
@audited("search_persons")
def search_persons(ctx: Context, who: SignedIn, request: PersonSearchRequest) -> list[PersonResult]:
    purpose = require_purpose(
        ctx, who, "search_persons", request.purpose, detail=request.purpose_detail
    )
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
            matches = PersonSearch(ctx.client, ctx.lock).search(query)
        except (InvalidEvent, NarrowQuery) as exc:
            problem = str(exc)
    if problem is not None:
        _refuse(ctx, who, "search_persons", purpose, request, problem)
    ctx.audit.record(
        who,
        Entry(
            action="search_persons",
            purpose=purpose,
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
@audited("search_addresses")
def search_addresses(
    ctx: Context, who: SignedIn, request: AddressSearchRequest
) -> list[AddressResult]:
    purpose = require_purpose(
        ctx, who, "search_addresses", request.purpose, detail=request.purpose_detail
    )
    address, town, postcode = split_address_query(request.q) if request.q else (None,) * 3
    query = AddressQuery(
        request.address or address, request.town or town, request.postcode or postcode
    )
    if AddressSearch.normalise(query) is None:
        _refuse(ctx, who, "search_addresses", purpose, request, "give an address or a postcode")
    matches = AddressSearch(ctx.client, ctx.lock).search(query)
    ctx.audit.record(
        who,
        Entry(
            action="search_addresses",
            purpose=purpose,
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


def _refuse(
    ctx: ApiContext, who: Principal, action: str, purpose: str, request: Purposeful, problem: str
) -> NoReturn:
    """422 for a search that cannot be run as asked, audited with what was typed."""
    ctx.audit.record(
        who,
        Entry(
            action=action,
            outcome="refused",
            purpose=purpose,
            purpose_detail=request.purpose_detail,
            asked=request.model_dump(exclude={"purpose", "purpose_detail"}),
        ),
    )
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)


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


PurposeParam = Annotated[str | None, Query(description=PURPOSE_DESCRIPTION)]
DetailParam = Annotated[str, Query(max_length=500), AfterValidator(str.strip)]


def require_purpose(
    ctx: ApiContext,
    who: Principal,
    action: str,
    purpose: str | None,
    *,
    detail: str = "",
    person_ids: Sequence[str] = (),
    address_ids: Sequence[str] = (),
) -> str:
    """The declared purpose (surrounding space ignored), if it is on the configured list;
    otherwise (missing, empty, over-long, not on the list) 422 with the same answer on every
    route, and the refusal is audited with the person or address it concerned."""
    purpose = purpose.strip() if purpose is not None else None
    if purpose and purpose in ctx.settings.purposes:
        return purpose
    ctx.audit.record(
        who,
        Entry(
            action=action,
            outcome="refused",
            purpose=declared_purpose(purpose),
            purpose_detail=declared_purpose(detail, 500),
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
@audited("view_person", asked=("person_id",), person="person_id")
def person(
    ctx: Context,
    who: SignedIn,
    person_id: Annotated[str, Path(max_length=64)],
    purpose: PurposeParam = None,
    purpose_detail: DetailParam = "",
) -> dict[str, Any]:
    declared = require_purpose(
        ctx, who, "view_person", purpose, detail=purpose_detail, person_ids=[person_id]
    )
    page = Records(ctx.client, ctx.lock).person(person_id)
    if page is None:
        ctx.audit.record(
            who,
            Entry(
                action="view_person",
                outcome="not_found",
                purpose=declared,
                purpose_detail=purpose_detail,
                asked={"person_id": person_id},
                person_ids=[person_id],
            ),
        )
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
@audited("view_address", asked=("address_id",), address="address_id")
def address(
    ctx: Context,
    who: SignedIn,
    address_id: Annotated[str, Path(max_length=64)],
    purpose: PurposeParam = None,
    purpose_detail: DetailParam = "",
) -> dict[str, Any]:
    declared = require_purpose(
        ctx, who, "view_address", purpose, detail=purpose_detail, address_ids=[address_id]
    )
    page = Records(ctx.client, ctx.lock).address(address_id)
    if page is None:
        ctx.audit.record(
            who,
            Entry(
                action="view_address",
                outcome="not_found",
                purpose=declared,
                purpose_detail=purpose_detail,
                asked={"address_id": address_id},
                address_ids=[address_id],
            ),
        )
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
