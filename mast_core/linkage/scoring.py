"""Match weights for record pairs, with term-frequency adjustment of exact name agreement:
agreeing on "smith" is weaker evidence than agreeing on a rare name, in proportion to how
often each appears among the records seen so far."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mast_core.linkage.comparison import (
    DATE_OF_BIRTH,
    EXACT_TF_FIELDS,
    FAMILY_NAME,
    GIVEN_NAME,
    compare,
)
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile


TWIN_CHECK = "twin_check"
_SAME_BIRTH = frozenset({"exact", "swapped", "typo"})
_SAME_FAMILY = frozenset({"exact", "part", "typo"})


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
            f"{c.field.replace('_', ' ')} {c.level.replace('_', ' ')}"
            for c in sorted(self.contributions, key=lambda c: -abs(c.weight))
            if c.level != "missing"
        ]
        if self.names_swapped:
            parts.insert(0, "names swapped")
        return ", ".join(parts[:5])


class Scorer:
    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters
        self.name_counts: dict[str, Counter[str]] = {GIVEN_NAME: Counter(), FAMILY_NAME: Counter()}
        self.total = 0

    def observe(self, profile: Profile) -> None:
        """Count a new distinct profile's names for term-frequency adjustment."""
        self.total += 1
        if profile.given:
            self.name_counts[GIVEN_NAME][profile.given] += 1
        if profile.family:
            self.name_counts[FAMILY_NAME][profile.family] += 1

    def frequency(self, name: str, value: str) -> float:
        level = EXACT_TF_FIELDS[name]
        k = self.parameters.tf_smoothing
        prior = self.parameters.u[name][level]
        return (self.name_counts[name][value] + k * prior) / (self.total + k)

    def score(self, a: Profile, b: Profile) -> Score:
        levels, swapped = compare(a, b)
        weights = self.parameters.weights
        contributions = []
        total = self.parameters.prior_weight
        for name, level in levels.items():
            if level == "exact" and name in EXACT_TF_FIELDS and not swapped:
                value = a.given if name == GIVEN_NAME else a.family
                weight = self.parameters.tf_weight(name, level, self.frequency(name, value or ""))
            else:
                weight = weights[name][level]
            total += weight
            contributions.append(Contribution(name, level, round(weight, 3)))
        if (
            levels[GIVEN_NAME] == "disagree"
            and levels[DATE_OF_BIRTH] in _SAME_BIRTH
            and levels[FAMILY_NAME] in _SAME_FAMILY
        ):
            total += self.parameters.twin_penalty
            contributions.append(
                Contribution(TWIN_CHECK, "given differs, birth same", self.parameters.twin_penalty)
            )
        return Score(round(total, 3), tuple(contributions), swapped)
