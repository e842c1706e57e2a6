"""A partner's retraction in the escalation engine (``EscalationEngine.forget``): the
withdrawn record no longer says anyone is a child or lives anywhere, an alert it was
evidence for frees its period, and the records left raise an alert in it again, under a
new id, only when they still meet the rule; the same log raises the same alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

from mast_core.escalation import EscalationEngine, Observation
from mast_core.escalation.engine import Alert, Withdrawal

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
"""Days 7 to 36 after it are one cool-down period of the 30-day rules."""
RAISED = datetime(2026, 6, 1, tzinfo=UTC)
_ids = count()


def _clock() -> datetime:
    return RAISED


def engine() -> EscalationEngine:
    return EscalationEngine(clock=_clock)


def seen(days, agency, person, event_type=None, address="A1", dob=None, status=None, id=None):
    return Observation(
        event_id=id or f"f{next(_ids)}",
        occurred_at=START + timedelta(days=days),
        agency=agency,
        event_type=event_type,
        person_id=person,
        address_id=address,
        date_of_birth=dob,
        case_status=status,
    )


def withdraw(o: Observation, births=(), homes=(), by="R1", person=None) -> Withdrawal:
    return Withdrawal(
        agency=o.agency,
        event_id=o.event_id,
        person_id=person or o.person_id,
        address_id=o.address_id,
        date_of_birth=o.date_of_birth,
        births_left=frozenset(births),
        homes_left=frozenset(homes),
        withdrawn_by=by,
    )


def abuse(days, person="X", address="A1"):
    return seen(days, "POLICE", person, "DOMESTIC_ABUSE_INCIDENT", address=address)


def fired(e: EscalationEngine, observations) -> list[Alert]:
    return [alert for o in observations for alert in e.observe(o)]


def test_a_withdrawn_case_opened_no_longer_makes_a_child_live_at_the_address():
    case = seen(0, "CHILDREN_SOCIAL_CARE", "C", "CASE_OPENED", status="OPEN")
    control = engine()
    fired(control, [case])
    assert [a.rule_id for a in fired(control, [abuse(2)])] == ["domestic_abuse_where_child_lives"]

    e = engine()
    fired(e, [case])
    assert e.forget(withdraw(case)) == []
    assert "C" not in e.people and "C" not in e.residents.get("A1", set())
    assert fired(e, [abuse(2)]) == []  # no child lives here any more


def test_a_date_of_birth_another_record_still_carries_stays():
    born = date(2015, 6, 1)
    first = seen(0, "HEALTH", "C", dob=born)
    second = seen(1, "FIRE", "C", dob=born, address="A2")
    e = engine()
    fired(e, [first, second])
    e.forget(withdraw(first, births={born}, homes={"A2"}))
    assert e.people["C"].births == (born,)  # the fire record still says so
    assert "A1" not in e.addresses_of["C"] and "C" in e.residents["A2"]
    assert [a.rule_id for a in fired(e, [abuse(3, address="A2")])] == [
        "domestic_abuse_where_child_lives"
    ]
    e.forget(withdraw(second))
    assert "C" not in e.people
    assert fired(e, [abuse(4, address="A2")]) == []


def _three_agencies(e: EscalationEngine, education: bool) -> tuple[Alert, Observation]:
    fire = seen(20, "FIRE", "S")
    (alert,) = fired(e, [seen(10, "POLICE", "S"), seen(15, "HEALTH", "S"), fire])
    assert alert.rule_id == "multi_agency_contact"
    if education:
        assert fired(e, [seen(22, "EDUCATION", "S")]) == []  # the period has its alert
    return alert, fire


def test_an_alert_whose_evidence_was_withdrawn_is_raised_again_when_the_rest_meets_the_rule():
    e = engine()
    withdrawn, fire = _three_agencies(e, education=True)
    (again,) = e.forget(withdraw(fire, by="Rabc"))
    assert again.rule_id == "multi_agency_contact" and again.subject_id == "S"
    assert again.alert_id != withdrawn.alert_id
    assert fire.event_id not in again.evidence_event_ids
    assert set(again.counts_by_agency) == {"POLICE", "HEALTH", "EDUCATION"}
    assert "raised after a correction: a partner withdrew a record on 1 Jun 2026" in (again.summary)
    assert again.raised_at == RAISED
    assert fired(e, [seen(25, "HOUSING", "S")]) == []  # the period is taken again


def test_and_not_when_the_records_left_do_not_meet_it():
    e = engine()
    _alert, fire = _three_agencies(e, education=False)
    assert e.forget(withdraw(fire)) == []
    # the period is free: other evidence that arrives later raises in it
    (late,) = fired(e, [seen(21, "EDUCATION", "S")])
    assert late.rule_id == "multi_agency_contact"


def test_an_address_alert_whose_incident_was_withdrawn_frees_its_period():
    e = engine()
    case = seen(0, "CHILDREN_SOCIAL_CARE", "C", "CASE_OPENED", status="OPEN")
    incident = abuse(2)
    (first,) = fired(e, [case, incident])
    assert e.forget(withdraw(incident, homes=set())) == []
    (second,) = fired(e, [abuse(2.5)])  # the same day: one period of the 1-day rule
    assert second.alert_id != first.alert_id


def test_replay_gives_the_same_alerts():
    def run() -> list[dict]:
        global _ids
        _ids = count()
        e = engine()
        out = [a.to_record() for a in _three_agencies(e, education=True)[:1]]
        fire = next(s for s in e.timelines[("person", "S")] if s.agency == "FIRE")
        observed = Observation(fire.event_id, fire.occurred_at, "FIRE", None, "S", "A1")
        out += [a.to_record() for a in e.forget(withdraw(observed, by="R9"))]
        return out

    first, second = run(), run()
    assert first == second and len(first) == 2


def test_a_withdrawal_with_the_merge_it_bridged_undone():
    """The record was the bridge: the merged person S+R loses it, is split, and the alert
    whose evidence included it is withdrawn; each person alone meets nothing."""
    e = engine()
    fired(e, [seen(10, "POLICE", "S"), seen(15, "HEALTH", "S")])
    bridge = seen(20, "FIRE", "R", address="A2")
    fired(e, [bridge])
    (merged,) = e.merge("S", "R")
    owners = {"S": "S", "R": "R"}.__getitem__
    assert e.forget(withdraw(bridge, person="S"), [("S", "R", "M1")], owners) == []
    assert ("multi_agency_contact", "S") not in e.fired
    assert "R" not in e.addresses_of and "R" not in e.residents.get("A2", set())
    assert merged.alert_id
