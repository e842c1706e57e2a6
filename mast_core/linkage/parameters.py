"""Fellegi–Sunter parameters: for each field and agreement level, m = P(level | same person)
and u = P(level | different people); the level's match weight is log2(m / u). A record
pair's match weight is the prior weight (log2 of the odds that two records drawn at random
are one person) plus the sum over fields: the log2 odds that the pair is one person. The
thresholds that separate match, possible match (for review) and non-match are match
probabilities; ``match_threshold`` and its kin are the same in bits.

Defaults ship in ``default_parameters.json``; ``mast estimate`` re-estimates them from data
(u from random pairs, m by expectation–maximisation) and saves a file of the same shape.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from mast_core.linkage.comparison import FIELDS, LEVELS

DEFAULT_FILE = Path(__file__).resolve().parent / "default_parameters.json"
_FLOOR = 1e-9


@dataclass
class Parameters:
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior_weight: float
    """log2 of the prior odds that two records drawn at random are the same person:
    estimated from the data as it arrives (``learning``); the shipped value serves until
    then."""
    match_probability: float
    """At or above: the record joins the identity."""
    review_probability: float
    """At or above (but under the match probability): a possible match, kept apart for
    review."""
    merge_probability: float
    """A record that links two identities merges them only at or above this."""
    tf_smoothing: float = 200.0
    """Pseudo-count pulling a name's observed frequency towards the average u."""
    twin_penalty: float = -12.0
    """Added when family name and date of birth agree but given names clearly differ: the
    pattern of twins and siblings, which the fields' independent weights would link."""
    household_weight: float = 0.0
    """Bits taken from family-name agreement when two records put the person in the same
    home: people who live together share a family name far more often than two records
    drawn at random, so the two agreements are not independent evidence. Learnt from the
    data (``learning``): data without households (one person per address) learns 0."""
    ambiguity_margin: float = 6.0
    """A record that matches two identities it may not merge, within this many bits of each
    other, is ambiguous: it starts a new identity and lists both for review."""
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in (
            ("match_probability", self.match_probability),
            ("review_probability", self.review_probability),
            ("merge_probability", self.merge_probability),
        ):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        self.match_threshold = bits(self.match_probability)
        """The match probability as a match weight (log2 odds)."""
        self.review_threshold = bits(self.review_probability)
        self.merge_threshold = bits(self.merge_probability)
        for name in FIELDS:
            for level in LEVELS[name]:
                if level == "missing":
                    continue
                if level not in self.m.get(name, {}) or level not in self.u.get(name, {}):
                    raise ValueError(f"parameters lack m or u for {name}.{level}")
        self.version = (
            "v"
            + hashlib.blake2b(
                json.dumps(self._content(), sort_keys=True).encode(), digest_size=5
            ).hexdigest()
        )
        """Names this exact set of numbers; every link records the version that made it."""
        self.weights = {
            name: {
                level: 0.0
                if level == "missing"
                else math.log2(max(self.m[name][level], _FLOOR) / max(self.u[name][level], _FLOOR))
                for level in LEVELS[name]
            }
            for name in FIELDS
        }

    def weight(self, name: str, level: str) -> float:
        return self.weights[name][level]

    # Persistence ------------------------------------------------------------------------------
    def _content(self) -> dict[str, Any]:
        content = self.to_dict()
        del content["notes"]
        return content

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior_weight": self.prior_weight,
            "match_probability": self.match_probability,
            "review_probability": self.review_probability,
            "merge_probability": self.merge_probability,
            "tf_smoothing": self.tf_smoothing,
            "twin_penalty": self.twin_penalty,
            "household_weight": self.household_weight,
            "ambiguity_margin": self.ambiguity_margin,
            "fields": {
                name: {
                    level: {"m": self.m[name][level], "u": self.u[name][level]}
                    for level in LEVELS[name]
                    if level != "missing"
                }
                for name in FIELDS
            },
            "notes": self.notes,
        }

    def completed(self) -> Parameters:
        """This set, with m and u of any level it predates (a parameters file or a resolver
        checkpoint written before the level existed) taken from the shipped defaults: they
        serve until the next re-estimate learns the level from the data."""
        if all(
            level in self.m.get(name, {}) and level in self.u.get(name, {})
            for name in FIELDS
            for level in LEVELS[name]
            if level != "missing"
        ):
            return self
        m, u = _with_shipped_levels(self.m, self.u)
        return replace(self, m=m, u=u)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Parameters:
        fields = data["fields"]
        m, u = _with_shipped_levels(
            {f: {lvl: v["m"] for lvl, v in levels.items()} for f, levels in fields.items()},
            {f: {lvl: v["u"] for lvl, v in levels.items()} for f, levels in fields.items()},
        )
        return cls(
            m=m,
            u=u,
            prior_weight=data["prior_weight"],
            match_probability=_probability(data, "match"),
            review_probability=_probability(data, "review"),
            merge_probability=_probability(data, "merge"),
            tf_smoothing=data.get("tf_smoothing", 200.0),
            twin_penalty=data.get("twin_penalty", -12.0),
            household_weight=data.get("household_weight", 0.0),
            ambiguity_margin=data.get("ambiguity_margin", 6.0),
            notes=data.get("notes", {}),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = DEFAULT_FILE) -> Parameters:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def default(cls) -> Parameters:
        return cls.load(DEFAULT_FILE)


Table = dict[str, dict[str, float]]


@lru_cache(maxsize=1)
def _shipped_fields() -> dict[str, dict[str, dict[str, float]]]:
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))["fields"]  # type: ignore[no-any-return]


def _with_shipped_levels(m: Table, u: Table) -> tuple[Table, Table]:
    """``m`` and ``u`` with every level they lack filled from the shipped defaults (read as
    numbers, so that loading the defaults themselves does not come back here)."""
    shipped = _shipped_fields()
    filled_m = {name: dict(m.get(name, {})) for name in FIELDS}
    filled_u = {name: dict(u.get(name, {})) for name in FIELDS}
    for name in FIELDS:
        for level, values in shipped[name].items():
            filled_m[name].setdefault(level, values["m"])
            filled_u[name].setdefault(level, values["u"])
    return filled_m, filled_u


def bits(probability: float) -> float:
    """A probability as log2 odds, the scale match weights are on."""
    return math.log2(probability / (1.0 - probability))


def probability(weight: float) -> float:
    """log2 odds as a probability."""
    return 1.0 / (1.0 + 2.0 ** (-weight))


def _probability(data: dict[str, Any], name: str) -> float:
    """A threshold from a parameters file: a probability, or (files written before
    thresholds were probabilities) a weight in bits."""
    if f"{name}_probability" in data:
        return float(data[f"{name}_probability"])
    return probability(float(data[f"{name}_threshold"]))
