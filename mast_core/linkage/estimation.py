"""Estimating Fellegi–Sunter parameters from unlabelled records, in the manner Splink does:
u from random pairs (almost all of which are different people), then m by expectation–
maximisation over candidate pairs from blocking, with u held fixed.

The prior weight and the thresholds are policy, not estimates: they stay as the base
parameters set them (precision first), and the saved file says which data the m and u came
from.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from mast_core.events import InteractionEvent
from mast_core.linkage.addresses import AddressResolver
from mast_core.linkage.comparison import (
    DATE_OF_BIRTH,
    FAMILY_NAME,
    FIELDS,
    GIVEN_NAME,
    LEVELS,
    RESIDENCE,
    compare,
)
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile, build_profile
from mast_core.linkage.scoring import SAME_FAMILY

_FLOOR = 1e-6
M_FLOOR = 0.002
"""No agreement level is taken as impossible for a match: a level that training data never
showed for matches (a synthetic generator, a partner that never errs) would otherwise get
a weight that real data will prove wrong."""
Pattern = tuple[str, ...]


def profiles_from_events(events: Iterable[InteractionEvent]) -> list[Profile]:
    addresses = AddressResolver()
    return [build_profile(event, *addresses.resolve_event(event)) for event in events]


def random_pair_patterns(
    profiles: list[Profile], pairs: int, rng: random.Random
) -> Counter[Pattern]:
    patterns: Counter[Pattern] = Counter()
    count = len(profiles)
    for _ in range(pairs):
        a, b = rng.randrange(count), rng.randrange(count)
        if a != b:
            patterns[compare(profiles[a], profiles[b])[0]] += 1
    return patterns


def _by_birth_date(profile: Profile) -> str | None:
    return profile.dob.digits if profile.dob else None


def _by_full_name(profile: Profile) -> str | None:
    return f"{profile.given}|{profile.family}" if profile.given and profile.family else None


TRAINING_RULES: tuple[tuple[str, Callable[[Profile], str | None], frozenset[str]], ...] = (
    ("same date of birth", _by_birth_date, frozenset({DATE_OF_BIRTH})),
    ("same full name", _by_full_name, frozenset({GIVEN_NAME, FAMILY_NAME})),
)
"""EM runs once per rule over pairs that share its key, and does not estimate the fields the
rule selects on (they agree by construction). Blocking on one field and learning the others
keeps household members, who agree on family name and address together, from being taken
for matches the way a single run over all candidate pairs would take them."""


def blocked_pair_patterns(
    profiles: list[Profile],
    key: Callable[[Profile], str | None],
    pairs: int,
    rng: random.Random,
    block_cap: int = 40,
) -> Counter[Pattern]:
    blocks: dict[str, list[int]] = {}
    for number, profile in enumerate(profiles):
        value = key(profile)
        if value is None:
            continue
        block = blocks.setdefault(value, [])
        if len(block) < block_cap:
            block.append(number)
    candidate_pairs = [
        (block[i], block[j])
        for block in blocks.values()
        for i in range(len(block))
        for j in range(i + 1, len(block))
    ]
    if len(candidate_pairs) > pairs:
        candidate_pairs = rng.sample(candidate_pairs, pairs)
    return Counter(compare(profiles[a], profiles[b])[0] for a, b in candidate_pairs)


def estimate_u(patterns: Counter[Pattern]) -> dict[str, dict[str, float]]:
    return _level_shares(patterns, {pattern: 1.0 for pattern in patterns})


def _level_shares(
    patterns: Counter[Pattern], weights: dict[Pattern, float]
) -> dict[str, dict[str, float]]:
    """Share of each level among non-missing comparisons, weighted per pattern."""
    shares: dict[str, dict[str, float]] = {}
    for index, name in enumerate(FIELDS):
        totals = dict.fromkeys(LEVELS[name], 0.0)
        for pattern, count in patterns.items():
            totals[pattern[index]] += count * weights[pattern]
        totals.pop("missing")
        seen = sum(totals.values())
        shares[name] = {
            level: max(value / seen, _FLOOR) if seen else _FLOOR for level, value in totals.items()
        }
    return shares


def expectation_maximisation(
    patterns: Counter[Pattern],
    base: Parameters,
    u: dict[str, dict[str, float]],
    fixed: frozenset[str] = frozenset(),
    *,
    iterations: int = 50,
    tolerance: float = 1e-5,
) -> tuple[dict[str, dict[str, float]], float]:
    """m probabilities and the share of candidate pairs that match, with u held fixed; the
    ``fixed`` fields keep their m and take no part in the likelihood."""
    m = {name: dict(levels) for name, levels in base.m.items()}
    share = 0.1
    for _ in range(iterations):
        posterior: dict[Pattern, float] = {}
        for pattern in patterns:
            p_match, p_non = share, 1.0 - share
            for index, name in enumerate(FIELDS):
                level = pattern[index]
                if level == "missing" or name in fixed:
                    continue
                p_match *= m[name][level]
                p_non *= u[name][level]
            posterior[pattern] = p_match / (p_match + p_non) if p_match + p_non else 0.0
        total = sum(patterns.values())
        new_share = sum(posterior[p] * n for p, n in patterns.items()) / total
        new_m = _level_shares(patterns, posterior)
        for name in fixed:
            new_m[name] = m[name]
        change = max(
            abs(new_m[name][level] - m[name][level]) for name in FIELDS for level in new_m[name]
        )
        m, share = new_m, new_share
        if change < tolerance:
            break
    return m, share


MIN_HOUSEHOLD_PAIRS = 20
HOUSEHOLD_RATE = 0.01
"""Pairs of one family at one address, per record, below which the data has no households
to speak of (``household_weight``)."""


def household_weight(
    coresident: Counter[Pattern],
    same_address_pairs: int,
    records: int,
    u: dict[str, dict[str, float]],
) -> float:
    """How much likelier two different people are to share both a home and a family name
    than the two agreements' own rates would make them, in bits (``Parameters.
    household_weight``).

    Of ``coresident``, a sample of pairs of records at one address, the pairs that are
    clearly two people (given names and dates of birth both disagree) and share a family
    name are scaled to all ``same_address_pairs`` and then to all pairs of records, and set
    against what independence predicts (u of family-name agreement, of "same address" and
    of both disagreements, from random pairs). Data where few such pairs exist has no
    households to speak of (one person per address, as in some benchmark files): 0, so a
    few heavily corrupted duplicates cannot pass for a household."""
    sampled = sum(coresident.values())
    if sampled == 0 or records < 2:
        return 0.0
    given, family, birth = (FIELDS.index(name) for name in (GIVEN_NAME, FAMILY_NAME, DATE_OF_BIRTH))
    together = sum(
        count
        for pattern, count in coresident.items()
        if pattern[given] == "disagree"
        and pattern[birth] == "disagree"
        and pattern[family] in SAME_FAMILY
    )
    households = together / sampled * same_address_pairs
    if together < MIN_HOUSEHOLD_PAIRS or households < records * HOUSEHOLD_RATE:
        return 0.0
    pairs = records * (records - 1) / 2
    independent = (
        sum(u[FAMILY_NAME][level] for level in SAME_FAMILY)
        * u[RESIDENCE]["same_address"]
        * u[GIVEN_NAME]["disagree"]
        * u[DATE_OF_BIRTH]["disagree"]
    )
    ratio = households / pairs / max(independent, 1e-300)
    return round(math.log2(ratio), 3) if ratio > 1 else 0.0


def _by_address(profile: Profile) -> str | None:
    return profile.address_id


def estimate(
    events: Iterable[InteractionEvent],
    base: Parameters | None = None,
    *,
    random_pairs: int = 500_000,
    blocked_pairs: int = 500_000,
    seed: int = 1,
    say: Callable[[str], None] = lambda _line: None,
) -> Parameters:
    base = base or Parameters.default()
    rng = random.Random(seed)
    profiles = profiles_from_events(events)
    say(f"{len(profiles)} records normalised")
    u = estimate_u(random_pair_patterns(profiles, random_pairs, rng))
    say(f"u estimated from {random_pairs} random pairs")
    m = {name: dict(levels) for name, levels in base.m.items()}
    learnt: dict[str, list[dict[str, float]]] = {}
    shares = {}
    for label, key, selected in TRAINING_RULES:
        blocked = blocked_pair_patterns(profiles, key, blocked_pairs, rng)
        rule_m, share = expectation_maximisation(blocked, base, u, selected)
        shares[label] = round(share, 6)
        say(f"EM on {sum(blocked.values())} pairs with {label}: {share:.1%} match")
        for name in FIELDS:
            if name not in selected:
                learnt.setdefault(name, []).append(rule_m[name])
    addresses = Counter(p.address_id for p in profiles if p.address_id is not None)
    household = household_weight(
        blocked_pair_patterns(profiles, _by_address, blocked_pairs, rng),
        sum(n * (n - 1) // 2 for n in addresses.values()),
        len(profiles),
        u,
    )
    say(f"household weight {household:.2f} bits")
    for name, estimates in learnt.items():
        m[name] = {
            level: max(M_FLOOR, sum(e[level] for e in estimates) / len(estimates))
            for level in estimates[0]
        }
    return replace(
        base,
        m=m,
        u=u,
        household_weight=household,
        notes={
            "source": "estimated by mast estimate",
            "records": len(profiles),
            "random_pairs": random_pairs,
            "blocked_pairs_per_rule": blocked_pairs,
            "match_share_per_rule": shares,
        },
    )
