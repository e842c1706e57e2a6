"""Cases for the corrections tests (issue 13), shared by the unit and integration tests."""

from __future__ import annotations

from mast_core.events import InteractionEvent
from tests.factories import person_event

NHS = "9434765919"


def split_alert_case() -> list[InteractionEvent]:
    """Two people that a police record wrongly links, each seen by two agencies: merged,
    the four agencies meet ``multi_agency_contact`` (evidence a, b, b2, d). Parted again,
    the first person's own health, education and police records (a, d, c) still meet it;
    the second's police and fire records (b, b2) do not. Sent in this order."""
    return [
        person_event(agency="HEALTH", nhs=NHS, dob=None, event_id="a"),
        person_event(agency="EDUCATION", nhs=NHS, dob=None, event_id="d"),
        person_event(
            agency="POLICE",
            record="P-7",
            line1="9 Elm Way",
            postcode="DY9 9ZZ",
            town="Dudley",
            event_id="b",
        ),
        person_event(
            agency="FIRE", line1="9 Elm Way", postcode="DY9 9ZZ", town="Dudley", event_id="b2"
        ),
        person_event(agency="POLICE", record="P-7", nhs=NHS, event_id="c"),
    ]


def possible_match_case(run: str = "") -> list[InteractionEvent]:
    """Two records at one address, the same name, a birth date a month apart and another
    gender: under the shipped parameters the second starts a person of its own, kept for
    review beside the first (a possible match). Event ids ``{run}pm-1`` and ``{run}pm-2``."""
    return [
        person_event(agency="HEALTH", event_id=f"{run}pm-1"),
        person_event(agency="POLICE", dob="1957-03-13", gender="M", event_id=f"{run}pm-2"),
    ]


def later_record(run: str = "") -> InteractionEvent:
    """After ``possible_match_case``: the second person again, gender not stated. It joins
    the second person, and resembles the first enough to be kept for review beside them."""
    return person_event(agency="FIRE", dob="1957-03-13", gender="U", event_id=f"{run}pm-3")
