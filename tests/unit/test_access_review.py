"""Unusual-access rules over audit entries (pure logic: the knowledge about people is a
small table here; the integration test reads it from ClickHouse)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mast_core.access_review.findings import Access, LookUps, finding_id
from mast_core.access_review.findings import review as judged
from mast_core.access_review.rules import AccessRulesError, load_access_rules

RULES = load_access_rules()
LOOK_UPS = LookUps(
    searches=frozenset({"search_persons", "search_addresses"}),
    person_views=frozenset({"view_person", "view_person_as_at"}),
    others=frozenset({"view_address"}),
)
MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 12:00 in London (GMT)
SATURDAY_NIGHT = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)


@dataclass
class Known:
    cases: set[tuple[str, str]] = field(default_factory=set)
    surnames: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)
    closed_at: datetime | None = None
    """When every case closed (views after it have no reason)."""

    def person_of(self, person_id: str) -> str:
        return self.merged.get(person_id, person_id)

    def involved(self, organisation: str, person_id: str, at: datetime) -> bool:
        open_then = self.closed_at is None or at < self.closed_at
        return open_then and (organisation, person_id) in self.cases

    def family_names(self, person_id: str) -> Iterable[str]:
        return self.surnames.get(person_id, [])

    def user_family_name(self, username: str) -> str | None:
        return self.users.get(username)


def entry(
    n: int,
    at: datetime,
    action: str = "view_person",
    people: tuple[str, ...] = (),
    user: str = "pc.one",
    outcome: str = "shown",
) -> Access:
    return Access(f"a{n:04d}", at, user, "POLICE", action, outcome, people)


def review(rules, entries, known, since=None):
    return judged(rules, entries, known, LOOK_UPS, since)


def rule_ids(findings: list) -> list[str]:
    return sorted({f.rule_id for f in findings})


def test_many_people_viewed_without_a_case_is_found_and_with_cases_is_not() -> None:
    views = [entry(i, MONDAY_NOON + timedelta(minutes=i), people=(f"P{i}",)) for i in range(15)]
    found = review(RULES, views, Known())
    assert rule_ids(found) == ["many_people_without_involvement"]
    (finding,) = found
    assert finding.count == 15
    assert finding.audit_ids == tuple(v.audit_id for v in views)
    assert set(finding.person_ids) == {f"P{i}" for i in range(15)}

    cases = {("POLICE", f"P{i}") for i in range(3)}
    assert review(RULES, views, Known(cases=cases)) == []


def test_the_same_person_viewed_many_times_counts_once() -> None:
    views = [entry(i, MONDAY_NOON + timedelta(minutes=i), people=("P1",)) for i in range(30)]
    assert review(RULES, views, Known()) == []


def test_views_spread_over_more_than_the_window_are_not_a_burst() -> None:
    views = [entry(i, MONDAY_NOON + timedelta(hours=2 * i), people=(f"P{i}",)) for i in range(15)]
    assert review(RULES, views, Known()) == []


def test_out_of_hours_burst_is_found_in_the_partnerships_time_zone() -> None:
    night = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=2 * i), "search_persons", ("P1",))
        for i in range(10)
    ]
    found = review(RULES, night, Known())
    assert rule_ids(found) == ["out_of_hours_burst"]
    # 17:30 UTC in July is 18:30 in London (BST): out of hours there, though not in UTC
    summer = datetime(2026, 7, 6, 17, 30, tzinfo=UTC)
    evening = [
        entry(i, summer + timedelta(minutes=i), "search_persons", ("P1",)) for i in range(10)
    ]
    assert rule_ids(review(RULES, evening, Known())) == ["out_of_hours_burst"]
    working = [
        entry(i, MONDAY_NOON + timedelta(minutes=i), "search_persons", ("P1",)) for i in range(10)
    ]
    assert review(RULES, working, Known()) == []


def test_refused_look_ups_and_other_actions_are_not_counted() -> None:
    refused = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=i), "search_persons", (), outcome="refused")
        for i in range(20)
    ]
    listing = [
        entry(100 + i, SATURDAY_NIGHT + timedelta(minutes=i), "list_alerts") for i in range(20)
    ]
    assert review(RULES, refused + listing, Known()) == []


def test_fishing_is_repeated_searches_that_found_nobody() -> None:
    empty = [entry(i, MONDAY_NOON + timedelta(minutes=5 * i), "search_persons") for i in range(5)]
    found = review(RULES, empty, Known())
    assert rule_ids(found) == ["fishing"]
    assert found[0].count == 5
    assert review(RULES, empty[:4], Known()) == []
    hits = [
        entry(i, MONDAY_NOON + timedelta(minutes=5 * i), "search_persons", ("P1",))
        for i in range(5)
    ]
    assert review(RULES, hits, Known()) == []


def test_a_user_viewing_someone_of_their_own_family_name() -> None:
    known = Known(surnames={"P1": ["Smith-Jones"], "P2": ["Brown"]}, users={"pc.one": "Jones"})
    views = [
        entry(1, MONDAY_NOON, people=("P1",)),
        entry(2, MONDAY_NOON, people=("P2",)),
        entry(3, MONDAY_NOON + timedelta(days=3), people=("P1",)),
    ]
    found = [f for f in review(RULES, views, known) if f.rule_id == "own_surname"]
    assert len(found) == 1
    assert found[0].person_ids == ("P1",)
    assert found[0].audit_ids == ("a0001", "a0003")
    assert review(RULES, views, Known(surnames=known.surnames)) == []  # user's name unknown


def test_finding_ids_stay_the_same_as_the_log_grows() -> None:
    views = [entry(i, MONDAY_NOON + timedelta(minutes=i), people=(f"P{i}",)) for i in range(20)]
    first = review(RULES, views[:15], Known())
    later = review(RULES, views, Known())
    assert [f.finding_id for f in first] == [f.finding_id for f in later]
    assert later[0].count == 20
    # anchored at the view that reached the threshold (the 15th)
    assert first[0].finding_id == finding_id("many_people_without_involvement", "pc.one", "a0014")


def test_each_user_is_judged_alone() -> None:
    one = [entry(i, MONDAY_NOON + timedelta(minutes=i), people=(f"P{i}",)) for i in range(8)]
    two = [
        entry(50 + i, MONDAY_NOON + timedelta(minutes=i), people=(f"Q{i}",), user="pc.two")
        for i in range(8)
    ]
    assert review(RULES, one + two, Known()) == []


def test_rules_files_are_checked_with_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "rules:\n  - id: x\n    summary: s\n    kind: nonsense\n"
        "    window_minutes: 0\n    at_least: 1\n"
    )
    with pytest.raises(AccessRulesError, match="kind") as caught:
        load_access_rules(bad)
    assert "window_minutes" in str(caught.value)
    hours = tmp_path / "hours.yaml"
    hours.write_text("working_hours: {timezone: Mars/Olympus}\nrules: []\n")
    with pytest.raises(AccessRulesError, match="unknown time zone"):
        load_access_rules(hours)
    with pytest.raises(AccessRulesError, match="cannot read"):
        load_access_rules(tmp_path / "missing.yaml")


def test_a_look_up_just_before_a_burst_does_not_hide_it() -> None:
    burst = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=25 + i), "search_persons", ("P1",))
        for i in range(10)
    ]
    early = entry(99, SATURDAY_NIGHT, "search_persons", ("P1",))
    alone = review(RULES, burst, Known())
    with_early = review(RULES, [early, *burst], Known())
    assert rule_ids(with_early) == ["out_of_hours_burst"]
    assert [f.finding_id for f in with_early] == [f.finding_id for f in alone]


def test_the_window_is_shorter_than_its_length_apart() -> None:
    # ten searches: the tenth exactly 30 minutes after the first is outside its window
    spaced = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=30 * i / 9), "search_persons", ("P1",))
        for i in range(10)
    ]
    assert review(RULES, spaced, Known()) == []
    inside = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=29.9 * i / 9), "search_persons", ("P1",))
        for i in range(10)
    ]
    assert rule_ids(review(RULES, inside, Known())) == ["out_of_hours_burst"]


def test_a_long_run_is_one_finding_whose_id_stays_as_it_grows() -> None:
    night = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=2 * i), "search_persons", ("P1",))
        for i in range(60)
    ]
    first = review(RULES, night[:20], Known())
    later = review(RULES, night, Known())
    assert len(first) == len(later) == 1
    assert first[0].finding_id == later[0].finding_id
    assert later[0].count == 60


def test_a_burst_at_the_start_of_what_was_read_is_left_for_the_reader_of_earlier_entries() -> None:
    night = [
        entry(i, SATURDAY_NIGHT + timedelta(minutes=2 * i), "search_persons", ("P1",))
        for i in range(12)
    ]
    assert review(RULES, night, Known(), since=SATURDAY_NIGHT) == []
    earlier = SATURDAY_NIGHT - timedelta(hours=1)
    assert rule_ids(review(RULES, night, Known(), since=earlier)) == ["out_of_hours_burst"]


def test_rules_count_people_not_the_ids_merged_into_them() -> None:
    ids = tuple(f"P1-{i}" for i in range(15))
    one_view = [entry(1, MONDAY_NOON, people=ids)]
    merged = {i: "P1" for i in ids}
    assert review(RULES, one_view, Known(merged=merged)) == []
    assert rule_ids(review(RULES, one_view, Known())) == ["many_people_without_involvement"]
    known = Known(merged=merged, surnames={"P1": ["Jones"]}, users={"pc.one": "Jones"})
    surname = [f for f in review(RULES, one_view, known) if f.rule_id == "own_surname"]
    assert [f.person_ids for f in surname] == [("P1",)]


def test_a_case_counts_only_while_it_was_open() -> None:
    views = [entry(i, MONDAY_NOON + timedelta(minutes=i), people=(f"P{i}",)) for i in range(15)]
    cases = {("POLICE", f"P{i}") for i in range(15)}
    assert review(RULES, views, Known(cases=cases)) == []
    closed_before = Known(cases=cases, closed_at=MONDAY_NOON - timedelta(days=1))
    assert rule_ids(review(RULES, views, closed_before)) == ["many_people_without_involvement"]


def test_as_at_page_views_are_person_views() -> None:
    views = [
        entry(i, MONDAY_NOON + timedelta(minutes=i), "view_person_as_at", (f"P{i}",))
        for i in range(15)
    ]
    assert rule_ids(review(RULES, views, Known())) == ["many_people_without_involvement"]
