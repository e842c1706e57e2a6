"""Incremental identity resolution: each arriving record joins the best identity above the
match threshold or starts a new one.

A record that links strongly to two identities merges them; the merge is an explicit,
explained event (surviving id, retired id, evidence), and the older identity survives so ids
stay stable. An operator can split a wrong merge, which also records that the two are not
the same person; later records respect that. Identity ids are derived from the event that
founded them, so the same input in the same order gives the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from mast_core.errors import MastError
from mast_core.events import InteractionEvent
from mast_core.linkage.addresses import AddressResolver
from mast_core.linkage.blocking import BlockIndex, filed_keys, lookup_keys
from mast_core.linkage.comparison import FIELDS, PARTNER_RECORD, compare
from mast_core.linkage.detach import Detach, detach_records
from mast_core.linkage.explanation import (
    AMBIGUOUS,
    EXACT_REPEAT,
    NEW_PERSON,
    NEW_PERSON_FOR_REVIEW,
    NO_NAME,
)
from mast_core.linkage.learning import Estimate, Learner, LearningSchedule
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile, build_profile
from mast_core.linkage.retraction import Retraction, RetractionState, retract_record
from mast_core.linkage.scoring import Contribution, Levels, Score, Scorer
from mast_core.state_files import read_state, write_state

STATE_FORMAT = 4
"""2: identity and merge ids derive from the event's (agency, event id) key. 3: records
that started an identity keep their nearest candidates' levels (``Resolver.near``). 4: each
event's record and each merge's bridging record are kept, so a partner can retract an event
(``Resolver.retract``)."""
READABLE_FORMATS = (3, STATE_FORMAT)
"""Formats ``load`` reads: a format-3 state is upgraded (``upgrade_state``), so a deployed
resolver resumes from its checkpoint rather than replaying a log it may no longer hold."""
FREEZE_EVERY = 50_000
"""A long run should call ``gc.freeze()`` this often: the resolver's state is millions of
long-lived objects without cycles, and Python's full collections would otherwise walk all
of them again and again, making the cost per record grow with the state."""
_PARTNER_INDEX = FIELDS.index(PARTNER_RECORD)
REDO_MARGIN = 8.0
"""A record that starts a new identity with a candidate within this many bits of the match
threshold is kept for judging again: new parameters or new records may settle it."""
SETTLE_ROUNDS = 3
"""The end of a file judges the redo queue again while merges come of it, at most this often:
a merge can bring another record over the line."""
NEAR_FLOOR = 20.0
"""A record that joined an identity keeps the levels of candidates of other identities only
when they weigh at least this many bits under the review threshold: a re-estimate moves a
weight by a few bits, rarely by twenty."""
NEAR_CANDIDATES = 2
"""Candidates whose agreement levels a record that started an identity keeps, however far
below the threshold: levels do not depend on the parameters, so after a re-estimate their
weights are recomputed from them without comparing anything, and a record the new
parameters bring near the threshold goes back on the redo queue."""
FORGET_BELOW = 12.0
"""Kept levels of a pair weighing more than this many bits under the match threshold with the
parameters now in force are forgotten at a re-estimate, as are the records' places on
``near``: such a pair would have to climb twelve bits to link, while after the first
estimate a re-estimate moves any one level's weight by two bits at most (0.2 to 2.1 on the
generator between 10k and 280k records). Weighing them at every re-estimate made its cost
grow with every record ever kept apart. (FEBRL 1-4 and the generator link the same with 12
as with 20.)"""
COHERE_RECORDS = 8
"""Records of each identity compared when judging whether identities a record fits about
equally are one person (``Resolver._cohere``): rare, so a small bound is plenty."""
_PAIRS: dict[tuple[Levels, bool], tuple[Levels, bool]] = {}
"""One copy of each distinct (levels, names swapped) pair: there are few, and the levels
kept for judging the redo queue again (``Resolver._rejudge``) hold many."""


class ResolverError(MastError):
    reason = "resolver"


@dataclass(frozen=True, slots=True)
class Merge:
    merge_id: str
    surviving_person_id: str
    retired_person_id: str
    triggered_by_event_id: str
    match_weight: float
    evidence: tuple[Contribution, ...]
    moved_profiles: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Split:
    merge_id: str
    kept_person_id: str
    restored_person_id: str
    restored_profiles: int


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    person_id: str
    match_weight: float
    reason: str
    contributions: tuple[Contribution, ...] = ()
    """Each field's part in ``match_weight``: the evidence a steward weighs."""


@dataclass(frozen=True, slots=True)
class Resolution:
    event_id: str
    person_id: str
    address_id: str | None
    match_weight: float | None
    """Weight of the link to an existing identity; None for a new one or an exact repeat."""
    reason: str
    contributions: tuple[Contribution, ...] = ()
    merges: tuple[Merge, ...] = ()
    possible_matches: tuple[PossibleMatch, ...] = ()
    new_person: bool = False
    keys: tuple[str, ...] = ()
    """The blocking keys the record was indexed under: what a search by person looks up."""
    parameters_version: str = ""
    """The parameter set the decision was made with (``Parameters.version``)."""


@dataclass
class ResolverStats:
    records: int = 0
    new_persons: int = 0
    exact_repeats: int = 0
    links: int = 0
    merges: int = 0
    splits: int = 0
    possible_matches: int = 0
    comparisons: int = 0
    relearnt: int = 0
    redo_links: int = 0
    """Identities joined when a record kept apart was judged again (``redo``)."""


class _Candidate(NamedTuple):
    """A candidate record and its weight: several made for every record resolved, so a
    tuple (a frozen dataclass costs twice as much to make)."""

    weight: float
    profile: int
    levels: Levels
    swapped: bool


_by_weight = attrgetter("weight")
"""A candidate's weight, the key candidates are ranked by."""


@dataclass
class _Identity:
    person_id: str
    members: list[int]
    alive: bool = True
    cannot_link: set[int] = field(default_factory=set)
    nhs: set[str] = field(default_factory=set)
    """NHS numbers its records carry: a record with another one is not this person."""
    references: dict[str, set[str]] = field(default_factory=dict)
    """Partner system → the partner's own references for this person."""

    def remember(self, profile: Profile) -> None:
        if profile.nhs:
            self.nhs.add(profile.nhs)
        if profile.source_system and profile.source_ref:
            self.references.setdefault(profile.source_system, set()).add(profile.source_ref)

    def absorb(self, other: _Identity) -> None:
        self.nhs |= other.nhs
        for system, refs in other.references.items():
            self.references.setdefault(system, set()).update(refs)

    def partner_record_level(self, profile: Profile) -> str:
        refs = self.references.get(profile.source_system or "")
        if refs is None:
            return "missing"
        return "same_record" if profile.source_ref in refs else "other_record"


@cache
def _with_level(levels: Levels, partner_level: str) -> Levels:
    """``levels`` with the partner record's level replaced: one copy of each (there are few
    patterns, and this is asked for most candidates of a partner's record)."""
    return (*levels[:_PARTNER_INDEX], partner_level, *levels[_PARTNER_INDEX + 1 :])


def _identity_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


class Resolver:
    def __init__(
        self,
        parameters: Parameters | None = None,
        *,
        block_cap: int = 40,
        learning: LearningSchedule | None = LearningSchedule(),  # noqa: B008 - frozen
    ) -> None:
        """``learning`` None keeps ``parameters`` fixed; otherwise they are re-estimated
        from the records as they arrive (``mast_core.linkage.learning``)."""
        self.parameters = parameters or Parameters.default()
        self.scorer = Scorer(self.parameters)
        self.learner = Learner(learning) if learning is not None else None
        self.redo_queue: set[int] = set()
        """Records that started an identity near the threshold, to judge again (``redo``)."""
        self.near: dict[int, tuple[tuple[int, Levels, bool], ...]] = {}
        """Record → its best candidates of other identities (record, levels, names swapped),
        to re-weigh after a re-estimate: for every record that started an identity, and for
        a record that joined one, those within ``NEAR_FLOOR`` (``NEAR_CANDIDATES``)."""
        self._judged_pairs: dict[int, dict[int, tuple[Levels, bool]]] = {}
        """Queued record → the levels of its pairs that still weigh anything (``_judged``)."""
        self._redo_newcomers: dict[int, list[int]] = {}
        """Queued record → the records that found it since it was judged (``_newcomers``)."""
        self._patterns: dict[Levels, Levels] = {}
        """One copy of each distinct levels tuple (there are few): ``near`` holds many."""
        self.index = BlockIndex(block_cap)
        self.addresses = AddressResolver()
        self.profiles: list[Profile] = []
        self.profile_identity: list[int] = []
        self.identities: list[_Identity] = []
        self.identity_by_person: dict[str, int] = {}
        self.profile_by_key: dict[tuple[object, ...], int] = {}
        self.merges: dict[str, Merge] = {}
        self.stats = ResolverStats()
        self.retractions = RetractionState()
        """Which record each event gave, and which record bridged each merge: what a
        partner's retraction needs (``mast_core.linkage.retraction``)."""

    # Resolution -------------------------------------------------------------------------------
    def resolve(self, event: InteractionEvent) -> Resolution:
        known = len(self.profiles)
        resolution = self._resolve(event)
        if len(self.profiles) > known:  # an exact repeat is noted where it is recognised
            self.retractions.note_event(event.key, known)
        if self.learner is not None and self.learner.due(self.stats.records):
            self.relearn()
            merges = self.redo(event)
            if merges:
                resolution = replace(
                    resolution,
                    person_id=self.person_of(resolution.person_id),
                    merges=(*resolution.merges, *merges),
                )
        return resolution

    def settle(self, last: InteractionEvent) -> list[Merge]:
        """At the end of a file: re-estimate from everything sampled and judge the redo
        queue once more, as the stream does at each re-estimate. ``last`` is the file's last
        event, which the merges name as their trigger."""
        if self.learner is not None and self.stats.records:
            self.relearn()
        merges: list[Merge] = []
        for _ in range(SETTLE_ROUNDS):  # a merge can bring another record over the line
            round_merges = self.redo(last)
            merges.extend(round_merges)
            if not round_merges:
                break
        return merges

    def redo(self, event: InteractionEvent) -> list[Merge]:
        """Judge again, with the parameters now in force and the records now known, each
        record on the redo queue (the way Senzing's redo queue re-evaluates). One that now
        matches another identity joins it: an ordinary, explained merge, triggered by
        ``event``. When either side is a single record, that record joining needs the match
        threshold; two identities that have grown need the merge threshold, as any merge
        does. A record that fits two identities about equally merges all three only as
        resolution would: each at the merge threshold, with a full name and birth date."""
        params = self.parameters
        merges: list[Merge] = []
        judged = self._judged()
        for number in sorted(self.redo_queue):
            profile = self.profiles[number]
            own = self._current(self.profile_identity[number])
            best = self._rejudge(number, profile, own, judged)
            ranked = sorted(
                (
                    (identity, candidate)
                    for identity, candidate in best.items()
                    if not self._nhs_conflict(profile, identity)
                ),
                key=lambda item: -item[1].weight,
            )
            if not ranked or ranked[0][1].weight < params.match_threshold - REDO_MARGIN:
                self.redo_queue.discard(number)  # far from linking now: settled
                continue
            target, chosen = ranked[0]
            if chosen.weight < self._needed(own, target) or not self._may_merge(own, target):
                continue
            also = [
                (i, c) for i, c in ranked[1:] if chosen.weight - c.weight < params.ambiguity_margin
            ]
            # a record that fits several identities about equally joins them all only as
            # resolution would merge them (each at the merge threshold, with a full name and
            # birth date), or when they would each be joined on their own
            full_evidence = bool(profile.given and profile.family and profile.dob)
            merges_all = full_evidence and all(
                c.weight >= params.merge_threshold and self._may_merge(target, i) for i, c in also
            )
            if also and not merges_all and not self._cohere(own, target, also):
                continue  # two identities fit about as well: joining either would guess
            for identity, candidate in ((own, chosen), *also):
                # the record fits each of them as well as it fits the first: one person
                current, into = self._current(identity), self._current(target)
                if current != into and self._may_merge(current, into):
                    merges.append(
                        self._merge(current, into, event, self._explain(profile, candidate))
                    )
                    self.retractions.bridges[merges[-1].merge_id] = number
            self.redo_queue.discard(number)
            self.near.pop(number, None)
            self.stats.redo_links += 1
        return merges

    def _needed(self, a: int, b: int) -> float:
        """The weight that joins identities ``a`` and ``b``: one record joining an identity
        needs the match threshold; two identities that have grown, the merge threshold."""
        alone = min(len(self.identities[a].members), len(self.identities[b].members))
        params = self.parameters
        return params.match_threshold if alone == 1 else params.merge_threshold

    def _cohere(self, own: int, target: int, also: list[tuple[int, _Candidate]]) -> bool:
        """Whether a record that fits several identities about equally may join them all:
        every pair among them (the record's own identity included) would be joined on its
        own, with the parameters now in force. Records kept apart under earlier parameters
        (three records of one person, each with another birth date, at one address) are
        then one person, however the record fits each; two people who must stay apart
        (different, or under the threshold between themselves) keep the record apart."""
        group = [target, *(identity for identity, _ in also)]
        if any(c.weight < self._needed(own, i) for i, c in also):
            return False
        for position, first in enumerate(group):
            for second in group[position + 1 :]:
                if not self._may_merge(first, second):
                    return False
                if self._best_between(first, second) < self._needed(first, second):
                    return False
        return True

    def _best_between(self, a: int, b: int) -> float:
        """The best weight between the records of identities ``a`` and ``b`` (their most
        recent ``COHERE_RECORDS`` each)."""
        profiles = self.profiles
        weigh = self.scorer.weigh
        best = float("-inf")
        for x in self.identities[a].members[-COHERE_RECORDS:]:
            for y in self.identities[b].members[-COHERE_RECORDS:]:
                self.stats.comparisons += 1
                best = max(best, weigh(profiles[x], profiles[y])[0])
        return best

    def relearn(self) -> Estimate | None:
        """Re-estimate the parameters from what the learner sampled, and score with them
        from the next record on."""
        if self.learner is None:
            return None
        parameters, estimate = self.learner.estimate(self.parameters, self.stats.records)
        self.parameters = parameters
        self.scorer.use(parameters)
        self.stats.relearnt += 1
        self._requeue()
        return estimate

    def _requeue(self) -> None:
        """Put back on the redo queue every record whose kept candidates the parameters now
        in force weigh near the threshold: a record judged with the shipped parameters, far
        from its match then, may be close to it now."""
        floor = self.parameters.match_threshold - REDO_MARGIN
        far = self.parameters.match_threshold - FORGET_BELOW
        weight = self.scorer.weight_of
        profiles = self.profiles
        queue = self.redo_queue
        forget: list[int] = []
        for number, kept in self.near.items():
            if number in queue:
                continue  # on it already
            profile = profiles[number]
            top = max(
                weight(profile, profiles[other], levels, swapped) for other, levels, swapped in kept
            )
            if top >= floor:
                queue.add(number)
            elif top < far:
                forget.append(number)  # no re-estimate brings it back
        for number in forget:
            del self.near[number]

    def _resolve(self, event: InteractionEvent) -> Resolution:
        self.stats.records += 1
        address_id, postcode = self.addresses.resolve_event(event)
        profile = build_profile(event, address_id, postcode)

        existing = self.profile_by_key.get(profile.key())
        if existing is not None and not profile.is_empty:
            self.stats.exact_repeats += 1
            self.retractions.note_repeat(event.key, existing)
            holder = self.identities[self.profile_identity[existing]]
            holder.remember(profile)
            return Resolution(
                event.event_id,
                holder.person_id,
                address_id,
                None,
                EXACT_REPEAT,
                keys=tuple(filed_keys(profile)),
                parameters_version=self.parameters.version,
            )
        if profile.is_empty:
            return self._new_identity(event, profile, address_id, (), NO_NAME, [])

        keys = filed_keys(profile)
        best = self._score_candidates(profile, keys=keys)
        params = self.parameters
        ranked = sorted(
            (
                (identity, candidate)
                for identity, candidate in best.items()
                if candidate.weight >= params.review_threshold
                and not self._nhs_conflict(profile, identity)
            ),
            key=lambda item: -item[1].weight,
        )
        matches = [(i, c) for i, c in ranked if c.weight >= params.match_threshold]
        possible = [
            self._possible(profile, i, c) for i, c in ranked if c.weight < params.match_threshold
        ]
        if not matches:
            self.stats.possible_matches += bool(possible)
            reason = NEW_PERSON_FOR_REVIEW if possible else NEW_PERSON
            top = max((c.weight for c in best.values()), default=None)
            near = top is not None and top >= params.match_threshold - REDO_MARGIN
            resolution = self._new_identity(
                event, profile, address_id, tuple(possible), reason, keys, redo=near
            )
            self._keep_near(len(self.profiles) - 1, best)
            return resolution

        target, chosen = matches[0]
        full_evidence = bool(profile.given and profile.family and profile.dob)
        to_merge: list[tuple[int, _Candidate]] = []
        for identity, candidate in matches[1:]:
            if (
                full_evidence
                and min(chosen.weight, candidate.weight) >= params.merge_threshold
                and self._may_merge(target, identity)
            ):
                to_merge.append((identity, candidate))
                continue
            if chosen.weight - candidate.weight < params.ambiguity_margin:
                # Two identities that must stay apart both fit: linking to either would guess.
                self.stats.possible_matches += 1
                return self._new_identity(
                    event,
                    profile,
                    address_id,
                    tuple(self._possible(profile, i, c) for i, c in matches),
                    AMBIGUOUS,
                    keys,
                    redo=True,
                )
            possible.append(self._possible(profile, identity, candidate))
        merges = []
        for identity, candidate in to_merge:
            other = self._current(identity)
            # an earlier merge of this record may have joined it already, or brought in a
            # "not the same person" that now forbids it
            if other == target:
                continue
            if not self._may_merge(target, other):
                possible.append(self._possible(profile, other, candidate))
                continue
            evidence = self._explain(profile, candidate)
            merges.append(self._merge(target, other, event, evidence))
            self.retractions.bridges[merges[-1].merge_id] = len(self.profiles)  # this record
            target = self._current(target)
        self.stats.possible_matches += bool(possible)
        self.stats.links += 1
        score = self._explain(profile, chosen)
        self._add_profile(profile, target, keys)
        others = {
            identity: candidate
            for identity, candidate in best.items()
            if self._current(identity) != target
            and candidate.weight >= params.review_threshold - NEAR_FLOOR
        }
        self._keep_near(len(self.profiles) - 1, others)
        return Resolution(
            event.event_id,
            self.identities[target].person_id,
            address_id,
            score.weight,
            score.reason(),
            score.contributions,
            tuple(merges),
            tuple(possible),
            keys=tuple(keys),
            parameters_version=self.parameters.version,
        )

    def _explain(self, profile: Profile, candidate: _Candidate) -> Score:
        other = self.profiles[candidate.profile]
        return self.scorer.explain(profile, other, candidate.levels, candidate.swapped)

    def _keep_near(self, number: int, best: dict[int, _Candidate]) -> None:
        if not best:
            return
        patterns = self._patterns
        nearest = sorted(best.values(), key=_by_weight, reverse=True)  # stable, as ever
        self.near[number] = tuple(
            (c.profile, patterns.setdefault(c.levels, c.levels), c.swapped)
            for c in nearest[:NEAR_CANDIDATES]
        )

    def _possible(self, profile: Profile, identity: int, candidate: _Candidate) -> PossibleMatch:
        score = self._explain(profile, candidate)
        return PossibleMatch(
            self.identities[identity].person_id, score.weight, score.reason(), score.contributions
        )

    def _score_candidates(self, profile: Profile, keys: list[str]) -> dict[int, _Candidate]:
        """Best-scoring candidate record per identity for a new record filed under ``keys``.

        Once an identity has a record far above the merge threshold, its other records are
        not scored: they could only confirm what is already decided.
        """
        narrow_keys, wide_keys = lookup_keys(profile, keys)
        narrow = self.index.gather(narrow_keys)
        self._note_newcomer(narrow)
        best: dict[int, _Candidate] = {}
        compared = self._score_into(best, profile, narrow)
        clear = self.parameters.match_threshold + self.parameters.ambiguity_margin
        if wide_keys and not any(c.weight >= clear for c in best.values()):
            # the wide blocks are gathered only when the narrow ones found no clear match
            wide = self.index.gather(wide_keys) - narrow
            self._note_newcomer(wide)
            compared += self._score_into(best, profile, wide)
        self.stats.comparisons += compared
        return self._with_partner_levels(profile, best)

    def _with_partner_levels(
        self, profile: Profile, best: dict[int, _Candidate]
    ) -> dict[int, _Candidate]:
        """The partner's references are judged against the whole identity, not one record:
        each candidate's partner-record level and weight, made the identity's."""
        if not profile.source_system:
            return best
        table = self.parameters.weights[PARTNER_RECORD]
        identities = self.identities
        for identity, candidate in best.items():
            level = identities[identity].partner_record_level(profile)
            old = candidate.levels[_PARTNER_INDEX]
            if level != old:
                levels = _with_level(candidate.levels, level)
                weight = candidate.weight - table[old] + table[level]
                best[identity] = _Candidate(weight, candidate.profile, levels, candidate.swapped)
        return best

    def _judged(self) -> dict[int, dict[int, tuple[Levels, bool]]]:
        """Queued record → the levels of the pairs it was compared in when last judged
        that still weigh anything. A record stays on the queue through many re-estimates:
        judging it again weighs these with the new parameters and compares only the
        records that found it since (``_newcomers``). Entries of records no longer queued
        are dropped."""
        for table in (self._judged_pairs, self._redo_newcomers):
            for number in [n for n in table if n not in self.redo_queue]:
                del table[number]
        return self._judged_pairs

    def _newcomers(self) -> dict[int, list[int]]:
        """Queued record → the records resolved since it was last judged that had it among
        their candidates: what judging it again must compare it with. Noted as each record
        is resolved (a set intersection with the queue), so judging the queue again needs
        neither the queued records' keys nor their blocks."""
        return self._redo_newcomers

    def _note_newcomer(self, candidates: set[int]) -> None:
        """The record about to be filed (the next number) had ``candidates``: the queued
        ones among them have a newcomer."""
        queued = candidates & self.redo_queue
        if queued:
            newcomers = self._newcomers()
            number = len(self.profiles)
            for record in queued:
                newcomers.setdefault(record, []).append(number)

    def forget_pairs_with(self, number: int) -> None:
        """Record ``number`` was retracted: no queued record weighs a pair with it again."""
        for pairs in self._judged().values():
            pairs.pop(number, None)
        for records in self._newcomers().values():
            if number in records:
                records.remove(number)

    def _rejudge(
        self,
        number: int,
        profile: Profile,
        own: int,
        judged: dict[int, dict[int, tuple[Levels, bool]]],
    ) -> dict[int, _Candidate]:
        """Best-scoring candidate record per identity for queued record ``number``, leaving
        out its own identity ``own``. Judged for the first time since it was queued, it is
        compared with everything in its blocks (narrow and wide); after that, the pairs kept
        from its last judgement are weighed with the parameters now in force and only the
        records that found it since are compared. A pair that weighs more than
        ``FORGET_BELOW`` under the match threshold is forgotten: the cost of judging the
        queue again stays with the pairs that could still matter."""
        pairs = judged.get(number)
        if pairs is None:
            pairs = {}
            narrow_keys, wide_keys = lookup_keys(profile)
            arrivals: Iterable[int] = self.index.gather((*narrow_keys, *wide_keys))
            self._newcomers().pop(number, None)
        else:
            arrivals = self._newcomers().pop(number, ())
        profiles = self.profiles
        owner = self.profile_identity
        compared = 0
        for other in arrivals:
            if other not in pairs and other != number:
                compared += 1
                pair = compare(profile, profiles[other])
                pairs[other] = _PAIRS.setdefault(pair, pair)  # one copy of each
        self.stats.comparisons += compared
        weight_of = self.scorer.weight_of
        far = self.parameters.match_threshold - FORGET_BELOW
        best: dict[int, _Candidate] = {}
        for other, (levels, swapped) in list(pairs.items()):
            identity = self._current(owner[other])
            weight = weight_of(profile, profiles[other], levels, swapped)
            if identity == own or weight < far:
                del pairs[other]  # joined since, or too far to matter
                continue
            held = best.get(identity)
            if held is None or weight > held.weight:
                best[identity] = _Candidate(weight, other, levels, swapped)
        judged[number] = pairs
        return self._with_partner_levels(profile, best)

    def _score_into(
        self, best: dict[int, _Candidate], profile: Profile, candidates: set[int]
    ) -> int:
        """Score ``candidates`` (profile numbers) against ``profile``, keeping the best per
        identity in ``best``; returns the comparisons made."""
        weigh = self.scorer.weigh
        profiles = self.profiles
        owner = self.profile_identity
        settled = self.parameters.merge_threshold + self.parameters.ambiguity_margin
        compared = 0
        for number in sorted(candidates, reverse=True):  # most recent first
            identity = owner[number]
            held = best.get(identity)
            if held is not None and held.weight >= settled:
                continue
            compared += 1
            weight, levels, swapped = weigh(profile, profiles[number])
            if held is None or weight > held.weight:
                best[identity] = _Candidate(weight, number, levels, swapped)
        return compared

    def _current(self, identity_index: int) -> int:
        """Follow merges to the identity that holds these records now."""
        while not self.identities[identity_index].alive:
            identity_index = self.identity_by_person[self.identities[identity_index].person_id]
        return identity_index

    def _may_merge(self, a: int, b: int) -> bool:
        first, second = self.identities[a], self.identities[b]
        if b in first.cannot_link or a in second.cannot_link:
            return False
        return not (first.nhs and second.nhs and first.nhs.isdisjoint(second.nhs))

    def _nhs_conflict(self, profile: Profile, identity: int) -> bool:
        """The record's NHS number differs from every one the identity's records carry."""
        held = self.identities[identity].nhs
        return bool(profile.nhs and held and profile.nhs not in held)

    def _new_identity(
        self,
        event: InteractionEvent,
        profile: Profile,
        address_id: str | None,
        possible: tuple[PossibleMatch, ...],
        reason: str,
        keys: list[str],
        *,
        redo: bool = False,
    ) -> Resolution:
        person_id = _identity_id("P", event.key)
        while person_id in self.identity_by_person:  # the same event id sent with new details
            person_id = _identity_id("P", person_id)
        index = len(self.identities)
        self.identities.append(_Identity(person_id, []))
        self.identity_by_person[person_id] = index
        self.stats.new_persons += 1
        self._add_profile(profile, index, keys)
        if redo:
            self.redo_queue.add(len(self.profiles) - 1)
        return Resolution(
            event.event_id,
            person_id,
            address_id,
            None,
            reason,
            possible_matches=possible,
            new_person=True,
            keys=tuple(keys),
            parameters_version=self.parameters.version,
        )

    def _add_profile(self, profile: Profile, identity_index: int, keys: list[str]) -> None:
        """Store a new distinct record and index it under ``keys`` (its blocking keys and
        its name-only key, computed once by the caller)."""
        number = len(self.profiles)
        self.profiles.append(profile)
        self.profile_identity.append(identity_index)
        identity = self.identities[identity_index]
        identity.members.append(number)
        identity.remember(profile)
        self.profile_by_key.setdefault(profile.key(), number)
        self.scorer.observe(profile)
        if self.learner is not None:
            self.learner.sample(number, self.profiles, self.profile_identity)
        for key in keys:
            self.index.add(key, number, self.profile_identity)

    # Merge and split --------------------------------------------------------------------------
    def _merge(self, a: int, b: int, event: InteractionEvent, score: Score) -> Merge:
        survivor, retired = (a, b) if a < b else (b, a)  # the older identity keeps its id
        kept, gone = self.identities[survivor], self.identities[retired]
        moved = tuple(gone.members)
        for number in moved:
            self.profile_identity[number] = survivor
        kept.members.extend(moved)
        kept.absorb(gone)
        gone.members = []
        gone.nhs, gone.references = set(), {}
        gone.alive = False
        self.identity_by_person[gone.person_id] = survivor
        for other in gone.cannot_link:
            self.identities[other].cannot_link.discard(retired)
            self.identities[other].cannot_link.add(survivor)
            kept.cannot_link.add(other)
        gone.cannot_link = set()
        merge = Merge(
            merge_id=_identity_id("M", f"{kept.person_id}|{gone.person_id}|{event.key}"),
            surviving_person_id=kept.person_id,
            retired_person_id=gone.person_id,
            triggered_by_event_id=event.event_id,
            match_weight=score.weight,
            evidence=score.contributions,
            moved_profiles=moved,
        )
        self.merges[merge.merge_id] = merge
        self.stats.merges += 1
        return merge

    def split(self, merge_id: str) -> Split:
        """Undo a merge: the retired identity gets back the records it brought, and the two
        are recorded as not the same person, so no later record merges them again."""
        merge = self.merges.get(merge_id)
        if merge is None:
            raise ResolverError(f"no merge {merge_id}")
        retired = next(
            i
            for i, identity in enumerate(self.identities)
            if identity.person_id == merge.retired_person_id
        )
        if self.identities[retired].alive:
            raise ResolverError(f"merge {merge_id} was already split")
        survivor = self._current(self.identity_by_person[merge.surviving_person_id])
        kept = self.identities[survivor]
        # only what the survivor still holds: a later merge's split may have taken some back
        moved = set(merge.moved_profiles) & set(kept.members)
        kept.members = [number for number in kept.members if number not in moved]
        restored = self.identities[retired]
        restored.members = sorted(moved)
        restored.alive = True
        for number in moved:
            self.profile_identity[number] = retired
        for identity in (kept, restored):
            identity.nhs, identity.references = set(), {}
            for member in identity.members:
                identity.remember(self.profiles[member])
        self.identity_by_person[restored.person_id] = retired
        kept.cannot_link.add(retired)
        restored.cannot_link.add(survivor)
        del self.merges[merge_id]
        self.stats.splits += 1
        return Split(merge_id, kept.person_id, restored.person_id, len(moved))

    def mark_different(self, person_a: str, person_b: str) -> None:
        """Record that two identities are not the same person (no merge needed first)."""
        if person_a not in self.identity_by_person or person_b not in self.identity_by_person:
            raise ResolverError("unknown person id")
        a = self._current(self.identity_by_person[person_a])
        b = self._current(self.identity_by_person[person_b])
        if a == b:
            raise ResolverError("these ids are one identity now; split its merge instead")
        self.identities[a].cannot_link.add(b)
        self.identities[b].cannot_link.add(a)

    def confirm_match(self, person_a: str, person_b: str, correction_id: str) -> Merge:
        """A steward confirmed that two identities are one person: an ordinary, explained
        merge (``mast_core.linkage.confirmation``)."""
        from mast_core.linkage.confirmation import confirm_match

        return confirm_match(self, person_a, person_b, correction_id)

    def detach(self, person_id: str, event_keys: Sequence[str], correction_id: str) -> Detach:
        """A steward detached these events' records from ``person_id``: records linked to
        the person directly, which no split can take back. ``mast_core.linkage.detach``
        says how."""
        return detach_records(self, person_id, event_keys, correction_id)

    def retract(self, event_key: str) -> Retraction:
        """Take the record of the event with this key (``InteractionEvent.key``) out of the
        state: its partner withdrew the event. ``mast_core.linkage.retraction`` says how."""
        return retract_record(self, event_key)

    def person_of(self, person_id: str) -> str:
        """The current id for a person id, following merges."""
        index = self.identity_by_person.get(person_id)
        if index is None:
            raise ResolverError("unknown person id")
        return self.identities[self._current(index)].person_id

    @property
    def capped_blocks(self) -> int:
        return len(self.index.capped)

    # Persistence ------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the whole state atomically: a crash mid-write leaves the previous file."""
        write_state(path, STATE_FORMAT, self.__dict__)

    @classmethod
    def load(cls, path: Path) -> Resolver:
        """State written by ``save`` (a local, trusted file: it is a pickle)."""
        version, state = read_state(path)
        if version not in READABLE_FORMATS:
            raise ResolverError(f"resolver state format {version} is not one of {READABLE_FORMATS}")
        resolver = cls.__new__(cls)
        resolver.__dict__.update(state)
        upgrade_state(resolver, version)
        return resolver


def upgrade_state(resolver: Resolver, version: int) -> None:
    """Bring a resolver restored from a state of format ``version`` (one of
    ``READABLE_FORMATS``) to this one. Format 3 kept nothing for retractions: its state gets
    an empty one, marked ``upgraded``, so that a retraction naming an event resolved before
    the upgrade is refused with that reason (``mast_core.linkage.retraction``), while every
    event resolved from then on can be retracted. Its scorer lacks the weight caches kept
    since: setting its own parameters again builds them (empty), keeping the name counts.
    Parameters learnt before an agreement level existed get the shipped m and u for it
    (``Parameters.completed``) until the next re-estimate learns it. A checkpoint written
    before queued records kept their judged pairs and newcomers gets them empty: each queued
    record is then compared with its whole blocks once, at the next re-estimate."""
    if version == 3 and "retractions" not in resolver.__dict__:
        resolver.retractions = RetractionState(upgraded=True)
    resolver.__dict__.pop("_redo_known", None)  # their predecessor, keyed otherwise
    resolver.__dict__.setdefault("_judged_pairs", {})
    resolver.__dict__.setdefault("_redo_newcomers", {})
    completed = resolver.parameters.completed()  # levels added since the state was written
    if version == 3 or completed is not resolver.parameters:
        resolver.parameters = completed
        resolver.scorer.use(completed)
