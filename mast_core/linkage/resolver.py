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
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from mast_core.errors import MastError
from mast_core.events import InteractionEvent
from mast_core.linkage.addresses import AddressResolver
from mast_core.linkage.blocking import BlockIndex, blocking_keys, name_only_key
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile, build_profile
from mast_core.linkage.scoring import Contribution, Score, Scorer
from mast_core.normalise.addresses import normalise_address
from mast_core.normalise.identifiers import normalise_uprn

STATE_FORMAT = 1


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


@dataclass
class _Identity:
    person_id: str
    members: list[int]
    alive: bool = True
    cannot_link: set[int] = field(default_factory=set)
    nhs: set[str] = field(default_factory=set)
    """NHS numbers its records carry: a record with another one is not this person."""


def _identity_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()


class Resolver:
    def __init__(self, parameters: Parameters | None = None, *, block_cap: int = 40) -> None:
        self.parameters = parameters or Parameters.default()
        self.scorer = Scorer(self.parameters)
        self.index = BlockIndex(block_cap)
        self.addresses = AddressResolver()
        self.profiles: list[Profile] = []
        self.profile_identity: list[int] = []
        self.identities: list[_Identity] = []
        self.identity_by_person: dict[str, int] = {}
        self.profile_by_key: dict[tuple[object, ...], int] = {}
        self.merges: dict[str, Merge] = {}
        self.stats = ResolverStats()

    # Resolution -------------------------------------------------------------------------------
    def resolve(self, event: InteractionEvent) -> Resolution:
        self.stats.records += 1
        address = event.subject.address
        normalised = (
            normalise_address(address.line1, address.line2, address.town, address.postcode)
            if address
            else None
        )
        address_id = self.addresses.resolve(
            normalised, normalise_uprn(address.uprn) if address else None
        )
        profile = build_profile(event, address_id, normalised.postcode if normalised else None)

        existing = self.profile_by_key.get(profile.key())
        if existing is not None and not profile.is_empty:
            self.stats.exact_repeats += 1
            identity = self.identities[self.profile_identity[existing]]
            return Resolution(
                event.event_id, identity.person_id, address_id, None, "same details as before"
            )
        if profile.is_empty:
            return self._new_identity(event, profile, address_id, (), "no name to link on")

        best = self._score_candidates(profile)
        params = self.parameters
        ranked = [
            (identity, score)
            for identity, (score, _) in sorted(best.items(), key=lambda item: -item[1][0].weight)
            if score.weight >= params.review_threshold and not self._nhs_conflict(profile, identity)
        ]
        matches = [(i, s) for i, s in ranked if s.weight >= params.match_threshold]
        possible = [
            PossibleMatch(self.identities[i].person_id, s.weight, s.reason())
            for i, s in ranked
            if s.weight < params.match_threshold
        ]
        if not matches:
            self.stats.possible_matches += bool(possible)
            reason = "new person; possible match kept for review" if possible else "new person"
            return self._new_identity(event, profile, address_id, tuple(possible), reason)

        target, target_score = matches[0]
        full_evidence = bool(profile.given and profile.family and profile.dob)
        to_merge: list[tuple[int, Score]] = []
        for identity, score in matches[1:]:
            if (
                full_evidence
                and min(target_score.weight, score.weight) >= params.merge_threshold
                and self._may_merge(target, identity)
            ):
                to_merge.append((identity, score))
                continue
            if target_score.weight - score.weight < params.ambiguity_margin:
                # Two identities that must stay apart both fit: linking to either would guess.
                candidates = tuple(
                    PossibleMatch(self.identities[i].person_id, s.weight, s.reason())
                    for i, s in matches
                )
                self.stats.possible_matches += 1
                return self._new_identity(
                    event, profile, address_id, candidates, "ambiguous; kept apart for review"
                )
            possible.append(
                PossibleMatch(self.identities[identity].person_id, score.weight, score.reason())
            )
        merges = []
        for identity, score in to_merge:
            merges.append(self._merge(target, self._current(identity), event.event_id, score))
            target = self._current(target)
        self.stats.possible_matches += bool(possible)
        self.stats.links += 1
        self._add_profile(profile, target)
        return Resolution(
            event.event_id,
            self.identities[target].person_id,
            address_id,
            target_score.weight,
            target_score.reason(),
            target_score.contributions,
            tuple(merges),
            tuple(possible),
        )

    def _score_candidates(self, profile: Profile) -> dict[int, tuple[Score, int]]:
        """Best score per identity among the candidate profiles."""
        candidates: set[int] = set()
        for key in blocking_keys(profile):
            candidates.update(self.index.candidates(key))
        if profile.dob is None:
            name_key = name_only_key(profile)
            if name_key:
                candidates.update(self.index.candidates(name_key))
        best: dict[int, tuple[Score, int]] = {}
        score = self.scorer.score
        profiles = self.profiles
        owner = self.profile_identity
        self.stats.comparisons += len(candidates)
        for candidate in candidates:
            result = score(profile, profiles[candidate])
            identity = owner[candidate]
            held = best.get(identity)
            if held is None or result.weight > held[0].weight:
                best[identity] = (result, candidate)
        return best

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
    ) -> Resolution:
        person_id = _identity_id("P", event.event_id)
        while person_id in self.identity_by_person:  # the same event id sent with new details
            person_id = _identity_id("P", person_id)
        index = len(self.identities)
        self.identities.append(_Identity(person_id, []))
        self.identity_by_person[person_id] = index
        self.stats.new_persons += 1
        self._add_profile(profile, index)
        return Resolution(
            event.event_id, person_id, address_id, None, reason, (), (), possible, True
        )

    def _add_profile(self, profile: Profile, identity_index: int) -> None:
        number = len(self.profiles)
        self.profiles.append(profile)
        self.profile_identity.append(identity_index)
        identity = self.identities[identity_index]
        identity.members.append(number)
        if profile.nhs:
            identity.nhs.add(profile.nhs)
        self.profile_by_key.setdefault(profile.key(), number)
        self.scorer.observe(profile)
        for key in blocking_keys(profile):
            self.index.add(key, number)
        name_key = name_only_key(profile)
        if name_key:
            self.index.add(name_key, number)

    # Merge and split --------------------------------------------------------------------------
    def _merge(self, a: int, b: int, event_id: str, score: Score) -> Merge:
        survivor, retired = (a, b) if a < b else (b, a)  # the older identity keeps its id
        kept, gone = self.identities[survivor], self.identities[retired]
        moved = tuple(gone.members)
        for number in moved:
            self.profile_identity[number] = survivor
        kept.members.extend(moved)
        kept.nhs |= gone.nhs
        gone.members = []
        gone.nhs = set()
        gone.alive = False
        self.identity_by_person[gone.person_id] = survivor
        for other in gone.cannot_link:
            self.identities[other].cannot_link.discard(retired)
            self.identities[other].cannot_link.add(survivor)
            kept.cannot_link.add(other)
        gone.cannot_link = set()
        merge = Merge(
            merge_id=_identity_id("M", f"{kept.person_id}|{gone.person_id}|{event_id}"),
            surviving_person_id=kept.person_id,
            retired_person_id=gone.person_id,
            triggered_by_event_id=event_id,
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
            i for i, identity in enumerate(self.identities)
            if identity.person_id == merge.retired_person_id
        )
        if self.identities[retired].alive:
            raise ResolverError(f"merge {merge_id} was already split")
        survivor = self._current(self.identity_by_person[merge.surviving_person_id])
        moved = set(merge.moved_profiles)
        kept = self.identities[survivor]
        kept.members = [number for number in kept.members if number not in moved]
        restored = self.identities[retired]
        restored.members = sorted(moved)
        restored.alive = True
        for number in moved:
            self.profile_identity[number] = retired
        for identity in (kept, restored):
            identity.nhs = {n for m in identity.members if (n := self.profiles[m].nhs)}
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
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        with temporary.open("wb") as handle:
            pickle.dump((STATE_FORMAT, self.__dict__), handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> Resolver:
        """State written by ``save`` (a local, trusted file: it is a pickle)."""
        with path.open("rb") as handle:
            version, state = pickle.load(handle)  # noqa: S301 - our own state file
        if version != STATE_FORMAT:
            raise ResolverError(f"resolver state format {version} is not {STATE_FORMAT}")
        resolver = cls.__new__(cls)
        resolver.__dict__.update(state)
        return resolver
