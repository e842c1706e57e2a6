"""Which possible matches the stewards' queue shows open (``open_entries``): a possible match
leaves the queue once its two people are one person (merged by the resolver since), or once
a decision on another possible match concerned the same two people; one pair is one entry,
compared as the people they are now; oldest kept first, at most ``limit``."""

from __future__ import annotations

from query_api.possible_matches import open_entries


def row(possible_id: str, person: str, candidate: str) -> dict[str, str]:
    return {"possible_id": possible_id, "person_id": person, "candidate_person_id": candidate}


def shown(rows, now=None, decided=None, limit=50):
    return [
        (e.row["possible_id"], e.person, e.candidate, e.status)
        for e in open_entries(rows, now or {}, decided or set(), limit)
    ]


def test_open_possible_matches_are_shown_oldest_first():
    rows = [row("Q1", "B", "A"), row("Q2", "D", "C")]
    assert shown(rows) == [("Q1", "B", "A", "open"), ("Q2", "D", "C", "open")]
    assert shown(rows, limit=1) == [("Q1", "B", "A", "open")]


def test_merged_since_by_the_resolver_leaves_the_queue():
    rows = [row("Q1", "B", "A"), row("Q2", "D", "C")]
    assert shown(rows, now={"B": "A"}) == [("Q2", "D", "C", "open")]


def test_a_pair_decided_on_another_record_leaves_the_queue_whichever_way_round():
    rows = [row("Q1", "B", "A"), row("Q2", "D", "C")]
    assert shown(rows, decided={frozenset({"A", "B"})}) == [("Q2", "D", "C", "open")]
    assert shown([row("Q3", "A", "B")], decided={frozenset({"B", "A"})}) == []


def test_one_pair_is_one_entry_compared_as_the_people_they_are_now():
    rows = [row("Q1", "B", "A"), row("Q2", "A", "B"), row("Q3", "B2", "A")]
    # B2 was merged into B since: its possible match with A is the pair already shown
    assert shown(rows, now={"B2": "B"}) == [("Q1", "B", "A", "open")]
    # and the current ids are what the queue shows
    assert shown([row("Q4", "B2", "A9")], now={"B2": "B", "A9": "A"}) == [("Q4", "B", "A", "open")]
