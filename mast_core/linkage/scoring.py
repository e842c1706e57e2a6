"""Match weights for record pairs, with term-frequency adjustment of exact name agreement:
agreeing on "smith" is weaker evidence than agreeing on a rare name, in proportion to how
often each appears among the records seen so far.

``weigh`` is the hot path (every candidate pair): it returns the weight and the levels only.
``explain`` turns the pair that decided an outcome into per-field contributions for people.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from mast_core.linkage.comparison import (
    DATE_OF_BIRTH,
    EXACT_TF_FIELDS,
    FAMILY_NAME,
    FIELDS,
    GIVEN_NAME,
    RESIDENCE,
    compare,
)
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile

TWIN_CHECK = "twin_check"
TWIN_LEVEL = "given differs, birth same"
NAMES = "names"
"""A contribution of no weight marking that the names agreed only with given and family
written the other way round (``swapped``): the name fields' levels are read that way."""
_SAME_BIRTH = frozenset({"exact", "swapped", "typo"})
_SAME_FAMILY = frozenset({"exact", "part", "typo"})
SAME_FAMILY = frozenset({"exact", "part", "typo", "fuzzy"})
SAME_HOME = frozenset({"same_address", "same_dwelling"})
_RESIDENCE_INDEX = FIELDS.index(RESIDENCE)
_GIVEN_INDEX = FIELDS.index(GIVEN_NAME)
_FAMILY_INDEX = FIELDS.index(FAMILY_NAME)
_DOB_INDEX = FIELDS.index(DATE_OF_BIRTH)
_NAME_FIELDS = 2
"""The name fields come first in ``FIELDS``: only their weights move with the records seen
(term frequencies) or with the household; every later field's weight is its level's."""
if FIELDS[:_NAME_FIELDS] != (GIVEN_NAME, FAMILY_NAME):  # pragma: no cover - a layout guard
    raise RuntimeError("comparison.FIELDS must begin with the given and the family name")


@dataclass(frozen=True, slots=True)
class Contribution:
    field: str
    level: str
    weight: float


@dataclass(frozen=True, slots=True)
class Score:
    weight: float
    contributions: tuple[Contribution, ...]
    names_swapped: bool

    def reason(self) -> str:
        """Short explanation for people: the strongest evidence first."""
        parts = [
            _phrase(c.field, c.level)
            for c in sorted(self.contributions, key=lambda c: -abs(c.weight))
            if c.level != "missing" and c.field != NAMES
        ]
        if self.names_swapped:
            parts.insert(0, "names swapped")
        return ", ".join(parts[:5])


@cache
def _phrase(field: str, level: str) -> str:
    """ "date_of_birth", "exact" → "date of birth exact": made for every link, and there are
    few of them."""
    return f"{field.replace('_', ' ')} {level.replace('_', ' ')}"


Levels = tuple[str, ...]
"""One level per field, in the order of ``comparison.FIELDS``."""


class _Plan(NamedTuple):
    """How a pair with given levels is weighed (``Scorer._plan``)."""

    total: float | None
    """The pair's weight before the twin check when no name's frequency enters it; None
    when one does."""
    given: float
    family: float
    """The names' weights from their levels, the household's cut made (used when a name's
    frequency does not replace them)."""
    later: tuple[float, ...]
    """The weights of the fields after the names."""
    given_tf: bool
    """The given names agree exactly: their frequency weight counts."""
    family_tf: bool
    """The family names agree exactly: their frequency weight counts."""
    household: bool
    """At one home with a like family name: the family name's weight is cut."""
    twins: bool
    """The twin pattern: the penalty applies when either record is a child's."""


_CACHES = ("_base", "_tf", "_plans", "_explained", "_fixed")
"""The scorer's caches (``_fixed``: an earlier release's), kept out of checkpoints."""


class Scorer:
    def __init__(self, parameters: Parameters) -> None:
        self.name_counts: dict[str, Counter[str]] = {GIVEN_NAME: Counter(), FAMILY_NAME: Counter()}
        self.total = 0
        self.use(parameters)

    def use(self, parameters: Parameters) -> None:
        """Score with a new parameter set from now on, keeping the name counts."""
        self.parameters = parameters
        self._tables = [parameters.weights[name] for name in FIELDS]
        self._base: dict[Levels, tuple[float, ...]] = {}
        """Levels → the fields' table weights: few distinct patterns, met again and again."""
        self._tf: dict[tuple[str, str], float] = {}
        """Term-frequency weights while the name counts stand still (cleared when they move):
        the record being resolved meets the same names in candidate after candidate."""
        self._tf_total = self.total
        self._plans: tuple[dict[Levels, _Plan], dict[Levels, _Plan]] = ({}, {})
        """By names swapped, then levels → how the pair's weight is made (``_Plan``): every
        pair weighed, and every pair whose kept levels a re-estimate weighs again, takes
        all but the names' frequencies from here."""
        self._explained: dict[Levels, tuple[Contribution, ...]] = {}
        """Levels → the contributions of the fields after the names (``explain``)."""
        self._household = parameters.household_weight
        self._tf_m = {
            name: math.log2(max(parameters.m[name][level], 1e-9))
            for name, level in EXACT_TF_FIELDS.items()
        }

    def __getstate__(self) -> dict[str, object]:
        """A checkpoint keeps the parameters and the name counts, not the caches built
        from them: those change shape between releases, and ``__setstate__`` builds them
        afresh (empty)."""
        state = self.__dict__.copy()
        for name in _CACHES:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        for name in _CACHES:  # a checkpoint written before caches were left out has them
            self.__dict__.pop(name, None)
        self.use(self.parameters)

    def observe(self, profile: Profile) -> None:
        """Count a new distinct profile's names for term-frequency adjustment."""
        self.total += 1
        self._tf.clear()
        if profile.given:
            self.name_counts[GIVEN_NAME][profile.given] += 1
        if profile.family:
            self.name_counts[FAMILY_NAME][profile.family] += 1

    def frequency(self, name: str, value: str) -> float:
        level = EXACT_TF_FIELDS[name]
        k = self.parameters.tf_smoothing
        prior = self.parameters.u[name][level]
        return (self.name_counts[name][value] + k * prior) / (self.total + k)

    def _tf_weight(self, name: str, value: str) -> float:
        if self._tf_total != self.total:  # names were counted or forgotten since
            self._tf.clear()
            self._tf_total = self.total
        cached = self._tf.get((name, value))
        if cached is None:
            cached = self._tf_m[name] - math.log2(max(self.frequency(name, value), 1e-9))
            self._tf[name, value] = cached
        return cached

    def field_weights(self, a: Profile, levels: Levels, swapped: bool) -> list[float]:
        base = self._base.get(levels)
        if base is None:
            base = tuple(table[level] for table, level in zip(self._tables, levels, strict=True))
            self._base[levels] = base
        weights = list(base)
        if not swapped:
            if levels[_GIVEN_INDEX] == "exact":
                weights[_GIVEN_INDEX] = self._tf_weight(GIVEN_NAME, a.given or "")
            if levels[_FAMILY_INDEX] == "exact":
                weights[_FAMILY_INDEX] = self._tf_weight(FAMILY_NAME, a.family or "")
        if (
            self._household
            and levels[_RESIDENCE_INDEX] in SAME_HOME
            and levels[_FAMILY_INDEX] in SAME_FAMILY
        ):
            # one household's members share the name: the name says less at one address
            weights[_FAMILY_INDEX] = max(weights[_FAMILY_INDEX] - self._household, 0.0)
        return weights

    def _twins(self, levels: Levels) -> bool:
        return (
            levels[_GIVEN_INDEX] == "disagree"
            and levels[_DOB_INDEX] in _SAME_BIRTH
            and levels[_FAMILY_INDEX] in _SAME_FAMILY
        )

    def _twin_penalty(self, a: Profile, b: Profile, levels: Levels) -> float:
        """Same family name and date of birth, given names clearly different: twins, when
        one of them is a child (twins share a home as children). Among adults the pattern
        is more often one person under another given name (a preferred or anglicised name,
        an alias), and the fields' own weights judge it."""
        if (a.minor or b.minor) and self._twins(levels):
            return self.parameters.twin_penalty
        return 0.0

    def _plan(self, levels: Levels, swapped: bool) -> _Plan:
        """What ``field_weights`` gives for these levels, but for the exact names'
        frequency weights, which move with every record counted."""
        given_tf = not swapped and levels[_GIVEN_INDEX] == "exact"
        family_tf = not swapped and levels[_FAMILY_INDEX] == "exact"
        household = bool(
            self._household
            and levels[_RESIDENCE_INDEX] in SAME_HOME
            and levels[_FAMILY_INDEX] in SAME_FAMILY
        )
        weights = [table[level] for table, level in zip(self._tables, levels, strict=True)]
        if household:
            weights[_FAMILY_INDEX] = max(weights[_FAMILY_INDEX] - self._household, 0.0)
        total = None if given_tf or family_tf else self.parameters.prior_weight + sum(weights)
        return _Plan(
            total,
            weights[_GIVEN_INDEX],
            weights[_FAMILY_INDEX],
            tuple(weights[_NAME_FIELDS:]),
            given_tf,
            family_tf,
            household,
            self._twins(levels),
        )

    def weight_of(self, a: Profile, b: Profile, levels: Levels, swapped: bool) -> float:
        """The match weight of a pair whose levels are already known: the hot path, so the
        fields' weights come from the levels' ``_plan`` and only exact names' frequency
        weights are worked out. Summed in the fields' order, as ``explain`` sums them, so
        the float is the same to the last bit (ties between candidates break alike)."""
        plans = self._plans[swapped]
        plan = plans.get(levels)
        if plan is None:
            plan = plans[levels] = self._plan(levels, swapped)
        total, given, family, later, given_tf, family_tf, household, twins = plan
        if total is None:  # an exact name: its frequency among the records seen so far counts
            if given_tf:
                given = self._tf_weight(GIVEN_NAME, a.given or "")
            if family_tf:
                family = self._tf_weight(FAMILY_NAME, a.family or "")
                if household:
                    family = max(family - self._household, 0.0)
            # sum(later, given + family) adds as sum(weights) does: given, family, the rest
            total = self.parameters.prior_weight + sum(later, given + family)
        if twins and (a.minor or b.minor):
            total += self.parameters.twin_penalty
        return total

    def weigh(self, a: Profile, b: Profile) -> tuple[float, Levels, bool]:
        """The pair's match weight, its levels, and whether names matched only swapped."""
        levels, swapped = compare(a, b)
        return self.weight_of(a, b, levels, swapped), levels, swapped

    def explain(self, a: Profile, b: Profile, levels: Levels, swapped: bool) -> Score:
        """The per-field contributions behind ``weigh``'s number, for the record of a link.
        Made for every link: the fields after the names, whose weights follow from their
        levels alone, take theirs from ``_explained`` (rounding a float costs more than
        finding it)."""
        weights = self.field_weights(a, levels, swapped)
        tail = self._explained.get(levels)
        if tail is None:
            later = slice(_NAME_FIELDS, None)
            tail = self._explained[levels] = tuple(
                Contribution(name, level, round(weight, 3))
                for name, level, weight in zip(
                    FIELDS[later], levels[later], weights[later], strict=True
                )
            )
        contributions = [
            Contribution(GIVEN_NAME, levels[_GIVEN_INDEX], round(weights[_GIVEN_INDEX], 3)),
            Contribution(FAMILY_NAME, levels[_FAMILY_INDEX], round(weights[_FAMILY_INDEX], 3)),
            *tail,
        ]
        total = self.parameters.prior_weight + sum(weights)
        penalty = self._twin_penalty(a, b, levels)
        if penalty:
            total += penalty
            contributions.append(Contribution(TWIN_CHECK, TWIN_LEVEL, penalty))
        if swapped:
            contributions.append(Contribution(NAMES, "swapped", 0.0))
        return Score(round(total, 3), tuple(contributions), swapped)

    def score(self, a: Profile, b: Profile) -> Score:
        _weight, levels, swapped = self.weigh(a, b)
        return self.explain(a, b, levels, swapped)
