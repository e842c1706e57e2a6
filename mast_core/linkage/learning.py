"""Learning the Fellegi–Sunter parameters from the records as they arrive, so that matching
fits each partnership's data rather than the data the defaults came from.

The resolver shows a ``Learner`` each new distinct record, and it keeps two samples, at a
cost of a few comparisons a record:

- **random pairs**: the record against a few earlier records drawn at random. Nearly all
  are different people, so their agreement levels estimate u;
- **training pairs**: the record against a few earlier records drawn from those with the
  same date of birth, and from those with the same full name (the training rules of
  ``estimation``). Expectation–maximisation over each rule's pairs, with u held fixed,
  estimates m for the fields that rule does not select on, as Splink trains on blocking
  rules. (The resolver's own candidates would not do: its blocking keys are so tight that
  nearly every candidate with the same birth date is a match, and EM needs both kinds.)

It also counts records and pairs of records born on the same day. With EM's share of
matches among same-birth-date pairs and m of an exact birth date, that estimates how many
pairs of all records are one person, and so the prior: the log odds that two records drawn
at random are the same person, which the match probabilities are judged against.

Every so many records (``LearningSchedule``) it proposes a new parameter set. Guard rails
refuse a fit that cannot be right: too few pairs; a match share of almost none or almost
all; a name or date of birth whose strongest agreement is not much likelier among matches,
or whose disagreement is common among them (the "everyone in a household matches" fit,
where EM takes relatives who share a surname and an address for one person). A refused
field keeps its previous m; learnt values are shrunk towards the previous ones by a
pseudo-count, so a small sample moves them a little and a large one a lot. The partner
record's weights are policy and never learnt. Each accepted set gets a new version, and
the resolver records on every link the version that made it.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace

from mast_core.linkage.comparison import (
    DATE_OF_BIRTH,
    FAMILY_NAME,
    FIELDS,
    GIVEN_NAME,
    LEVELS,
    PARTNER_RECORD,
    compare,
)
from mast_core.linkage.estimation import (
    M_FLOOR,
    TRAINING_RULES,
    Pattern,
    expectation_maximisation,
    household_weight,
)
from mast_core.linkage.parameters import Parameters, bits
from mast_core.linkage.profile import Profile

IDENTITY_FIELDS = (GIVEN_NAME, FAMILY_NAME, DATE_OF_BIRTH)
POLICY_FIELDS = frozenset({PARTNER_RECORD})
"""Never learnt: a partner's case reference may cover a family, and partners hold
duplicates, so its weights are set by policy."""


RULES = TRAINING_RULES
"""Label, the key a training pair shares, and the fields that key selects on (the same rules
`mast estimate` trains on)."""
RULE_BLOCK = 50
"""Earlier records kept per training key to draw from: bounded, so a common birth date or
name costs no more than a rare one."""


@dataclass(frozen=True)
class LearningSchedule:
    first_after: int = 5_000
    """Records before the first estimate; then each estimate waits for as many records
    again as it had (1k, 2k, 4k, …) up to ``every_at_most``."""
    every_at_most: int = 50_000
    draws_per_record: int = 2
    """Random pairs, and pairs per training rule, drawn for each sampled record."""
    random_draws_while_dense: int = 20
    """Random pairs drawn for each record while every record is sampled (100,000 over the
    first 5,000 records, a fraction of a second): u of a rare level, such as two strangers
    at one address, is not seen at all in a few thousand pairs, and a level never seen
    gets a floor that understates its weight."""
    every_record_until: int = 5_000
    """Every record is sampled until there are this many; after that a record is sampled
    with probability ``every_record_until / records``, so samples keep reaching the newest
    data while their cost per record falls towards nothing."""
    max_random_pairs: int = 200_000
    max_training_pairs: int = 100_000
    """Per training rule. (Splink trains on a few hundred thousand pairs at most; EM
    settles on far fewer.) Full samples cost nothing more per record."""
    min_training_pairs: int = 200
    """A rule with fewer pairs teaches nothing yet."""
    shrinkage: float = 200.0
    """Pseudo-count of pairs with which the previous m pulls on a new estimate."""


@dataclass(frozen=True)
class Estimate:
    """What one round of learning did, for the log, the status and the tests."""

    version: str
    records: int
    random_pairs: int
    training_pairs: dict[str, int]
    match_share: dict[str, float]
    learnt: tuple[str, ...]
    refused: dict[str, str]
    """Field (or rule) → why its fit was refused."""
    prior_weight: float
    household_weight: float = 0.0


@dataclass
class Learner:
    schedule: LearningSchedule = field(default_factory=LearningSchedule)
    seed: int = 1
    random_patterns: Counter[Pattern] = field(default_factory=Counter)
    rule_patterns: dict[str, Counter[Pattern]] = field(
        default_factory=lambda: {label: Counter() for label, _key, _fields in RULES}
    )
    next_at: int = 0
    history: list[Estimate] = field(default_factory=list)
    records: int = 0
    """Distinct records seen (the resolver's profiles)."""
    birth_dates: Counter[str] = field(default_factory=Counter)
    same_birth_date_pairs: int = 0
    """Pairs of records with one date of birth: sum over dates of n(n-1)/2."""
    addresses: Counter[str] = field(default_factory=Counter)
    same_address_pairs: int = 0
    """Pairs of records with one address id: sum over addresses of n(n-1)/2."""
    coresident_patterns: Counter[Pattern] = field(default_factory=Counter)
    """Levels of pairs of records at one address (for ``household_weight``)."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - sampling pairs, not secrets
        self.next_at = self.next_at or self.schedule.first_after
        self._random_total = sum(self.random_patterns.values())
        self._rule_totals = {label: sum(c.values()) for label, c in self.rule_patterns.items()}
        self._blocks: dict[str, dict[str, list[int]]] = {label: {} for label, _k, _f in RULES}
        self._homes: dict[str, list[int]] = {}
        self._coresident_total = sum(self.coresident_patterns.values())

    # Sampling ---------------------------------------------------------------------------------
    def sample(self, number: int, profiles: list[Profile], owner: list[int]) -> None:
        """Compare new record ``profiles[number]`` with a few earlier ones drawn at random
        (for u) and a few sharing each training key (for m). ``owner`` maps records to
        identities: a random pair already resolved as one person is not counted for u,
        because a stream holds several records per person, and counting their agreements
        as chance would weaken every weight."""
        profile = profiles[number]
        schedule = self.schedule
        rng = self.rng
        self.records += 1
        if profile.dob is not None:
            self.same_birth_date_pairs += self.birth_dates[profile.dob.digits]
            self.birth_dates[profile.dob.digits] += 1
        if profile.address_id is not None:
            self.same_address_pairs += self.addresses[profile.address_id]
            self.addresses[profile.address_id] += 1
        dense = schedule.every_record_until
        if self.records > dense and rng.random() * self.records > dense:
            return
        draws = schedule.draws_per_record
        if self._random_total < schedule.max_random_pairs and number:
            # while the sample is small, more random pairs a record: u of a rare level (two
            # strangers at one address) needs tens of thousands of pairs to be seen at all
            dense_draws = schedule.random_draws_while_dense if self.records <= dense else draws
            for _ in range(dense_draws):
                other = rng.randrange(number)
                if owner[other] != owner[number]:
                    self.random_patterns[compare(profile, profiles[other])[0]] += 1
                    self._random_total += 1
        for label, key_of, _fields in RULES:
            blocks = self._blocks[label]
            if self._rule_totals[label] >= schedule.max_training_pairs:
                blocks.clear()  # full: the index has done its work
                continue
            key = key_of(profile)
            if key is None:
                continue
            block = blocks.setdefault(key, [])
            for _ in range(min(draws, len(block))):
                other = block[rng.randrange(len(block))]
                self.rule_patterns[label][compare(profile, profiles[other])[0]] += 1
                self._rule_totals[label] += 1
            _keep(block, number, rng)
        if profile.address_id is not None and self._coresident_total < schedule.max_training_pairs:
            home = self._homes.setdefault(profile.address_id, [])
            for _ in range(min(draws, len(home))):
                other = home[rng.randrange(len(home))]
                self.coresident_patterns[compare(profile, profiles[other])[0]] += 1
                self._coresident_total += 1
            _keep(home, number, rng)

    # Estimating -------------------------------------------------------------------------------
    def due(self, records: int) -> bool:
        return records >= self.next_at

    def estimate(self, current: Parameters, records: int) -> tuple[Parameters, Estimate]:
        """A new parameter set from what was sampled, within the guard rails, and what was
        learnt or refused. Schedules the next estimate."""
        self.next_at = records + min(max(records, 1), self.schedule.every_at_most)
        refused: dict[str, str] = {}
        u = self._estimate_u(current)
        m = {name: dict(levels) for name, levels in current.m.items()}
        learnt: dict[str, list[tuple[dict[str, float], float]]] = {}
        shares: dict[str, float] = {}
        for label, _key, selected in RULES:
            patterns = self.rule_patterns[label]
            pairs = sum(patterns.values())
            if pairs < self.schedule.min_training_pairs:
                refused[label] = f"{pairs} pairs, fewer than {self.schedule.min_training_pairs}"
                continue
            rule_m, share = expectation_maximisation(patterns, current, u, selected)
            shares[label] = round(share, 6)
            if not 0.001 < share < 0.999:
                refused[label] = f"match share {share:.4f}: a degenerate fit"
                continue
            matched = share * pairs
            for name in FIELDS:
                if name not in selected and name not in POLICY_FIELDS:
                    learnt.setdefault(name, []).append((rule_m[name], matched))
        accepted: list[str] = []
        for name, fits in learnt.items():
            candidate, matched = _combine(fits)
            shrunk = _shrink(candidate, current.m[name], matched, self.schedule.shrinkage)
            problem = _implausible(name, shrunk, u[name])
            if problem:
                refused[name] = problem
                continue
            m[name] = shrunk
            accepted.append(name)
        for name in FIELDS:  # a refused or unlearnt field keeps weights that still make sense
            if name not in accepted and _implausible(name, m[name], u[name]):
                u[name] = dict(current.u[name])
        prior = current.prior_weight
        dob_share = shares.get(RULES[0][0])
        if dob_share is not None and RULES[0][0] not in refused:
            prior = self._prior(dob_share, m[DATE_OF_BIRTH]["exact"]) or prior
        household = household_weight(
            self.coresident_patterns, self.same_address_pairs, self.records, u
        )
        parameters = replace(current, m=m, u=u, prior_weight=prior, household_weight=household)
        estimate = Estimate(
            version=parameters.version,
            records=records,
            random_pairs=self._random_total,
            training_pairs=dict(self._rule_totals),
            match_share=shares,
            learnt=tuple(sorted(accepted)),
            refused=refused,
            prior_weight=round(prior, 3),
            household_weight=household,
        )
        self.history.append(estimate)
        return parameters, estimate

    def _prior(self, dob_share: float, m_exact: float) -> float | None:
        """log2 odds that two records drawn at random are one person: matching pairs
        among those born the same day (EM's share), scaled up by the share of matching
        pairs that agree exactly on the date (m), and by how many records have one, over
        all pairs of records."""
        dated = sum(self.birth_dates.values())
        if self.records < 2 or not dated or m_exact <= 0:
            return None
        with_date = dated / self.records
        matches = dob_share * self.same_birth_date_pairs / (m_exact * with_date**2)
        pairs = self.records * (self.records - 1) / 2
        chance = min(max(matches / pairs, 1e-12), 0.5)
        return bits(chance)

    def _estimate_u(self, current: Parameters) -> dict[str, dict[str, float]]:
        """u from the random pairs; a level never seen among them gets less than one
        observation's share, not zero, and policy fields keep theirs."""
        total = self._random_total
        u: dict[str, dict[str, float]] = {}
        for index, name in enumerate(FIELDS):
            if name in POLICY_FIELDS or total == 0:
                u[name] = dict(current.u[name])
                continue
            counts = dict.fromkeys(LEVELS[name], 0)
            for pattern, count in self.random_patterns.items():
                counts[pattern[index]] += count
            counts.pop("missing")
            seen = sum(counts.values())
            if seen < 1_000:
                u[name] = dict(current.u[name])
                continue
            u[name] = {level: max(count, 0.5) / seen for level, count in counts.items()}
        return u


def _keep(block: list[int], number: int, rng: random.Random) -> None:
    """Add a record to a bounded sampling block, replacing one at random when it is full."""
    if len(block) >= RULE_BLOCK:
        block[rng.randrange(RULE_BLOCK)] = number
    else:
        block.append(number)


def _combine(fits: list[tuple[dict[str, float], float]]) -> tuple[dict[str, float], float]:
    """Average of one field's fits from several rules, weighted by their matching pairs."""
    total = sum(matched for _m, matched in fits) or 1.0
    levels = fits[0][0]
    combined = {level: sum(m[level] * matched for m, matched in fits) / total for level in levels}
    return combined, total


def _shrink(
    learnt: dict[str, float], previous: dict[str, float], matched: float, pseudo: float
) -> dict[str, float]:
    values = {
        level: max(M_FLOOR, (value * matched + previous[level] * pseudo) / (matched + pseudo))
        for level, value in learnt.items()
    }
    total = sum(values.values())
    return {level: value / total for level, value in values.items()}


def _implausible(name: str, m: dict[str, float], u: dict[str, float]) -> str | None:
    """Why a field's m cannot describe matches, or None when it can."""
    levels = [level for level in LEVELS[name] if level != "missing"]
    best, worst = levels[0], levels[-1]
    if m[best] <= u[best]:
        return f"{best} is no likelier among matches than among non-matches"
    if m[worst] >= u[worst]:
        return f"{worst} is no rarer among matches than among non-matches"
    if name in IDENTITY_FIELDS and (m[best] < 0.4 or m[worst] > 0.35):
        return (
            f"{best} {m[best]:.2f} and {worst} {m[worst]:.2f} among matches: "
            "relatives taken for one person"
        )
    return None
