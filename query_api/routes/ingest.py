"""HTTP ingestion for partners that cannot run a Kafka client: a batch of events in the
JSON form of docs/event-contract.md, authenticated by the partner's API key, which fixes the
agency.

Each event goes through the one admission path every door shares
(``producers.admission.Admissions``: the sender's agency, the pipeline's own validation,
repeats within the batch), so the partner learns at once what was rejected and why (field and
problem, never the value), in the words a CSV or JSONL report uses; the accepted ones are
published to the interactions topic and acknowledged by Kafka before the answer is sent.
"""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from mast_core.events import InteractionEvent
from producers.admission import Admissions, Outcome
from query_api.answers import refusals
from query_api.bodies import RequestBody
from query_api.context import Context
from query_api.partners import Partner

router = APIRouter(prefix="/api/v1", tags=["ingest"])
log = logging.getLogger("mast.api.ingest")

MAX_BATCH = 1000

api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="The partner's key from `mast partners add`; it fixes the agency.",
)


def partner(ctx: Context, key: Annotated[str | None, Depends(api_key)]) -> Partner:
    found = ctx.partners.verify(key)
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send the partner API key in X-API-Key (missing, unknown or revoked)",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return found


class IngestBatch(RequestBody):
    events: Annotated[
        list[Any],
        Field(
            min_length=1,
            max_length=MAX_BATCH,
            description="Interaction events in the JSON form of docs/event-contract.md; "
            "`agency` may be left out (the key says it) but must not name another agency. "
            "An event with `retracts_event_id` withdraws (empty `subject`) or corrects "
            "(`subject` with the corrected details) one of this partner's own earlier events; "
            "`sensitivity` marks a record to be shielded.",
        ),
    ]


class Problem(BaseModel):
    field: str
    problem: str


class RejectedEvent(BaseModel):
    index: int
    event_id: str | None
    problems: list[Problem]


class IngestResult(BaseModel):
    accepted: int
    event_ids: list[str]
    rejected: list[RejectedEvent]


@router.post(
    "/ingest",
    summary="Publish a batch of interaction events (partner API key)",
    responses=refusals(
        400,
        401,
        413,
        422,
        429,
        503,
        _401="The partner API key is missing, unknown or revoked.",
        _429="Over MAST_INGEST_EVENTS_PER_MINUTE events a minute for this key.",
        _503="Kafka did not acknowledge the events: send the same batch again (event ids "
        "make a repeat harmless).",
    ),
)
def ingest_events(
    ctx: Context, source: Annotated[Partner, Depends(partner)], batch: IngestBatch
) -> IngestResult:
    wait = ctx.ingest_rate.admit(source.key_id, len(batch.events))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"over {ctx.settings.ingest_events_per_minute:,} events a minute for this key; "
            "send the batch again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    accepted: list[InteractionEvent] = []
    rejected: list[RejectedEvent] = []
    door = Admissions(source.agency)
    for index, item in enumerate(batch.events):
        admission = door.admit(item)
        if admission.outcome is Outcome.ACCEPTED and admission.event is not None:
            accepted.append(admission.event)
            continue
        rejected.append(
            RejectedEvent(
                index=index,
                event_id=admission.event_id,
                problems=[Problem(field=p.field, problem=p.message) for p in admission.problems],
            )
        )
    if accepted:
        delivery = ctx.publisher().publish(accepted, timeout=30.0)
        if delivery.failed:
            log.error(
                "partner %s: Kafka did not acknowledge %d of %d events",
                source.key_id,
                len(delivery.failed),
                len(accepted),
            )
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the events could not be stored; send the same batch again (event ids make "
                "a repeat harmless)",
                headers={"Retry-After": "30"},
            )
    log.info(
        "partner %s (%s): %d events accepted, %d rejected",
        source.key_id,
        source.agency.value,
        len(accepted),
        len(rejected),
    )
    return IngestResult(
        accepted=len(accepted),
        event_ids=[event.event_id for event in accepted],
        rejected=rejected,
    )
