from dataclasses import replace

import pytest

from mast_core.linkage import Parameters, Resolver
from mast_core.linkage.resolver import ResolverError
from tests.factories import bridge_trio, person_event


def test_a_first_record_starts_a_person_and_a_variant_joins_it():
    resolver = Resolver()
    first = resolver.resolve(person_event())
    assert first.new_person
    assert first.person_id.startswith("P")
    variant = resolver.resolve(
        person_event(given="Peggy", dob="13/02/1957", line1="12 Alder St", postcode="ws12ab")
    )
    assert not variant.new_person
    assert variant.person_id == first.person_id
    assert variant.address_id == first.address_id
    assert variant.match_weight is not None
    assert variant.match_weight >= resolver.parameters.match_threshold
    assert {c.field for c in variant.contributions} >= {"given_name", "date_of_birth"}
    assert "given name nickname" in variant.reason


def test_an_identical_record_is_an_exact_repeat():
    resolver = Resolver()
    first = resolver.resolve(person_event())
    again = resolver.resolve(person_event())
    assert again.person_id == first.person_id
    assert again.reason == "same details as before"
    assert resolver.stats.exact_repeats == 1
    # still filed under its keys, so a search finds every record, not only the first
    assert again.keys == first.keys
    assert any(key.startswith("s:") for key in again.keys)


def test_someone_else_at_the_same_address_is_another_person():
    resolver = Resolver()
    mother = resolver.resolve(person_event())
    son = resolver.resolve(person_event(given="Daniel", gender="M", dob="1985-07-22"))
    assert son.new_person
    assert son.person_id != mother.person_id
    assert son.address_id == mother.address_id


def test_ids_are_deterministic():
    events = [person_event(event_id="x-1"), person_event(given="Peggy", event_id="x-2")]
    first, second = Resolver(), Resolver()
    assert [first.resolve(e).person_id for e in events] == [
        second.resolve(e).person_id for e in events
    ]


def _two_then_bridge(resolver, *, different: bool = False):
    """``bridge_trio`` resolved in order (with ``different``, the two identities are first
    marked as different people)."""
    first, second, third = bridge_trio()
    a = resolver.resolve(first)
    b = resolver.resolve(second)
    assert a.person_id != b.person_id
    if different:
        resolver.mark_different(a.person_id, b.person_id)
    bridge = resolver.resolve(third)
    return a, b, bridge


def test_a_record_that_fits_two_identities_merges_them_with_evidence():
    resolver = Resolver()
    a, b, bridge = _two_then_bridge(resolver)
    assert len(bridge.merges) == 1
    merge = bridge.merges[0]
    assert merge.surviving_person_id == a.person_id  # the older identity keeps its id
    assert merge.retired_person_id == b.person_id
    assert merge.triggered_by_event_id == "c"
    assert merge.evidence
    assert merge.match_weight >= resolver.parameters.merge_threshold
    assert resolver.person_of(b.person_id) == a.person_id
    assert resolver.stats.merges == 1


def test_split_undoes_a_merge_and_later_records_respect_it():
    resolver = Resolver()
    a, b, bridge = _two_then_bridge(resolver)
    merge = bridge.merges[0]
    split = resolver.split(merge.merge_id)
    assert split.restored_person_id == b.person_id
    assert split.restored_profiles == 1
    assert resolver.person_of(b.person_id) == b.person_id
    assert resolver.person_of(a.person_id) == a.person_id
    with pytest.raises(ResolverError):
        resolver.split(merge.merge_id)
    later = resolver.resolve(
        person_event(
            agency="POLICE", record="P-7", nhs="9434765919", dob="13/02/1957", event_id="d"
        )
    )
    assert later.merges == ()
    assert resolver.person_of(a.person_id) != resolver.person_of(b.person_id)


def test_mark_different_stops_a_merge():
    resolver = Resolver()
    a, b, bridge = _two_then_bridge(resolver, different=True)
    assert bridge.merges == ()
    assert resolver.person_of(a.person_id) != resolver.person_of(b.person_id)
    assert {m.person_id for m in bridge.possible_matches} <= {a.person_id, b.person_id}
    with pytest.raises(ResolverError):
        resolver.mark_different(a.person_id, "P-none")


def test_a_different_nhs_number_is_never_the_same_person():
    resolver = Resolver()
    first = resolver.resolve(person_event(agency="HEALTH", nhs="9434765919"))
    namesake = resolver.resolve(
        person_event(agency="HEALTH", nhs="4010232137", line1="3 Elm Way", postcode="WS9 9ZZ")
    )
    assert namesake.person_id != first.person_id


def test_a_record_without_a_name_starts_its_own_identity():
    resolver = Resolver()
    result = resolver.resolve(person_event(given=None, family=None))
    assert result.new_person
    assert result.reason == "no name to link on"


def test_restart_from_saved_state_continues_exactly(tmp_path):
    events = [
        person_event(event_id=f"r-{i}", given=given, dob=dob)
        for i, (given, dob) in enumerate(
            [
                ("Margaret", "1957-02-13"),
                ("Peggy", "1957-02-13"),
                ("Daniel", "1985-07-22"),
                ("Margret", None),
                ("Dan", "1985-07-22"),
                ("Margaret", "13/02/1957"),
            ]
        )
    ]
    straight = Resolver()
    expected = [straight.resolve(e) for e in events]
    first = Resolver()
    for event in events[:3]:
        first.resolve(event)
    first.save(tmp_path / "state.pickle")
    resumed = Resolver.load(tmp_path / "state.pickle")
    rest = [resumed.resolve(e) for e in events[3:]]
    assert [r.person_id for r in rest] == [r.person_id for r in expected[3:]]
    assert resumed.stats.new_persons == straight.stats.new_persons
    assert len(resumed.identities) == len(straight.identities)


@pytest.mark.parametrize(
    ("label", "later"),
    [
        ("married: a new surname at the same address", dict(family="Hussain")),
        ("one name transliterated two ways", dict(given="Margarita")),
        ("recorded with an initial only", dict(given="M")),
        ("names written the other way round", dict(given="Thornbury", family="Margaret")),
    ],
)
def test_people_whose_records_change_still_find_their_person(label, later):
    resolver = Resolver(learning=None)
    first = resolver.resolve(person_event())
    again = resolver.resolve(person_event(**later))
    assert again.person_id == first.person_id, label


def test_transliterations_of_a_name_are_one_name():
    resolver = Resolver(learning=None)
    first = resolver.resolve(person_event(given="Mohammed", family="Khan", gender="M"))
    again = resolver.resolve(person_event(given="Muhammad", family="Khan", gender="M"))
    assert again.person_id == first.person_id
    assert "given name fuzzy" in again.reason


def test_a_namesake_elsewhere_is_not_linked_but_kept_for_review():
    """Name and birth date alone, at another address, are a possible match under a strict
    match probability (a deployment's choice; the shipped one links them)."""
    resolver = Resolver(replace(Parameters.default(), match_probability=0.9995), learning=None)
    first = resolver.resolve(person_event())
    namesake = resolver.resolve(person_event(line1="9 Elm Way", postcode="DY9 9ZZ", town="Dudley"))
    assert namesake.new_person and namesake.person_id != first.person_id
    assert [p.person_id for p in namesake.possible_matches] == [first.person_id]


def test_twins_at_one_address_stay_two_people():
    resolver = Resolver(learning=None)
    first = resolver.resolve(person_event(given="Oliver", gender="M", dob="2016-05-04"))
    twin = resolver.resolve(person_event(given="Harry", gender="M", dob="2016-05-04"))
    assert twin.person_id != first.person_id
