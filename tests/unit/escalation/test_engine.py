from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from mast_core.avro import ALERT, codec
from mast_core.escalation import EscalationEngine, Observation, RulesError, load_rules

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
_ids = count()


def seen(days, agency, event_type=None, person="P1", address="A1", dob=None, status=None):
    return Observation(
        event_id=f"e{next(_ids)}",
        occurred_at=START + timedelta(days=days),
        agency=agency,
        event_type=event_type,
        person_id=person,
        address_id=address,
        date_of_birth=dob,
        case_status=status,
    )


def fired(engine, observations):
    return [alert for o in observations for alert in engine.observe(o)]


def engine():
    return EscalationEngine(clock=lambda: START)


def test_repeat_fires_where_a_child_lives():
    e = engine()
    e.observe(seen(0, "EDUCATION", "ABSENCE_CONCERN", person="child", dob=date(2015, 6, 1)))
    alerts = fired(e, [seen(d, "FIRE", "FIRE_ATTENDANCE", person="adult") for d in (2, 9, 20)])
    assert [a.rule_id for a in alerts] == ["repeat_fires_where_children_live"]
    alert = alerts[0]
    assert (alert.subject_kind, alert.subject_id, alert.severity) == ("ADDRESS", "A1", "HIGH")
    assert alert.counts_by_agency == {"FIRE": 3}
    assert len(alert.evidence_event_ids) == 3
    assert alert.window_end - alert.window_start == timedelta(days=30)
    codec(ALERT).decode(codec(ALERT).encode(alert.to_record()))  # fits the wire contract


def test_repeat_fires_without_a_child_or_spread_out_do_not_fire():
    adults_only = engine()
    adults_only.observe(seen(0, "HEALTH", person="adult", dob=date(1960, 1, 1)))
    assert fired(adults_only, [seen(d, "FIRE", "FIRE_ATTENDANCE") for d in (1, 2, 3)]) == []
    spread = engine()
    spread.observe(seen(0, "EDUCATION", person="child", dob=date(2015, 6, 1)))
    assert fired(spread, [seen(d, "FIRE", "FIRE_ATTENDANCE") for d in (1, 40, 80)]) == []


def test_a_looked_after_child_counts_though_no_birth_date_is_known():
    e = engine()
    e.observe(seen(0, "CHILDREN_SOCIAL_CARE", "CASE_OPENED", person="lac", status="OPEN"))
    alerts = fired(e, [seen(d, "FIRE", "FIRE_ATTENDANCE", person="x") for d in (1, 2, 3)])
    assert [a.rule_id for a in alerts] == ["repeat_fires_where_children_live"]


def test_three_agencies_for_one_person_within_30_days():
    e = engine()
    alerts = fired(e, [seen(0, "POLICE"), seen(5, "HEALTH"), seen(12, "FIRE")])
    assert [a.rule_id for a in alerts] == ["multi_agency_contact"]
    assert alerts[0].counts_by_agency == {"FIRE": 1, "HEALTH": 1, "POLICE": 1}
    assert fired(engine(), [seen(0, "POLICE"), seen(5, "HEALTH"), seen(45, "FIRE")]) == []


def test_a_rise_against_the_previous_90_days():
    e = engine()
    baseline = [seen(d, "HEALTH", address=None) for d in (0, 50)]
    assert fired(e, baseline) == []
    rise = fired(e, [seen(d, "HEALTH", address=None) for d in (100, 105, 110, 115, 118, 119)])
    assert "rising_contacts" in [a.rule_id for a in rise]


def test_no_rise_from_a_steady_pattern_or_without_history():
    steady = engine()
    events = [seen(d, "HEALTH", address=None) for d in range(0, 120, 10)]
    assert "rising_contacts" not in [a.rule_id for a in fired(steady, events)]
    newcomer = engine()
    burst = [seen(d, "HEALTH", address=None) for d in (1, 2, 3, 4)]
    assert "rising_contacts" not in [a.rule_id for a in fired(newcomer, burst)]


def test_domestic_abuse_where_a_child_lives_fires_at_once():
    e = engine()
    e.observe(seen(0, "EDUCATION", person="child", dob=date(2016, 2, 2)))
    alerts = fired(e, [seen(3, "POLICE", "DOMESTIC_ABUSE_INCIDENT", person="adult")])
    assert [a.rule_id for a in alerts] == ["domestic_abuse_where_child_lives"]
    assert alerts[0].severity == "CRITICAL"
    other = engine()
    other.observe(seen(0, "HEALTH", person="adult2", dob=date(1970, 2, 2)))
    assert fired(other, [seen(3, "POLICE", "DOMESTIC_ABUSE_INCIDENT")]) == []


def test_cooldown_is_one_alert_per_rule_subject_and_period():
    """The cool-down is a fixed grid of event time: 30-day periods from 1 January 1970 (UTC),
    which in 2026 start on 8 March, 7 April and 7 May. One alert per period."""
    e = engine()
    first = fired(e, [seen(0, "POLICE"), seen(1, "HEALTH"), seen(2, "FIRE")])  # 1-3 April
    again = fired(e, [seen(3, "HOUSING"), seen(5, "PROBATION")])  # still before 7 April
    assert [a.rule_id for a in first] == ["multi_agency_contact"]
    assert again == []
    next_period = fired(e, [seen(6, "HOUSING")])  # 7 April: a new period, the same window
    assert [a.rule_id for a in next_period] == ["multi_agency_contact"]
    assert next_period[0].alert_id != first[0].alert_id
    later = fired(e, [seen(40, "POLICE"), seen(41, "HEALTH"), seen(42, "FIRE")])
    assert [a.rule_id for a in later] == ["multi_agency_contact"]


def test_a_late_event_is_placed_by_when_it_happened():
    e = engine()
    assert fired(e, [seen(0, "POLICE"), seen(20, "HEALTH")]) == []
    late = seen(10, "FIRE")  # arrives last, happened in between
    assert [a.rule_id for a in e.observe(late)] == ["multi_agency_contact"]
    too_old = engine()
    fired(too_old, [seen(0, "POLICE"), seen(60, "HEALTH")])
    assert too_old.observe(seen(5, "FIRE")) == []


def test_a_repeated_event_changes_nothing():
    e = engine()
    first = seen(0, "POLICE")
    e.observe(first)
    e.observe(first)
    assert len(e.timelines[("person", "P1")]) == 1


def test_a_merge_joins_timelines_and_judges_again():
    e = engine()
    assert fired(e, [seen(0, "POLICE", person="P1"), seen(2, "HEALTH", person="P2")]) == []
    assert fired(e, [seen(4, "FIRE", person="P2")]) == []
    alerts = e.merge("P1", "P2")
    assert [a.rule_id for a in alerts] == ["multi_agency_contact"]
    assert alerts[0].subject_id == "P1"
    assert ("person", "P2") not in e.timelines


def test_rules_files_are_checked(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "rules:\n  - id: x\n    summary: s\n    subject: person\n    window_days: 0\n"
        "    cooldown_days: 1\n    severity: HIGH\n"
    )
    with pytest.raises(RulesError, match="window_days"):
        load_rules(bad)
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    assert {r.id for r in load_rules().rules} == {
        "repeat_fires_where_children_live",
        "multi_agency_contact",
        "rising_contacts",
        "domestic_abuse_where_child_lives",
    }


def test_an_operator_can_change_a_threshold_without_code(tmp_path):
    text = (
        (load_rules.__defaults__[0])
        .read_text()
        .replace("distinct_agencies_at_least: 3", "distinct_agencies_at_least: 2")
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    e = EscalationEngine(load_rules(path), clock=lambda: START)
    assert [a.rule_id for a in fired(e, [seen(0, "POLICE"), seen(1, "HEALTH")])] == [
        "multi_agency_contact"
    ]


def test_fires_already_known_alert_when_a_child_is_first_placed_at_the_address():
    """Partners' partitions arrive interleaved: all the fires at a foster home may be
    resolved before the first record that places a child there."""
    e = engine()
    fires = fired(e, [seen(d, "FIRE", "FIRE_ATTENDANCE", person="carer") for d in (2, 9, 20)])
    assert fires == []  # nobody known to be a child lives there yet
    late = e.observe(
        seen(40, "CHILDREN_SOCIAL_CARE", "STATUTORY_VISIT", person="child", dob=date(2015, 3, 9))
    )
    assert [a.rule_id for a in late] == ["repeat_fires_where_children_live"]
    assert late[0].window_end == START + timedelta(days=20)
    # the same child seen again raises nothing more
    again = e.observe(
        seen(41, "CHILDREN_SOCIAL_CARE", "STATUTORY_VISIT", person="child", dob=date(2015, 3, 9))
    )
    assert again == []


def test_an_adult_arriving_at_an_address_with_fires_raises_nothing():
    e = engine()
    fired(e, [seen(d, "FIRE", "FIRE_ATTENDANCE", person="carer") for d in (2, 9, 20)])
    assert e.observe(seen(40, "HEALTH", "GP_REFERRAL", person="lodger", dob=date(1970, 1, 1))) == []


def test_late_fires_complete_the_window_of_a_fire_that_arrived_before_them():
    """Partitions interleave: the fire of day 20 and a later visit arrive first, then the
    fires of days 2 and 9. The window ending on day 20 holds all three."""
    e = engine()
    e.observe(seen(0, "EDUCATION", "ABSENCE_CONCERN", person="child", dob=date(2015, 6, 1)))
    first = fired(
        e,
        [
            seen(20, "FIRE", "FIRE_ATTENDANCE", person="adult"),
            seen(45, "CHILDREN_SOCIAL_CARE", "STATUTORY_VISIT", person="child"),
        ],
    )
    assert first == []
    late = fired(e, [seen(d, "FIRE", "FIRE_ATTENDANCE", person="adult") for d in (2, 9)])
    assert [a.rule_id for a in late] == ["repeat_fires_where_children_live"]
    assert late[0].window_end == START + timedelta(days=20)
    assert late[0].counts_by_agency == {"FIRE": 3}
