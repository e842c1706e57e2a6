"""The resolver's shortcuts for speed (issue 11) must give exactly the answers of the long
way round: keys computed once, cached weights, levels kept for judging the redo queue
again. Each test sets the shortcut against the long way on the same input."""

from __future__ import annotations

import random
from dataclasses import replace

from mast_core.linkage import Resolver
from mast_core.linkage.blocking import BlockIndex, filed_keys, lookup_keys
from mast_core.linkage.comparison import compare
from mast_core.linkage.learning import LearningSchedule
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.resolver import FORGET_BELOW
from mast_core.linkage.scoring import Scorer
from tests.factories import person_event, profile


def test_lookup_keys_from_the_filed_keys_are_the_keys_computed_afresh():
    for fields in (
        {},
        {"dob": None},
        {"dob": None, "given": None},
        {"postcode": None, "line1": None},
        {"given": "Peggy", "family": "Smith-Jones", "record": "R1", "nhs": "9434765919"},
    ):
        record = profile(**fields)
        assert lookup_keys(record, filed_keys(record)) == lookup_keys(record), fields


def test_cached_weights_follow_the_name_counts_when_they_fall_as_well_as_rise():
    scorer = Scorer(Parameters.default())
    a, b = profile(family="Quarmby"), profile(family="Quarmby", given="Peggy")
    levels, swapped = compare(a, b)
    for _ in range(50):
        scorer.observe(profile(family="Quarmby"))
    counted = scorer.weight_of(a, b, levels, swapped)
    # a retraction takes a record's names back out of the counts without ``observe``
    scorer.name_counts["family_name"]["quarmby"] -= 49
    scorer.total -= 49
    fresh = Scorer(Parameters.default())
    fresh.name_counts = scorer.name_counts
    fresh.total = scorer.total
    assert scorer.weight_of(a, b, levels, swapped) == fresh.weight_of(a, b, levels, swapped)
    assert scorer.weight_of(a, b, levels, swapped) > counted  # rarer now: stronger


def test_a_block_keeps_each_identitys_two_latest_records_and_its_cap():
    index = BlockIndex(cap=5)
    owner = [0, 0, 1, 0, 2, 0, 1, 1, 3, 4, 5]
    for item in range(len(owner)):
        index.add("k", item, owner)
    # identity 0's oldest records (0, 1, 3) went as its newer ones came; then the cap
    assert index.candidates("k") == [6, 7, 8, 9, 10]
    assert "k" in index.capped
    merged = BlockIndex(cap=40)
    for item in range(4):
        merged.add("m", item, [0, 1, 0, 1])
    owner_after_merge = [0, 0, 0, 0, 0]  # the two identities merged: four records of one
    merged.add("m", 4, owner_after_merge)
    assert merged.candidates("m") == [1, 2, 3, 4]  # only the oldest one goes, as before


def test_a_block_of_one_is_its_record_and_grows_and_shrinks_as_a_list_would():
    index = BlockIndex(cap=40)
    owner = [0, 1, 2]
    index.add("k", 0, owner)
    assert list(index.candidates("k")) == [0]
    assert list(index.candidates("unknown")) == []
    index.add("k", 1, owner)
    index.add("k", 2, owner)
    assert list(index.candidates("k")) == [0, 1, 2]
    index.remove("k", 1)
    assert list(index.candidates("k")) == [0, 2]
    index.add("lone", 2, owner)
    index.remove("lone", 2)
    assert "lone" not in index.blocks


def test_judging_the_redo_queue_from_kept_levels_decides_as_comparing_afresh():
    rng = random.Random(5)
    families = ["Thornbury", "Thornberry", "Wren", "Quarmby", "Smith"]
    givens = ["Margaret", "Peggy", "Anne", "Ann", "John", "Jon"]
    events = [
        person_event(
            given=rng.choice(givens),
            family=rng.choice(families),
            dob=f"19{rng.randint(50, 52)}-0{rng.randint(1, 3)}-1{rng.randint(1, 3)}",
            line1=f"{rng.randint(1, 4)} Alder Street",
            event_id=f"e{number}",
        )
        for number in range(400)
    ]
    # re-estimates after 100, 200 and 400 records: the queue is judged again each time
    schedule = LearningSchedule(first_after=100, min_training_pairs=10)
    kept, afresh = Resolver(learning=schedule), Resolver(learning=schedule)
    afresh._judged = lambda: _Forgetful()  # type: ignore[method-assign]
    for event in events:
        kept.resolve(event)
        afresh.resolve(event)
    kept.settle(events[-1])
    afresh.settle(events[-1])
    assert kept.stats.relearnt == afresh.stats.relearnt >= 3
    assert kept.redo_queue == afresh.redo_queue
    assert kept.stats.redo_links == afresh.stats.redo_links
    assert [kept.person_of(i.person_id) for i in kept.identities] == [
        afresh.person_of(i.person_id) for i in afresh.identities
    ]
    assert kept.stats.comparisons < afresh.stats.comparisons  # the kept levels were used


def test_judging_again_forgets_pairs_far_below_the_threshold_and_retracted_records():
    resolver = Resolver(replace(Parameters.default(), match_probability=0.9995), learning=None)
    first = person_event(line1="1 Elm Way", postcode="DY9 9ZZ", town="Dudley")
    resolver.resolve(first)
    # the same name and birth date elsewhere, with the name cut short: kept apart, queued
    second = resolver.resolve(
        person_event(given="Marg", line1="40 Oak Road", postcode="B1 1AA", town="Birmingham")
    )
    assert resolver.redo_queue == {1}

    def stranger(given: str, dob: str) -> None:  # at the second one's address: finds it
        resolver.resolve(
            person_event(
                given=given,
                family="Quarmby",
                gender="M",
                dob=dob,
                line1="40 Oak Road",
                postcode="B1 1AA",
                town="Birmingham",
            )
        )

    stranger("Jon", "1990-07-30")  # before the second is first judged: found in its blocks
    far = resolver.parameters.match_threshold - FORGET_BELOW
    weigh = resolver.scorer.weigh
    assert weigh(resolver.profiles[1], resolver.profiles[2])[0] < far
    assert weigh(resolver.profiles[1], resolver.profiles[0])[0] >= far
    compared = resolver.stats.comparisons
    assert resolver.redo(person_event()) == []
    assert set(resolver._judged()[1]) == {0}, "the stranger compared, then forgotten"
    assert resolver.stats.comparisons - compared == 2
    # after: noted as it is resolved, compared when the second is judged
    stranger("Ivo", "1985-03-02")
    assert resolver._newcomers() == {1: [3]} and resolver.redo_queue == {1}
    compared = resolver.stats.comparisons
    assert resolver.redo(person_event()) == []
    assert resolver.stats.comparisons - compared == 1, "only the newcomer is compared"
    assert set(resolver._judged()[1]) == {0} and not resolver._newcomers()
    resolver.retract(first.key)
    assert resolver._judged()[1] == {}, "a retracted record is not weighed again"
    assert resolver.redo(person_event()) == []
    assert resolver.person_of(second.person_id) == second.person_id


class _Forgetful(dict):  # type: ignore[type-arg]
    """Keeps no levels: every pair judged again is compared afresh, whole blocks."""

    def __setitem__(self, key, value):  # type: ignore[no-untyped-def]
        pass
