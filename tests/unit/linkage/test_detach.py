"""A steward detaches records linked to a person directly: each leaves for an identity of its
own, never linked to the person again; a record other events repeat exactly stays for them;
a merge a detached record bridged is undone; events unknown or no longer the person's are
skipped; the same correction gives the same ids. Names are invented."""

from __future__ import annotations

from mast_core.events import event_key
from mast_core.linkage.resolver import Resolver
from tests.factories import bridge_trio, person_event

FAMILY = "Wrenfield"


def _fixed() -> Resolver:
    return Resolver(learning=None)


def test_a_directly_linked_record_leaves_for_an_identity_of_its_own_for_good():
    resolver = _fixed()
    first = person_event(given="Hester", family=FAMILY, agency="HEALTH", event_id="h1")
    wrong = person_event(
        given="Hester",
        family=FAMILY,
        agency="POLICE",
        event_id="p1",
        line1="40 Mill Lane",
        postcode="WS2 9PQ",
    )
    person = resolver.resolve(first).person_id
    linked = resolver.resolve(wrong)
    assert linked.person_id == person and not linked.merges  # linked directly

    detach = resolver.detach(person, [wrong.key], "C1")

    assert detach.person_id == person and not detach.skipped and not detach.splits
    [moved] = detach.detached
    assert moved.event_keys == (wrong.key,) and moved.person_id != person
    assert resolver.person_of(moved.person_id) == moved.person_id
    kept = resolver.identities[resolver.identity_by_person[person]]
    assert len(kept.members) == 1
    # the same details again join the detached record, never the person
    again = person_event(
        given="Hester",
        family=FAMILY,
        agency="POLICE",
        event_id="p2",
        line1="40 Mill Lane",
        postcode="WS2 9PQ",
    )
    assert resolver.resolve(again).person_id == moved.person_id
    # and the same correction applied to a copy of the state gives the same id
    replay = _fixed()
    replay.resolve(first)
    replay.resolve(wrong)
    assert replay.detach(person, [wrong.key], "C1").detached[0].person_id == moved.person_id


def test_an_exact_repeat_not_named_stays_with_the_person():
    resolver = _fixed()
    first = person_event(given="Hester", family=FAMILY, agency="HEALTH", event_id="h1")
    twin_a = person_event(given="Hester", family=FAMILY, agency="POLICE", event_id="p1")
    twin_b = person_event(given="Hester", family=FAMILY, agency="POLICE", event_id="p2")
    person = resolver.resolve(first).person_id
    assert resolver.resolve(twin_a).person_id == person
    assert resolver.resolve(twin_b).person_id == person

    detach = resolver.detach(person, [twin_b.key], "C2")

    [moved] = detach.detached
    assert moved.event_keys == (twin_b.key,)
    state = resolver.retractions
    assert resolver.person_of(moved.person_id) == moved.person_id
    # twin_a still holds the original record, with the person
    from mast_core.seen_events import digest

    kept_record = state.event_records[digest(twin_a.key)]
    moved_record = state.event_records[digest(twin_b.key)]
    assert kept_record != moved_record
    assert (
        resolver._current(resolver.profile_identity[kept_record])
        == resolver.identity_by_person[person]
    )
    assert resolver.identities[resolver.profile_identity[moved_record]].person_id == moved.person_id


def test_a_detached_record_that_bridged_a_merge_undoes_it():
    resolver = _fixed()
    a, b, c = bridge_trio()
    first = resolver.resolve(a)
    second = resolver.resolve(b)
    bridging = resolver.resolve(c)
    assert len(bridging.merges) == 1

    detach = resolver.detach(first.person_id, [c.key], "C3")

    assert [s.merge_id for s in detach.splits] == [bridging.merges[0].merge_id]
    assert resolver.person_of(second.person_id) == second.person_id
    assert resolver.person_of(first.person_id) == first.person_id
    [moved] = detach.detached
    assert moved.person_id not in (first.person_id, second.person_id)


def test_events_unknown_or_not_the_persons_are_skipped():
    resolver = _fixed()
    first = person_event(given="Hester", family=FAMILY, agency="HEALTH", event_id="h1")
    other = person_event(given="Agnes", family="Thornbury", agency="POLICE", event_id="o1")
    person = resolver.resolve(first).person_id
    resolver.resolve(other)

    detach = resolver.detach(person, [other.key, event_key("FIRE", "nope")], "C4")

    assert detach.detached == () and len(detach.skipped) == 2
    assert all("nope" not in reason and "o1" not in reason for reason in detach.skipped)
