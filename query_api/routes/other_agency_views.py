"""Recent views by other agencies (sensitive records issue, item 3): for the organisation
holding a person's open case, who of other organisations opened the person's page lately,
as CP-IS lists a child's last accesses for the local authority (``query_api.other_views``
says what is shown and what never is). A person page asks for it when the caller's
organisation holds one of the open cases it lists. Opened with a purpose, as the page is;
audited as ``view_other_agency_views`` with the person. Everyone else is answered that
they hold no open case, with no views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from query_api.answers import refusals
from query_api.audited import Audited, Declared, Trail, auditing
from query_api.cases import case_spans
from query_api.context import Context, SignedIn
from query_api.other_views import views_by_others
from query_api.reads import Reader
from query_api.routes.persons import PageRequest, PurposeParam, SubjectId, declare_view

router = APIRouter(prefix="/api/v1", tags=["persons"], responses=refusals(401, 422))

VIEW_OTHER_AGENCY_VIEWS = Audited(
    "view_other_agency_views", asked=("person_id",), person="person_id"
)
MAX_VIEWS = 50
SUMMARY = "Recent views of a person by other agencies, for the organisation holding their case"


class OtherAgencyView(BaseModel):
    at: datetime
    username: str
    role: str
    organisation: str
    purpose: str = Field(description="The purpose code declared (never its free-text detail).")


class OtherAgencyViews(BaseModel):
    person_id: str = Field(description="The person's current id.")
    case_holder: bool = Field(
        description="The caller's organisation holds an open case for the person now; only "
        "then are views listed."
    )
    views: list[OtherAgencyView] = Field(
        description="Page views by users of other organisations in the last "
        "MAST_LEAD_AGENCY_NOTICE_DAYS days, newest first (50 at most), whatever their purpose."
    )


@auditing(VIEW_OTHER_AGENCY_VIEWS)
def _asked(
    ctx: Context, who: SignedIn, person_id: SubjectId, raw: Request, purpose: PurposeParam = None
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_OTHER_AGENCY_VIEWS)
    declare_view(trail, purpose, "", raw, person_ids=[person_id])
    return Declared(trail, person_id)


@auditing(VIEW_OTHER_AGENCY_VIEWS)
def _asked_posted(
    ctx: Context, who: SignedIn, person_id: SubjectId, body: PageRequest
) -> Declared[str]:
    trail = Trail(ctx, who, VIEW_OTHER_AGENCY_VIEWS)
    declare_view(trail, body.purpose, body.purpose_detail.strip(), None, person_ids=[person_id])
    return Declared(trail, person_id)


Asked = Annotated[Declared[str], Depends(_asked)]
AskedPosted = Annotated[Declared[str], Depends(_asked_posted)]


@router.get("/persons/{person_id}/views-by-other-agencies", summary=SUMMARY)
def get_other_agency_views(asked: Asked) -> OtherAgencyViews:
    """The purpose code in the query; a ``purpose_detail`` there is refused (use the POST)."""
    return _views(asked)


@router.post(
    "/persons/{person_id}/views-by-other-agencies/view",
    summary=SUMMARY + " (the purpose and its detail in the body)",
    responses=refusals(400, 413),
)
def view_other_agency_views(asked: AskedPosted) -> OtherAgencyViews:
    """The same list as the GET, asked with a purpose whose detail stays out of URLs."""
    return _views(asked)


def _views(asked: Declared[str]) -> OtherAgencyViews:
    trail, person_id = asked.trail, asked.asked
    ctx, who = trail.ctx, trail.who
    reader = Reader(ctx.client, ctx.lock)
    person = reader.current_person(person_id)
    now = datetime.now(UTC)
    holder = any(
        span.agency == who.organisation and span.open_at(now)
        for span in case_spans(reader, [person]).get(person, ())
    )
    ids = sorted(reader.owners([person]))
    views = (
        views_by_others(
            reader,
            who.organisation,
            now - timedelta(days=ctx.settings.lead_agency_notice_days),
            MAX_VIEWS,
            person_ids=ids,
        )
        if holder
        else []
    )
    trail.record(asked={"person_id": person_id}, person_ids=ids)
    return OtherAgencyViews(
        person_id=person,
        case_holder=holder,
        views=[
            OtherAgencyView(
                at=v.at,
                username=v.username,
                role=v.role,
                organisation=v.organisation,
                purpose=v.purpose,
            )
            for v in views
        ],
    )
