"""Why a record belongs to a person, in words: every level of every field is worded, a known
score reads as a known sentence, and records linked by no comparison say so."""

from __future__ import annotations

from typing import Any

import pytest

from mast_core.events import InteractionEvent, parse_event
from mast_core.linkage.comparison import LEVELS
from mast_core.linkage.explanation import (
    EXACT_REPEAT,
    FIRST_RECORD,
    MERGED_LATER,
    NEW_PERSON,
    POSSIBLE,
    STRENGTHS,
    STRONG,
    VERY_STRONG,
    WEAK,
    WORDS,
    explain_link,
    explain_record,
    strength,
    words,
)
from mast_core.linkage.parameters import Parameters, bits
from mast_core.linkage.resolver import Resolver
from mast_core.linkage.scoring import NAMES, TWIN_CHECK, TWIN_LEVEL, Contribution


def _event(event_id: str, **fields: Any) -> InteractionEvent:
    """An event of this module's own (names invented)."""
    return parse_event(
        {
            "event_id": event_id,
            "agency": fields.pop("agency", "POLICE"),
            "source_system": fields.pop("system", None),
            "occurred_at": "2026-04-03T10:00:00Z",
            "subject": {
                "given_name": fields.pop("given", "Margaret"),
                "family_name": fields.pop("family", "Thornbury"),
                "date_of_birth": fields.pop("dob", "1957-02-13"),
                "gender": "F",
                "address": {"line1": "12 Alder Street", "town": "Walsall", "postcode": "WS1 2AB"},
            },
        }
    )


@pytest.mark.parametrize(
    ("field", "level"), [(field, level) for field, levels in LEVELS.items() for level in levels]
)
def test_every_level_of_every_field_is_worded(field, level):
    worded = WORDS[field][level]
    assert worded.strip() == worded and worded
    assert "_" not in worded  # words, not the code's names
    assert words(field, level) == worded


def test_each_fields_levels_read_differently_and_the_resolvers_checks_are_worded():
    for field, levels in LEVELS.items():
        assert len({WORDS[field][level] for level in levels}) == len(levels), field
        assert set(WORDS[field]) == set(levels), field  # nothing worded that cannot occur
    assert "twin" in words(TWIN_CHECK, TWIN_LEVEL)
    assert words(NAMES, "swapped") == "given and family names written the other way round"
    # a level a later MAST might write is read out rather than lost
    assert words("date_of_birth", "some_new_level") == "date of birth some new level"


def test_a_known_score_reads_as_a_known_sentence():
    contributions = [
        Contribution("given_name", "nickname", 5.2),
        Contribution("family_name", "exact", 6.1),
        Contribution("date_of_birth", "exact", 12.4),
        Contribution("gender", "agree", 0.9),
        Contribution("residence", "same_address", 4.0),
        Contribution("nhs_number", "missing", 0.0),
        Contribution("partner_record", "missing", 0.0),
    ]
    explained = explain_link(contributions, 28.6)
    assert explained.sentence == (
        "date of birth exact, family name exact, given name a known short form or middle "
        "name, same address, same gender: very strong"
    )
    assert explained.strength == VERY_STRONG
    assert explained.match_weight == 28.6
    assert [c.field for c in explained.contributions] == [
        "date_of_birth",
        "family_name",
        "given_name",
        "residence",
        "gender",
        "nhs_number",
        "partner_record",
    ]
    assert explained.contributions[-1].words == "not from the same partner system"


def test_evidence_against_comes_after_a_but():
    explained = explain_link(
        [
            Contribution("date_of_birth", "swapped", 10.0),
            Contribution("family_name", "exact", 6.0),
            Contribution("given_name", "exact", 7.0),
            Contribution("residence", "different", -3.0),
            Contribution("gender", "disagree", -4.5),
        ],
        8.0,
    )
    assert explained.sentence == (
        "date of birth with day and month swapped, given name exact, family name exact, "
        "but different gender, different address: strong"
    )


@pytest.mark.parametrize(
    ("probability", "word"),
    [(0.999999, VERY_STRONG), (0.995, STRONG), (0.95, POSSIBLE), (0.5, WEAK), (1e-9, WEAK)],
)
def test_the_strength_word_follows_the_match_probability(probability, word):
    assert strength(bits(probability)) == word


def test_the_strength_words_start_at_the_shipped_merge_match_and_review_probabilities():
    shipped = Parameters.default()
    assert [floor for floor, _word in STRENGTHS] == [
        shipped.merge_probability,
        shipped.match_probability,
        shipped.review_probability,
    ]
    assert strength(shipped.match_threshold + 0.01) == STRONG
    assert strength(shipped.merge_threshold + 0.01) == VERY_STRONG
    assert strength(-5000.0) == WEAK  # no overflow far below


def test_a_record_linked_by_the_resolver_is_explained_by_its_contributions():
    resolver = Resolver(learning=None)
    first = resolver.resolve(_event("e-1", agency="HEALTH"))
    second = resolver.resolve(_event("e-2", given="Peggy"))
    assert second.person_id == first.person_id
    assert second.match_weight is not None
    explained = explain_record(second.contributions, second.match_weight, second.reason)
    assert "date of birth exact" in explained.sentence
    assert "given name a known short form or middle name" in explained.sentence
    assert "same address" in explained.sentence
    assert explained.sentence.endswith(f": {explained.strength}")
    assert explained.strength in (STRONG, VERY_STRONG)
    assert {c.field for c in explained.contributions} >= {"date_of_birth", "given_name"}

    started = explain_record(first.contributions, first.match_weight, first.reason)
    assert started.sentence == f"{FIRST_RECORD}: no earlier record matched"
    assert (started.strength, started.match_weight, started.contributions) == (None, None, ())
    repeat = resolver.resolve(_event("e-3", given="Peggy"))
    assert repeat.reason == EXACT_REPEAT
    assert explain_record(repeat.contributions, None, repeat.reason).sentence == (
        "the same details as an earlier record of this person"
    )


def test_names_written_the_other_way_round_are_said_first():
    resolver = Resolver(learning=None)
    resolver.resolve(_event("n-1", given="Okonkwo", family="Adaeze", agency="HEALTH"))
    swapped = resolver.resolve(_event("n-2", given="Adaeze", family="Okonkwo"))
    assert swapped.match_weight is not None, swapped.reason
    explained = explain_record(swapped.contributions, swapped.match_weight, swapped.reason)
    assert explained.sentence.startswith("given and family names written the other way round, ")
    assert explained.contributions[0].field == NAMES
    assert "names swapped" in swapped.reason  # the resolver's own short reason, unchanged
    assert swapped.reason.count("names swapped") == 1


def test_a_link_stored_before_its_contributions_shows_the_stored_reason():
    stored = "date of birth exact, residence same address, family name exact"
    explained = explain_record(None, 24.0, stored)
    assert explained.sentence == stored
    assert explained.strength == VERY_STRONG
    assert explained.contributions == ()


def test_a_first_record_merged_in_later_says_so():
    explained = explain_record([], None, NEW_PERSON, merged_later=True)
    assert explained.sentence == f"{FIRST_RECORD}: no earlier record matched{MERGED_LATER}"
    # an exact repeat was never the first record of anyone
    assert MERGED_LATER not in explain_record([], None, EXACT_REPEAT, merged_later=True).sentence
