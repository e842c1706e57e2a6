"""Which ids a person was known by while two people's records were merged into it, and when
(``query_api.notifications``): a view of one of them in its window makes its viewer one to
tell when the merge is split; a view of an id that joined only after the split, or whose
own merge had been undone, does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from query_api.notifications import _Merge, _Split, _split_windows, day_text, notification_id

T = datetime(2026, 4, 3, 9, tzinfo=UTC)


def _at(hours: int) -> datetime:
    return T + timedelta(hours=hours)


def _by_id(*merges: _Merge) -> dict[str, list[_Merge]]:
    found: dict[str, list[_Merge]] = {}
    for merge in merges:
        found.setdefault(merge.surviving, []).append(merge)
        found.setdefault(merge.retired, []).append(merge)
    return found


# B merged into P at 10, split at 20
SPLIT = _Split("s1", "m-bp", "P", "B", merged_at=_at(10), split_at=_at(20))
B_INTO_P = _Merge("m-bp", "P", "B", _at(10))


def test_the_two_ids_are_known_from_the_merge_to_the_split():
    assert _split_windows(SPLIT, _by_id(B_INTO_P), {"m-bp": _at(20)}) == {
        "P": (_at(10), _at(20)),
        "B": (_at(10), _at(20)),
    }


def test_ids_merged_into_either_before_count_from_the_merge_later_ones_from_their_own():
    merges = _by_id(
        B_INTO_P,
        _Merge("m-cb", "B", "C", _at(2)),  # C into B, before: part of the merged person
        _Merge("m-xp", "P", "X", _at(14)),  # X into P, while merged: from then
        _Merge("m-ep", "P", "E", _at(25)),  # E into P, after the split: never
    )
    known = _split_windows(SPLIT, merges, {"m-bp": _at(20)})
    assert known["C"] == (_at(10), _at(20))
    assert known["X"] == (_at(14), _at(20))
    assert "E" not in known


def test_the_person_the_survivor_was_merged_into_counts_from_that_merge():
    merges = _by_id(
        B_INTO_P,
        _Merge("m-pq", "Q", "P", _at(15)),  # P into Q while merged: Q's pages showed B too
        _Merge("m-rq", "Q", "R", _at(1)),  # R had been Q's all along: from 15 too
    )
    known = _split_windows(SPLIT, merges, {"m-bp": _at(20)})
    assert known["Q"] == (_at(15), _at(20))
    assert known["R"] == (_at(15), _at(20))


def test_an_id_whose_merge_was_undone_counts_only_until_then():
    merges = _by_id(
        B_INTO_P,
        _Merge("m-cb", "B", "C", _at(2)),  # undone at 12
        _Merge("m-db", "B", "D", _at(3)),  # undone at 8, before B joined P
    )
    undone = {"m-bp": _at(20), "m-cb": _at(12), "m-db": _at(8)}
    known = _split_windows(SPLIT, merges, undone)
    assert known["C"] == (_at(10), _at(12))
    assert "D" not in known


def test_a_notification_id_is_stable_per_split_and_user_and_a_day_reads_in_words():
    first = notification_id("corrected_person", "s1", "pc-1")
    assert first == notification_id("corrected_person", "s1", "pc-1")
    assert first != notification_id("corrected_person", "s1", "pc-2")
    assert first != notification_id("corrected_person", "s2", "pc-1")
    assert first.startswith("N") and len(first) == 33
    assert day_text(datetime(2026, 4, 3, 23, 30, tzinfo=UTC)) == "3 April 2026"
