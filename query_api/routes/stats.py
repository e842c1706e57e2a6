"""Match statistics in the manner of the pilot's tables: how many of one agency's people
another agency also knows, and how addresses spread by matched incidents. Counts only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from mast_core.events import Agency
from query_api.answers import refusals
from query_api.audited import Trail, audit_of

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=refusals(401, 422))

BANDS = ("1-5", "6-10", "11-20", "over 20")

_PEOPLE = (
    "SELECT countIf(has(agencies, {agency:String})), "
    "countIf(has(agencies, {agency:String}) AND length(agencies) > 1) "
    "FROM (SELECT person_id, groupUniqArray(agency) AS agencies FROM identity_map "
    "GROUP BY person_id)"
)
_BY_OTHER = (
    "SELECT other, count() FROM ("
    "  SELECT person_id, groupUniqArray(agency) AS agencies FROM identity_map GROUP BY person_id"
    ") ARRAY JOIN agencies AS other "
    "WHERE has(agencies, {agency:String}) AND other != {agency:String} "
    "GROUP BY other ORDER BY other"
)
_ADDRESSES = (
    "SELECT multiIf(n <= 5, '1-5', n <= 10, '6-10', n <= 20, '11-20', 'over 20'), count() "
    "FROM (SELECT m.address_id, count() AS n FROM identity_map AS m "
    "  INNER JOIN (SELECT person_id FROM identity_map GROUP BY person_id "
    "              HAVING uniqExact(agency) > 1) AS p ON p.person_id = m.person_id "
    "  WHERE m.address_id != '' AND m.agency = {agency:String} "
    "  GROUP BY m.address_id) "
    "GROUP BY 1"
)


class AgencyMatches(BaseModel):
    agency: str
    people: int
    matched_elsewhere: int
    percent: float
    also_known_to: dict[str, int]
    addresses_by_matched_incidents: dict[str, int]


@router.get("/stats/matching", summary="How one agency's people match other agencies' records")
def matching_statistics(
    trail: Annotated[Trail, audit_of("view_stats", asked=("agency",))], agency: Agency
) -> AgencyMatches:
    ctx = trail.ctx
    parameters = {"agency": agency.value}
    with ctx.lock:
        people, matched = ctx.client.query(_PEOPLE, parameters=parameters).result_rows[0]
        others = ctx.client.query(_BY_OTHER, parameters=parameters).result_rows
        rows = ctx.client.query(_ADDRESSES, parameters=parameters).result_rows
        bands = {str(row[0]): int(row[1]) for row in rows}
    trail.record(asked={"agency": agency.value})
    spread = {band: bands.get(band, 0) for band in BANDS}
    return AgencyMatches(
        agency=agency.value,
        people=int(people),
        matched_elsewhere=int(matched),
        percent=round(100.0 * matched / people, 1) if people else 0.0,
        also_known_to={str(other): int(count) for other, count in others},
        addresses_by_matched_incidents=spread,
    )
