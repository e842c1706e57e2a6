"""After a steward's split: the engine separates the merged person's timeline again, and an
alert one person's own records still meet is raised anew for that person (a new id, saying
it was raised after a correction); one whose evidence was one person's stands; a child that
was the other person's no longer lives at the kept person's address."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from itertools import count

from mast_core.escalation import EscalationEngine, Observation
from mast_core.escalation.engine import _Seen

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
"""Days 7 to 36 after it are one cool-down period of the 30-day rules (7 April to 7 May)."""
_ids = count()


def seen(days, agency, person, event_type=None, address="A1", dob=None):
    return Observation(
        event_id=f"s{next(_ids)}",
        occurred_at=START + timedelta(days=days),
        agency=agency,
        event_type=event_type,
        person_id=person,
        address_id=address,
        date_of_birth=dob,
    )


def owners(restored="R", kept="S"):
    """The resolver's ``person_of`` after the split: each id is its own person again."""
    return {restored: restored, kept: kept}.__getitem__


def fired(engine, observations):
    return [alert for o in observations for alert in engine.observe(o)]


def merged_then_split(engine):
    """S has police and health records, R a fire record: merged, the three agencies meet
    ``multi_agency_contact``; S's education record arrives after, in the same period."""
    assert fired(engine, [seen(10, "POLICE", "S"), seen(15, "HEALTH", "S")]) == []
    assert fired(engine, [seen(20, "FIRE", "R", address="A2")]) == []
    merged = engine.merge("S", "R")
    assert [a.rule_id for a in merged] == ["multi_agency_contact"]
    assert fired(engine, [seen(22, "EDUCATION", "S")]) == []  # the period has its alert
    return merged[0], engine.split("S", "R", owners(), "M1")


def test_an_alert_one_persons_own_records_meet_is_raised_again_for_them():
    engine = EscalationEngine(clock=lambda: START + timedelta(days=30))
    withdrawn, after = merged_then_split(engine)
    assert [(a.rule_id, a.subject_id) for a in after] == [("multi_agency_contact", "S")]
    (again,) = after
    assert again.alert_id != withdrawn.alert_id  # the withdrawn one keeps its id
    assert "raised after a correction" in again.summary
    assert again.counts_by_agency == {"EDUCATION": 1, "HEALTH": 1, "POLICE": 1}
    assert again.window_end == START + timedelta(days=22)
    fire = [e for e in withdrawn.evidence_event_ids if e not in again.evidence_event_ids]
    assert len(fire) == 1  # R's fire record is not S's evidence any more
    # the period has its alert again: S's next record in it raises nothing
    assert fired(engine, [seen(25, "FIRE", "S")]) == []


def test_the_same_log_gives_the_same_alerts_and_ids():
    first = EscalationEngine(clock=lambda: START + timedelta(days=30))
    second = EscalationEngine(clock=lambda: START + timedelta(days=30))
    global _ids  # the same event ids for both runs
    _ids = count()
    one = merged_then_split(first)
    _ids = count()
    two = merged_then_split(second)
    assert [a.to_record() for a in one[1]] == [a.to_record() for a in two[1]]
    assert one[0].alert_id == two[0].alert_id


def test_records_go_back_to_the_restored_person():
    engine = EscalationEngine(clock=lambda: START)
    merged_then_split(engine)
    # R's fire record is R's again: with police and health it meets the rule for R alone
    alerts = fired(engine, [seen(23, "POLICE", "R"), seen(24, "HEALTH", "R")])
    assert [(a.rule_id, a.subject_id) for a in alerts] == [("multi_agency_contact", "R")]
    assert alerts[0].counts_by_agency == {"FIRE": 1, "HEALTH": 1, "POLICE": 1}
    assert "correction" not in alerts[0].summary


def test_an_alert_whose_evidence_was_one_persons_stands_and_is_not_raised_twice():
    engine = EscalationEngine(clock=lambda: START)
    own = fired(engine, [seen(10, "POLICE", "S"), seen(12, "HEALTH", "S"), seen(14, "FIRE", "S")])
    assert [a.subject_id for a in own] == ["S"]
    assert fired(engine, [seen(15, "EDUCATION", "R", address="A2")]) == []
    assert engine.merge("S", "R") == []
    assert engine.split("S", "R", owners(), "M1") == []
    assert fired(engine, [seen(16, "EDUCATION", "S")]) == []  # S's alert of the period stands


def test_a_child_of_the_other_person_no_longer_lives_at_the_kept_persons_address():
    def run(split: bool) -> list[str]:
        engine = EscalationEngine(clock=lambda: START)
        engine.observe(seen(1, "HEALTH", "S", dob=date(1970, 1, 1)))
        engine.observe(seen(2, "EDUCATION", "R", address="A2", dob=date(2015, 6, 1)))
        engine.merge("S", "R")
        if split:
            engine.split("S", "R", owners(), "M1")
        fires = [seen(d, "FIRE", "S", "FIRE_ATTENDANCE") for d in (10, 11, 12)]
        return [a.rule_id for a in fired(engine, fires) if a.subject_kind == "ADDRESS"]

    assert run(split=False) == ["repeat_fires_where_children_live"]  # the merged person
    assert run(split=True) == []  # the child is R, who never lived at A1


def test_a_merge_within_a_merge_splits_only_what_the_undone_merge_brought():
    engine = EscalationEngine(clock=lambda: START)
    fired(engine, [seen(10, "POLICE", "S"), seen(11, "HEALTH", "T"), seen(12, "FIRE", "R")])
    engine.merge("S", "T")
    engine.merge("S", "R")
    engine.split("S", "R", {"R": "R", "S": "S", "T": "S"}.__getitem__, "M2")
    assert [s.held_as for s in engine.timelines[("person", "S")]] == ["S", "T"]
    assert [s.held_as for s in engine.timelines[("person", "R")]] == ["R"]


def test_state_pickles_and_an_event_pickled_before_held_as_restores():
    engine = EscalationEngine()  # the default clock pickles; a lambda would not
    merged_then_split(engine)
    restored = pickle.loads(pickle.dumps(engine))  # noqa: S301 - its own bytes
    assert restored.timelines == engine.timelines
    assert restored.alerted.keys() == engine.alerted.keys()
    old = _Seen.__new__(_Seen)
    old.__setstate__([START, "e1", "POLICE", None])  # four fields, as pickled before
    assert old.held_as == "" and old.event_id == "e1"
