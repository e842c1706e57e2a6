"""A partner's retraction in the resolver: the record leaves its identity, the blocking index,
the exact-repeat map and the name counts; a merge it bridged is undone (without the "not the
same person" of a steward's split); an identity it founded keeps its id; an exact repeat
keeps the details for the other event; and the same input gives the same state, saved or
not. Names are invented."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mast_core.events import event_key
from mast_core.linkage.resolver import Resolver
from mast_core.linkage.retraction import RetractionRefused
from tests.factories import bridge_trio, person_event

UNIQUE = "Quillonby"


def _fixed() -> Resolver:
    return Resolver(learning=None)


def _has_name(resolver: Resolver, name: str) -> bool:
    """Whether ``name`` (as the resolver keeps names: lower case) is anywhere in its
    pickled state."""
    return name.lower().encode() in pickle.dumps(resolver.__dict__)


def test_a_record_that_bridged_two_people_is_retracted_and_the_merge_undone():
    resolver = _fixed()
    a, b, c = bridge_trio()
    first = resolver.resolve(a)
    second = resolver.resolve(b)
    bridging = resolver.resolve(c)
    assert len(bridging.merges) == 1 and resolver.person_of(second.person_id) == first.person_id

    retraction = resolver.retract(c.key)

    assert [split.merge_id for split in retraction.splits] == [bridging.merges[0].merge_id]
    assert resolver.person_of(first.person_id) == first.person_id
    assert resolver.person_of(second.person_id) == second.person_id  # apart again
    assert retraction.removed and not retraction.emptied
    # not a steward's "different people": the same bridge sent again joins them again
    again = person_event(agency="POLICE", record="P-7", nhs="9434765919", event_id="c2")
    assert len(resolver.resolve(again).merges) == 1
    assert resolver.person_of(second.person_id) == resolver.person_of(first.person_id)


def test_the_founder_of_an_identity_leaves_it_and_the_identity_keeps_its_id():
    resolver = _fixed()
    founder = person_event(given="Hester", family=UNIQUE, agency="HEALTH", event_id="f1")
    follower = person_event(
        given="Hester", family=UNIQUE, agency="FIRE", event_id="f2", line1="12 Alder St"
    )
    person = resolver.resolve(founder).person_id
    assert resolver.resolve(follower).person_id == person

    retraction = resolver.retract(founder.key)

    assert retraction.person_id == person and not retraction.emptied
    identity = resolver.identities[resolver.identity_by_person[person]]
    assert len(identity.members) == 1
    assert resolver.profiles[identity.members[0]].family is not None  # the follower stays
    # the follower's details are still found; a third record still joins the same person
    third = person_event(given="Hester", family=UNIQUE, agency="POLICE", event_id="f3")
    assert resolver.resolve(third).person_id == person


def test_a_lone_record_retracted_leaves_no_trace_of_its_details():
    resolver = _fixed()
    other = person_event(given="Agnes", family="Thornbury", agency="POLICE", event_id="o1")
    lone = person_event(
        given="Zebedina",
        family=UNIQUE,
        line1="7 Quillonby Row",
        postcode="WS9 9QQ",
        agency="HEALTH",
        event_id="z1",
    )
    resolver.resolve(other)
    person = resolver.resolve(lone).person_id
    assert _has_name(resolver, "Zebedina")

    retraction = resolver.retract(lone.key)

    assert retraction.emptied and retraction.person_id == person
    assert not _has_name(resolver, "Zebedina")
    assert not _has_name(resolver, UNIQUE)  # nor its street, in the address resolver
    assert all(
        len(resolver.profiles) - 1 not in resolver.index.candidates(key)
        for key in resolver.index.blocks
    )
    # the same details sent again (a new event) make a new record, matched afresh
    again = person_event(given="Zebedina", family=UNIQUE, agency="HEALTH", event_id="z2")
    assert resolver.resolve(again).new_person


def test_an_exact_repeat_keeps_the_details_for_the_other_event():
    resolver = _fixed()
    first = person_event(given="Hester", family=UNIQUE, agency="HEALTH", event_id="r1")
    repeat = person_event(given="Hester", family=UNIQUE, agency="HEALTH", event_id="r2")
    person = resolver.resolve(first).person_id
    assert resolver.resolve(repeat).person_id == person

    assert not resolver.retract(first.key).removed  # the repeat still holds the details
    assert _has_name(resolver, "Hester")
    assert resolver.retract(repeat.key).removed  # the last holder: now they go
    assert not _has_name(resolver, "Hester")


def test_unknown_another_agencys_and_already_retracted_events_are_refused():
    resolver = _fixed()
    event = person_event(agency="HEALTH", event_id="h1")
    resolver.resolve(event)
    with pytest.raises(RetractionRefused, match="no event"):
        resolver.retract(event_key("HEALTH", "never-sent"))
    with pytest.raises(RetractionRefused, match="no event"):
        resolver.retract(event_key("POLICE", "h1"))  # the police cannot name health's event
    resolver.retract(event.key)
    with pytest.raises(RetractionRefused, match="retracted before"):
        resolver.retract(event.key)


def _run(resolver: Resolver) -> list[str]:
    a, b, c = bridge_trio()
    ids = [resolver.resolve(e).person_id for e in (a, b, c)]
    resolver.retract(c.key)
    d = person_event(agency="FIRE", nhs="9434765919", dob=None, event_id="d")
    ids.append(resolver.resolve(d).person_id)
    return ids


def test_the_same_input_gives_the_same_state_and_it_survives_save_and_load(tmp_path: Path):
    first, second = _fixed(), _fixed()
    assert _run(first) == _run(second)
    assert pickle.dumps(first.retractions) == pickle.dumps(second.retractions)
    path = tmp_path / "resolver.state"
    resolver = _fixed()
    a, b, c = bridge_trio()
    for event in (a, b, c):
        resolver.resolve(event)
    resolver.save(path)
    loaded = Resolver.load(path)
    splits = loaded.retract(c.key)  # retractable after a restart
    assert len(splits.splits) == 1
    with pytest.raises(RetractionRefused):
        Resolver.load(path).retract(event_key("HEALTH", "never-sent"))


def test_a_bridge_a_steward_already_split_is_retracted_without_undoing_anything_twice():
    resolver = _fixed()
    a, b, c = bridge_trio()
    first, second = resolver.resolve(a), resolver.resolve(b)
    (merge,) = resolver.resolve(c).merges
    resolver.split(merge.merge_id)  # a steward's decision came first
    retraction = resolver.retract(c.key)
    assert retraction.splits == () and retraction.removed
    assert resolver.person_of(second.person_id) == second.person_id
    assert resolver.person_of(first.person_id) == first.person_id
    # the steward's "not the same person" stands: a new bridge does not join them
    again = person_event(agency="POLICE", record="P-7", nhs="9434765919", event_id="c2")
    assert resolver.resolve(again).merges == ()
