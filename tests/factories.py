"""Small builders for test data, shared by the test modules. Names are invented."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mast_core.avro import ACCEPTED_BATCH, codec
from mast_core.events import InteractionEvent, encode_interaction, parse_event
from mast_core.linkage.profile import Profile, build_profile
from mast_core.normalise.postcodes import normalise_postcode

_counter = iter(range(10**9))


def letters(hex_digits: str) -> str:
    """Hex digits as lower-case letters, for a name of a test run's own (a name never holds
    digits): ``"Brack" + letters(run)``."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in hex_digits)


def event_dict(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "fire-2026-000123",
        "agency": "FIRE",
        "source_system": "FireIncidents",
        "source_record_id": "F-123",
        "event_type": "FIRE_ATTENDANCE",
        "occurred_at": "2026-04-03T21:15:00Z",
        "subject": {
            "given_name": "Maisie",
            "family_name": "Thornbury-Kaye",
            "date_of_birth": "2012-02-13",
            "gender": "F",
            "address": {
                "line1": "12 Alder Street",
                "line2": None,
                "town": "Walsall",
                "postcode": "WS1 2AB",
                "uprn": "100071234567",
            },
            "nhs_number": "9434765919",
        },
        "case_status": None,
        "contact": {
            "name": "Watch Manager Reid",
            "team": "Blue Watch",
            "phone": "01922 000000",
            "email": "blue.watch@fire.example",
        },
    }
    event.update(overrides)
    return event


def person_event(
    given: str | None = "Margaret",
    family: str | None = "Thornbury",
    dob: str | None = "1957-02-13",
    gender: str = "F",
    line1: str | None = "12 Alder Street",
    postcode: str | None = "WS1 2AB",
    town: str | None = "Walsall",
    agency: str = "POLICE",
    record: str | None = None,
    nhs: str | None = None,
    event_id: str | None = None,
) -> InteractionEvent:
    """One record of one person, for the resolver: each detail can be varied or left out;
    without an ``event_id`` each call gets a fresh one."""
    address: dict[str, Any] | None = (
        {"line1": line1, "town": town, "postcode": postcode} if line1 or postcode else None
    )
    return parse_event(
        {
            "event_id": event_id or f"e-{next(_counter)}",
            "agency": agency,
            "source_system": "SYS",
            "source_record_id": record,
            "occurred_at": "2026-04-03T21:15:00Z",
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "gender": gender,
                "address": address,
                "nhs_number": nhs,
            },
        }
    )


def profile(address_id: str | None = "A1", **fields: Any) -> Profile:
    """The linkage profile of ``person_event(**fields)`` at ``address_id``."""
    event = person_event(**fields)
    postcode = event.subject.address.postcode if event.subject.address else None
    return build_profile(event, address_id, normalise_postcode(postcode))


def bridge_trio() -> list[InteractionEvent]:
    """Two identities that nothing links (health knows her NHS number but not her birth
    date; police know her birth date at another address), then a police record carrying
    both, which fits each strongly: it links them."""
    return [
        person_event(agency="HEALTH", nhs="9434765919", dob=None, event_id="a"),
        person_event(
            agency="POLICE",
            record="P-7",
            line1="9 Elm Way",
            postcode="DY9 9ZZ",
            town="Dudley",
            event_id="b",
        ),
        person_event(agency="POLICE", record="P-7", nhs="9434765919", event_id="c"),
    ]


def alert_row(
    rule: str,
    subject: str,
    counts: dict[str, int],
    *,
    alert_id: str | None = None,
    severity: str = "HIGH",
    kind: str = "PERSON",
    evidence: Sequence[str] = ("e1",),
    summary: str | None = None,
    ended: timedelta = timedelta(0),
) -> dict[str, Any]:
    """An alert as the sink stores it, raised now, its 30-day window ending ``ended`` ago;
    its summary is the rule unless given, and without an ``alert_id`` it gets a fresh one."""
    now = datetime.now(UTC)
    return {
        "alert_id": alert_id or f"AL{uuid.uuid4().hex[:12]}",
        "rule_id": rule,
        "severity": severity,
        "subject_kind": kind,
        "subject_id": subject,
        "window_start": now - ended - timedelta(days=30),
        "window_end": now - ended,
        "counts_by_agency": counts,
        "evidence_event_ids": list(evidence),
        "summary": rule if summary is None else summary,
        "raised_at": now,
    }


def namesake_trio(family: str, id_prefix: str, **peggy: Any) -> list[InteractionEvent]:
    """Margaret (born 1957-02-13) known to the police; the same woman as Peggy to health
    (``peggy`` varies her record's details); and a namesake Margaret born in 1990 in
    Birmingham: three records of ``family``, two people. Event ids ``<id_prefix>-1`` to
    ``-3``."""
    return [
        person_event(given="Margaret", family=family, dob="1957-02-13", event_id=f"{id_prefix}-1"),
        person_event(
            given="Peggy",
            family=family,
            dob="1957-02-13",
            agency="HEALTH",
            event_id=f"{id_prefix}-2",
            **peggy,
        ),
        person_event(
            given="Margaret",
            family=family,
            dob="1990-06-30",
            line1="3 Oak Road",
            postcode="B1 1AA",
            town="Birmingham",
            event_id=f"{id_prefix}-3",
        ),
    ]


def accepted_batch(*events: dict[str, Any]) -> bytes:
    """One message of the accepted log, as validation publishes it, holding these events."""
    items = [encode_interaction(parse_event(event)) for event in events]
    return codec(ACCEPTED_BATCH).encode({"events": items})
