"""One admission for every door (producers.admission): the agency check, the pipeline's
validation, repeats, and the words the reports use."""

from __future__ import annotations

import pytest

from mast_core.events import Agency
from producers.admission import (
    NOT_AN_OBJECT,
    REPEATED,
    Admissions,
    Outcome,
    echoable_id,
    other_agency,
)
from tests.factories import event_dict


def _event(event_id: str, **changes):
    event = event_dict(event_id=event_id, **changes)
    event.pop("agency") if "agency" not in changes else None
    return event


def test_the_senders_agency_is_filled_in_and_another_refused():
    door = Admissions(Agency.HEALTH)
    filled = door.admit(_event("h-1"))
    assert filled.outcome is Outcome.ACCEPTED
    assert filled.event is not None and filled.event.agency is Agency.HEALTH
    assert door.admit(_event("h-2", agency="health")).outcome is Outcome.ACCEPTED
    assert door.admit(_event("h-3", agency="NULL")).outcome is Outcome.ACCEPTED  # "not given"
    refused = door.admit(_event("h-4", agency="POLICE"))
    assert refused.outcome is Outcome.REJECTED
    assert [(p.field, p.message) for p in refused.problems] == [
        ("agency", other_agency(Agency.HEALTH))
    ]
    assert refused.reason == "agency: is not HEALTH, the agency sending these events"
    nonsense = door.admit(_event("h-5", agency="Mrs Thornbury"))
    assert nonsense.outcome is Outcome.REJECTED
    assert "Thornbury" not in nonsense.reason  # problems name fields, never values


def test_without_a_known_sender_the_event_names_its_agency():
    door = Admissions()
    missing = door.admit(_event("x-1"))
    assert missing.outcome is Outcome.REJECTED
    assert missing.field == "agency"
    assert door.admit(_event("x-1", agency="FIRE")).outcome is Outcome.ACCEPTED


def test_validation_is_the_pipelines():
    door = Admissions(Agency.FIRE)
    late = door.admit(_event("f-1", occurred_at="last Tuesday"))
    assert late.outcome is Outcome.REJECTED and late.field == "occurred_at"
    assert "Tuesday" not in late.reason
    nobody = door.admit({"event_id": "f-2", "subject": {}})
    assert nobody.outcome is Outcome.REJECTED and nobody.field == "subject"
    for item in ("not an object", ["a list"], None, 7):
        odd = door.admit(item)
        assert (odd.outcome, odd.field, odd.problems[0].message) == (
            Outcome.REJECTED,
            "(event)",
            NOT_AN_OBJECT,
        )


def test_a_repeat_within_a_submission_is_sent_once_and_named_as_one():
    door = Admissions()
    police = _event("1", agency="POLICE")
    fire = _event("1", agency="FIRE")
    outcomes = [door.admit(item).outcome for item in (police, fire, police)]
    assert outcomes == [Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.REPEATED]
    repeat = door.admit(police)
    assert repeat.reason == f"event_id: {REPEATED}"
    assert repeat.event is None and repeat.event_id == "1"
    assert Admissions().admit(police).outcome is Outcome.ACCEPTED  # another submission


def test_a_rejected_event_is_not_remembered_so_its_correction_is_taken():
    door = Admissions(Agency.FIRE)
    assert door.admit(_event("c-1", occurred_at="soon")).outcome is Outcome.REJECTED
    assert door.admit(_event("c-1")).outcome is Outcome.ACCEPTED


@pytest.mark.parametrize(
    ("item", "echoed"),
    [
        ({"event_id": "IRS-1"}, "IRS-1"),
        ({"event_id": ""}, None),
        ({"event_id": "x" * 257}, None),
        ({"event_id": 12}, None),
        ({"event_id": "bad\ud800"}, None),  # a lone surrogate cannot be written back
        ("not an object", None),
    ],
)
def test_only_a_plausible_event_id_is_repeated_back(item, echoed):
    assert echoable_id(item) == echoed


def test_the_ingest_routes_batch_gets_the_answers_it_gives_today():
    """The batch of tests/integration/test_ingest.py, judged by the shared rules: the same
    events are accepted and the same are refused (the HTTP route is to call this)."""
    family = "Ingest"
    subject = {"given_name": "Edna", "family_name": family, "date_of_birth": "1950-03-04"}

    def item(event_id, **extra):
        base = {
            "event_id": event_id,
            "event_type": "ED_ATTENDANCE",
            "occurred_at": "2026-04-20T13:00:00Z",
            "subject": subject,
        }
        return {**base, **extra}

    batch = [
        item("i-1"),
        item("i-2", agency="HEALTH"),
        item("i-3", agency="POLICE"),
        {"event_id": "i-4", "agency": "HEALTH"},
        item("i-5", occurred_at="last Tuesday"),
        item("i-1"),
        "not an object",
    ]
    door = Admissions(Agency.HEALTH)
    answers = [door.admit(event) for event in batch]
    assert [a.outcome for a in answers] == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.REPEATED,
        Outcome.REJECTED,
    ]
    assert [a.field for a in answers[2:]] == [
        "agency",
        "subject",
        "occurred_at",
        "event_id",
        "(event)",
    ]
