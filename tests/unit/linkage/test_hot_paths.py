"""Shortcuts taken for speed in the pure functions (issue 11) give exactly the answers of the
long way round: each test sets a shortcut against the plain computation on the same input."""

from __future__ import annotations

import random

from mast_core.events import _blank_to_none
from mast_core.linkage.addresses import SCREEN_FROM, AddressResolver
from mast_core.linkage.blocking import blocking_keys, filed_keys, name_only_key
from mast_core.linkage.comparison import _run_together_forms, compare
from mast_core.normalise.addresses import normalise_address
from tests.factories import profile

_STREETS = (
    "oak road",
    "oak rd",
    "oak",
    "oakland road",
    "elm road",
    "ash grove",
    "park court",
    "park way",
    "mill lane",
    "kingsmill street",
    "kings mill street",
    "station road",
)


def test_the_town_wide_street_screen_keeps_every_address_that_could_be_chosen():
    rng = random.Random(11)
    resolver = AddressResolver()
    # many number 12s in one town: a block large enough to be screened
    for n in range(3 * SCREEN_FROM):
        street = f"{rng.choice(_STREETS)} {'x' * (n % 3)}".strip()
        postcode = rng.choice([None, "WS1 2AB", f"WS{n % 9 + 1} {n % 10}AB", "XX99"])
        resolver.resolve(normalise_address(f"12 {street}", None, "Walsall", postcode))
    block = resolver.by_street["/12@walsall"]
    assert len(block) >= SCREEN_FROM
    for street in (*_STREETS, "oak roda", "zzz", ""):
        for postcode in (None, "WS1 2AB", "WS1 2AD", "XX99"):
            address = normalise_address(f"12 {street}", None, "Walsall", postcode)
            assert address is not None
            screened = resolver._street_screen(address, block)
            assert set(screened) <= set(block)
            assert resolver._best(address, screened) == resolver._best(address, block)
            for index in set(block) - set(screened):
                assert resolver._similarity(address, resolver.known[index]) is None


def test_filed_keys_are_the_blocking_keys_and_the_name_only_key():
    for fields in (
        {},
        {"dob": None},
        {"dob": None, "given": None},
        {"family": None},
        {"postcode": None, "line1": None},
        {"given": "Peggy", "family": "Smith-Jones", "record": "R1", "nhs": "9434765919"},
        {"given": "J", "family": "Van Groesen", "dob": "02/13/1957"},
    ):
        record = profile(**fields)
        name_key = name_only_key(record)
        long_way = list(blocking_keys(record)) + ([name_key] if name_key else [])
        assert filed_keys(record) == long_way, fields
        assert all(not key.startswith("f:") for key in blocking_keys(record))


def test_run_together_forms_drop_spaces_given_first_and_family_first():
    assert _run_together_forms("chelsea", None, "van groesen") == (
        "chelseavangroesen",
        "vangroesenchelsea",
    )
    assert _run_together_forms("van", "groesen", "chelsea") == (
        "vangroesenchelsea",
        "chelseavangroesen",
    )
    assert _run_together_forms(None, None, "nguyen") == ("nguyen", "nguyen")
    forward = profile(given="Chelsea", family="Van Groesen")
    backward = profile(given="Van Groesen", family="Chelsea")
    levels, swapped = compare(forward, backward)
    assert levels[:2] == ("exact", "exact") and swapped


def test_blank_words_become_null_whatever_their_length_or_case():
    for blank in ("", "   ", "null", " NULL ", "None", "n/a", "Unknown", "UNKNOWN"):
        assert _blank_to_none(blank) is None, blank
    for value in ("Unknowns", "Nullify", "Anne", " Anne ", "NA", "unknown person"):
        assert _blank_to_none(value) == value.strip(), value
    assert _blank_to_none(None) is None
    assert _blank_to_none(12) == 12


def test_an_address_written_as_before_gets_the_id_a_search_would_give():
    rng = random.Random(23)
    short, long = AddressResolver(), AddressResolver()
    long._written_before = lambda _address, _address_id: None  # type: ignore[method-assign]
    searched = {"short": 0, "long": 0}
    for name, resolver in (("short", short), ("long", long)):
        find = resolver._find
        resolver._find = lambda address, find=find, name=name: (  # type: ignore[method-assign]
            searched.__setitem__(name, searched[name] + 1) or find(address)
        )
    written = []
    for n in range(600):
        if written and rng.random() < 0.5:
            line1, town, postcode = rng.choice(written)  # written exactly as before
        else:
            line1 = f"{rng.choice(['12', '14', '2 12', 'Rose Cottage'])} {rng.choice(_STREETS)}"
            town = rng.choice([None, "Walsall", "Dudley"])
            postcode = rng.choice([None, "WS1 2AB", "WS1 2AD", f"DY{n % 4} 1AA", "XX99"])
            written.append((line1, town, postcode))
        address = normalise_address(line1, None, town, postcode)
        assert short.resolve(address) == long.resolve(address), (line1, town, postcode)
    assert len(short.known) == len(long.known) > 20
    assert searched["short"] < searched["long"]  # repeats of a first writing were not searched


def test_a_pairs_weight_from_its_plan_is_the_sum_its_explanation_gives():
    """``Scorer.weight_of`` takes the fields' weights from a plan per levels and works out
    only the exact names' frequency weights, and ``explain`` takes the contributions of the
    fields after the names from a table; summing every field's weight in order gives the
    same float, and rounding it the same contributions. On pairs of generator records of every kind
    (exact, swapped and household names, children and adults), with the names'
    counts moving between pairs and with learnt parameters, the two agree."""
    from mast_core.events import parse_event
    from mast_core.linkage import Resolver
    from mast_core.linkage.comparison import FIELDS
    from mast_core.linkage.learning import LearningSchedule
    from mast_core.linkage.scoring import Contribution
    from producers.synthetic.population import EventGenerator

    resolver = Resolver(learning=LearningSchedule(first_after=1_000))
    for item in EventGenerator("high", seed=9).generate(3_000):
        resolver.resolve(parse_event(item.event))
    assert resolver.stats.relearnt  # learnt parameters, household weight and all
    scorer, profiles = resolver.scorer, resolver.profiles
    rng = random.Random(5)
    kinds: set[tuple[str, str, bool, bool]] = set()
    for number, left in enumerate(profiles):
        # its blocks' records (most of them like it), and a stranger
        others = [*resolver.index.gather(filed_keys(left)), rng.randrange(len(profiles))]
        for other in others:
            right = profiles[other]
            levels, swapped = compare(left, right)
            weights = scorer.field_weights(left, levels, swapped)
            plain = scorer.parameters.prior_weight + sum(weights)
            plain += scorer._twin_penalty(left, right, levels)
            # to the last bit: ties between candidates must break as they always did
            assert scorer.weight_of(left, right, levels, swapped) == plain
            explained = scorer.explain(left, right, levels, swapped)
            assert explained.weight == round(plain, 3)
            assert explained.contributions[: len(FIELDS)] == tuple(
                Contribution(name, level, round(weight, 3))
                for name, level, weight in zip(FIELDS, levels, weights, strict=True)
            )
            kinds.add((levels[0], levels[1], swapped, left.minor or right.minor))
        if number % 97 == 0:
            scorer.observe(left)  # the names' counts move: their frequency weights too
    assert {("exact", "exact", False, True), ("exact", "exact", False, False)} <= kinds
    assert any(swapped for _given, _family, swapped, _minor in kinds)


def test_a_remembered_given_name_level_is_the_one_compare_given_gives(monkeypatch):
    """``_given_level`` remembers levels, and empties its memory when full; what it answers
    is ``compare_given``'s answer, for nicknames, middle names, initials and typos alike."""
    from mast_core.linkage import comparison

    monkeypatch.setattr(comparison, "GIVEN_LEVELS_KEPT", 50)
    monkeypatch.setattr(comparison, "_given_levels", {})
    names = [
        "Peggy",
        "Margaret",
        "Marg",
        "M",
        "Jon",
        "Jen",
        "John",
        "Jonathan",
        "Mohammed",
        "Muhammad",
        "Bridget",
        "Bri",
        "Anne Marie",
        "Marie",
        "",
        "Jonh",
    ]
    people = [profile(given=name, dob=None) for name in names]
    for _round in range(3):  # asked again: from memory, and after it was emptied
        for left in people:
            for right in people:
                expected = comparison.compare_given(left.given, right.given, left, right)
                assert comparison._given_level(left, right) == expected
    assert 0 < len(comparison._given_levels) <= 50


def test_a_checkpointed_scorer_keeps_its_counts_and_builds_its_caches_afresh():
    """The scorer's caches stay out of a checkpoint (their shape changes between releases)
    and are built again, empty, when it is read; the weights it gives are the same."""
    import pickle

    from mast_core.linkage.comparison import compare
    from mast_core.linkage.parameters import Parameters
    from mast_core.linkage.scoring import Scorer

    rng = random.Random(3)
    people = [
        profile(given=rng.choice(["Ann", "Bob", "Cy"]), family=rng.choice(["Oak", "Elm"]))
        for _ in range(40)
    ]
    scorer = Scorer(Parameters.default())
    for person in people:
        scorer.observe(person)
    pairs = [(a, b, *compare(a, b)) for a in people[:10] for b in people[10:20]]
    before = [scorer.weight_of(a, b, levels, swapped) for a, b, levels, swapped in pairs]
    scorer.explain(*pairs[0])
    assert any(scorer._plans) and scorer._explained  # the caches are in use
    blob = pickle.dumps(scorer)
    assert b"_Plan" not in blob and b"_explained" not in blob
    restored = pickle.loads(blob)  # noqa: S301 - bytes this test made
    assert restored.name_counts == scorer.name_counts and restored.total == scorer.total
    assert restored._plans == ({}, {}) and restored._explained == {}
    after = [restored.weight_of(a, b, levels, swapped) for a, b, levels, swapped in pairs]
    assert after == before
