"""Why a record belongs to a person, in words a practitioner understands.

The resolver explains every link by its per-field contributions (``scoring.Contribution``:
the field, its agreement level and the bits it added to the match weight). This module is
the one place that turns them, with the match weight, into what people read: each level in
words ("given name a known short form", "date of birth with day and month swapped"), a
sentence with the strongest evidence first and the evidence against after it, and a
strength word from the match probability:

    date of birth exact, family name exact, given name a known short form, same address:
    very strong

A record that started an identity, or repeated an earlier record's details exactly, was
linked by no comparison; it says so ("the first record of this person: no earlier record
matched"). Merges of two identities use the same words (``explain_link``). The web app and
the API show what this module says; nothing else words a level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mast_core.linkage.comparison import (
    DATE_OF_BIRTH,
    FAMILY_NAME,
    GENDER,
    GIVEN_NAME,
    NHS_NUMBER,
    PARTNER_RECORD,
    RESIDENCE,
)
from mast_core.linkage.scoring import NAMES, TWIN_CHECK, TWIN_LEVEL, Contribution

MISSING = "missing"

WORDS: Mapping[str, Mapping[str, str]] = {
    GIVEN_NAME: {
        "exact": "given name exact",
        "nickname": "given name a known short form or middle name",
        "typo": "given name one letter different",
        "fuzzy": "given name spelt similarly",
        "initial": "given name only an initial or cut short",
        "disagree": "given name different",
        MISSING: "given name not on both records",
    },
    FAMILY_NAME: {
        "exact": "family name exact",
        "part": "family name shares part of a double-barrelled name",
        "typo": "family name one letter different",
        "fuzzy": "family name spelt similarly",
        "disagree": "family name different",
        MISSING: "family name not on both records",
    },
    DATE_OF_BIRTH: {
        "exact": "date of birth exact",
        "swapped": "date of birth with day and month swapped",
        "typo": "date of birth with one digit different or two digits swapped",
        "month_day": "same day and month of birth, different year",
        "year_month": "same month and year of birth, different day",
        "disagree": "date of birth different",
        MISSING: "date of birth not on both records",
    },
    GENDER: {
        "agree": "same gender",
        "disagree": "different gender",
        MISSING: "gender not known on both records",
    },
    RESIDENCE: {
        "same_address": "same address",
        "same_dwelling": "same home, its address written differently",
        "same_postcode": "same postcode",
        "same_street": "same street in the same town",
        "same_sector": "nearby address (same postcode sector)",
        "same_town": "same town or district",
        "same_house_elsewhere": "same house number and street, in another town or postcode",
        "different": "different address",
        MISSING: "address not on both records",
    },
    NHS_NUMBER: {
        "agree": "same NHS number",
        "disagree": "different NHS number",
        MISSING: "NHS number not on both records",
    },
    PARTNER_RECORD: {
        "same_record": "same reference in the partner's system",
        "other_record": "another reference in the same partner's system",
        MISSING: "not from the same partner system",
    },
    TWIN_CHECK: {
        TWIN_LEVEL: "possibly a twin (a child with the same family name and date of birth "
        "and another given name)",
    },
    NAMES: {"swapped": "given and family names written the other way round"},
}
"""Every level of every field (``comparison.LEVELS``) and of the resolver's two checks, in
words; ``tests/unit/linkage/test_explanation.py`` holds it to the full list."""

VERY_STRONG, STRONG, POSSIBLE, WEAK = "very strong", "strong", "possible", "weak"
STRENGTHS: tuple[tuple[float, str], ...] = (
    (0.99998, VERY_STRONG),
    (0.99, STRONG),
    (0.9, POSSIBLE),
)
"""Match probability at or above which each word is used (below the last: ``WEAK``). They
are the shipped parameters' merge, match and review probabilities, so a record linked with
them is at least "strong", and a link strong enough to merge two people "very strong"."""

# The resolver's reasons for a record it linked by no comparison (``Resolution.reason``),
# as stored with every resolved interaction. The resolver takes them from here.
NEW_PERSON = "new person"
NEW_PERSON_FOR_REVIEW = "new person; possible match kept for review"
AMBIGUOUS = "ambiguous; kept apart for review"
NO_NAME = "no name to link on"
EXACT_REPEAT = "same details as before"

FIRST_RECORD = "the first record of this person"
_UNSCORED = {
    NEW_PERSON: f"{FIRST_RECORD}: no earlier record matched",
    NEW_PERSON_FOR_REVIEW: f"{FIRST_RECORD}: no earlier record matched closely enough to link, "
    "and one that might be the same person is kept for review",
    AMBIGUOUS: f"{FIRST_RECORD}: it fitted two people equally well, so it was kept apart "
    "for review",
    NO_NAME: f"{FIRST_RECORD}: it has no name to link on",
    EXACT_REPEAT: "the same details as an earlier record of this person",
}
_STARTED = frozenset({NEW_PERSON, NEW_PERSON_FOR_REVIEW, AMBIGUOUS, NO_NAME})
MERGED_LATER = "; joined to this person later by a merge (see the history)"


@dataclass(frozen=True, slots=True)
class Worded:
    """One field's part in a link: its level in words and the bits it added."""

    field: str
    level: str
    words: str
    weight: float


@dataclass(frozen=True, slots=True)
class Explanation:
    sentence: str
    strength: str | None
    """``VERY_STRONG`` … ``WEAK`` from the match probability; None for a record linked by
    no comparison (the first of its identity, or an exact repeat)."""
    match_weight: float | None
    contributions: tuple[Worded, ...]
    """Strongest evidence first, evidence against after it, fields neither record gave
    last."""


def words(field: str, level: str) -> str:
    """A level of a field in words; one this MAST does not know (written by a later
    version) is read out as its names."""
    known = WORDS.get(field, {}).get(level)
    return known or f"{field.replace('_', ' ')} {level.replace('_', ' ')}"


def probability(weight: float) -> float:
    """The match probability of a match weight (log2 odds)."""
    if weight < -1000:
        return 0.0
    return 1.0 / (1.0 + math.pow(2.0, -weight))


def strength(weight: float) -> str:
    chance = probability(weight)
    for floor, word in STRENGTHS:
        if chance >= floor:
            return word
    return WEAK


def _order(contribution: Contribution) -> tuple[int, float]:
    if contribution.field == NAMES:
        return (0, 0.0)  # says how the name fields' levels are to be read: first
    if contribution.level == MISSING:
        return (3, 0.0)
    return (1, -contribution.weight) if contribution.weight >= 0 else (2, contribution.weight)


def explain_link(contributions: Iterable[Contribution], match_weight: float) -> Explanation:
    """A link (a record joining a person, or two identities merging) from its
    contributions and weight."""
    ordered = sorted(contributions, key=_order)
    worded = tuple(Worded(c.field, c.level, words(c.field, c.level), c.weight) for c in ordered)
    shown = [w for w in worded if w.level != MISSING]
    for_ = [w.words for w in shown if w.weight >= 0]
    against = [w.words for w in shown if w.weight < 0]
    evidence = ", ".join(for_)
    if against:
        evidence += (", but " if for_ else "against: ") + ", ".join(against)
    word = strength(match_weight)
    return Explanation(f"{evidence or 'no detail compared'}: {word}", word, match_weight, worded)


def explain_record(
    contributions: Iterable[Contribution] | None,
    match_weight: float | None,
    reason: str,
    *,
    merged_later: bool = False,
) -> Explanation:
    """Why a stored record belongs to its person.

    ``contributions`` as stored with the record: None when it was stored before they were
    (resolved-interaction schema v4), when ``reason``, the resolver's own short sentence,
    is shown as it was stored. ``merged_later``: the record was resolved to an identity
    that has since been merged into the person shown.
    """
    listed = tuple(contributions or ())
    if listed and match_weight is not None:
        return explain_link(listed, match_weight)
    if match_weight is not None:  # a link stored without its contributions
        return Explanation(reason, strength(match_weight), match_weight, ())
    sentence = _UNSCORED.get(reason, reason)
    if merged_later and reason in _STARTED:
        sentence += MERGED_LATER
    return Explanation(sentence, None, None, ())
