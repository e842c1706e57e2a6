"""Retraction: a partner withdraws one of its own earlier events, and its record leaves the
resolver's state as if it had never been linked on.

The resolver notes, as each event is resolved, which distinct record (profile) it gave and,
for each merge, which record bridged the two identities (``RetractionState``). Retracting an
event then:

1. refuses an event it never resolved, or one already retracted (``RetractionRefused``: the
   pipeline keeps the message on the dead-letter topic with that reason);
2. when other events of the same details are still held (exact repeats share one record),
   keeps the record for them: only the event's own rows go, downstream;
3. otherwise undoes every merge the record bridged, latest first, with the split machinery
   (``Resolver.split``), but without the "not the same person" a steward's split records:
   the two identities lost their evidence, not shown to differ, and a later record may join
   them again;
4. takes the record out of its identity (which keeps its id, with the records left, or none:
   an identity the record founded is never renamed), out of the blocking index, the
   exact-repeat map, the redo queue and the term-frequency counts; its slot in the record
   list becomes an empty record, so record numbers held elsewhere stay valid and find
   nothing; the address it alone was written at is forgotten too.

``Retraction`` also says what escalation needs to forget the record (its date of birth and
address, and those the person's records left still carry). A state upgraded from format 3
(``upgrade_state`` in the resolver) knows only the events resolved since: a retraction of an
earlier one is refused with that reason (``BEFORE_UPGRADE``).

Records that joined an identity on the strength of the retracted one stay where they are:
their links were sound when made and are explained by the evidence they had; a steward can
split what a practitioner disputes. Everything here is deterministic, so a replay of the
accepted log reaches the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from mast_core.errors import MastError
from mast_core.seen_events import digest

if TYPE_CHECKING:
    from mast_core.linkage.profile import Profile
    from mast_core.linkage.resolver import Resolver, Split


BEFORE_UPGRADE = (
    "the event named was resolved before this MAST began keeping what a retraction needs "
    "(its resolution state was upgraded from format 3): its record cannot be withdrawn "
    "through the log and stays as it is"
)
"""The dead-letter reason for a retraction of an event resolved before the upgrade."""


class RetractionRefused(MastError):
    """A retraction the resolver cannot apply: the event it names was never resolved (an
    unknown id, or another agency's), or was retracted before."""

    reason = "retraction_not_applied"


@dataclass
class RetractionState:
    """What the resolver keeps so that an event can be retracted: about 100 bytes an event
    (an 8-byte digest of its key, as ``SeenEvents`` keeps it, and a record number)."""

    event_records: dict[int, int] = field(default_factory=dict)
    """Digest of an event's key → the record (profile number) it gave or repeated."""
    shared: dict[int, int] = field(default_factory=dict)
    """Record → how many more events than one hold it (exact repeats); absent for one."""
    bridges: dict[str, int] = field(default_factory=dict)
    """Merge id → the record whose arrival (or second judgement) made the merge."""
    retracted: set[int] = field(default_factory=set)
    """Digests of the keys of events retracted: a second retraction of one is refused."""
    upgraded: bool = False
    """The state was upgraded from a resolver state that kept none of this (format 3): the
    events resolved before the upgrade are not here, and cannot be retracted."""

    def knows(self, key: str) -> bool:
        """Whether event ``key`` was resolved, or retracted, while this state was kept."""
        value = digest(key)
        return value in self.event_records or value in self.retracted

    def refuse_if_before_upgrade(self, key: str, resolved: bool) -> None:
        """Raise ``RetractionRefused``, saying why, when event ``key`` was ``resolved``
        before the state was upgraded: its record is not known here, so it stays."""
        if self.upgraded and resolved and not self.knows(key):
            raise RetractionRefused(BEFORE_UPGRADE)

    def note_event(self, key: str, record: int) -> None:
        """Event ``key`` gave the new record ``record``."""
        self.event_records.setdefault(digest(key), record)

    def note_repeat(self, key: str, record: int) -> None:
        """Event ``key`` repeated the details of ``record`` exactly (no record of its own)."""
        value = digest(key)
        if value in self.event_records:  # the same event resolved twice: one holder
            return
        self.event_records[value] = record
        self.shared[record] = self.shared.get(record, 0) + 1


@dataclass(frozen=True, slots=True)
class Retraction:
    """What retracting one event changed in the resolver."""

    person_id: str
    """The person whose record it was (their current id)."""
    splits: tuple[Split, ...] = ()
    """Merges the record had bridged, undone, latest first."""
    removed: bool = True
    """The record left the state; False when other events of the same details still hold
    it (only this event's rows go)."""
    emptied: bool = False
    """The person has no records left."""
    previous_person_id: str = ""
    """The person's id before any merge the record bridged was undone: whose record it was
    to escalation, which keeps each merged person whole until it applies the splits."""
    birth: date | None = None
    """The withdrawn record's date of birth (a calendar date), for escalation to forget."""
    address_id: str | None = None
    """The address the withdrawn record was written at."""
    births_left: frozenset[date] = frozenset()
    """The dates of birth that the records left to the person (all the people the undone
    merges part it into) carry."""
    homes_left: frozenset[str] = frozenset()
    """The addresses those records were written at."""


def retract_record(resolver: Resolver, event_key: str) -> Retraction:
    """``Resolver.retract``: see the module's description."""
    state = resolver.retractions
    value = digest(event_key)
    if value in state.retracted:
        raise RetractionRefused("the event named was retracted before")
    number = state.event_records.get(value)
    if number is None:
        if state.upgraded:
            raise RetractionRefused(
                "no event of this agency with that event_id has been resolved since this "
                "MAST began keeping what a retraction needs (one resolved before that "
                "upgrade cannot be retracted)"
            )
        raise RetractionRefused("no event of this agency with that event_id has been resolved")
    del state.event_records[value]
    state.retracted.add(value)
    holder = resolver._current(resolver.profile_identity[number])
    person_id = resolver.identities[holder].person_id
    profile = resolver.profiles[number]
    birth = profile.dob.as_date() if profile.dob else None
    others = state.shared.get(number, 0)
    if others:
        if others == 1:
            del state.shared[number]
        else:
            state.shared[number] = others - 1
        births, homes = left_to(resolver, [holder])
        return Retraction(
            person_id,
            removed=False,
            previous_person_id=person_id,
            birth=birth,
            address_id=profile.address_id,
            births_left=births,
            homes_left=homes,
        )

    splits = tuple(_undo_bridges(resolver, number))
    holder = resolver._current(resolver.profile_identity[number])
    identity = resolver.identities[holder]
    identity.members = [member for member in identity.members if member != number]
    identity.nhs, identity.references = set(), {}
    for member in identity.members:
        identity.remember(resolver.profiles[member])
    _forget_profile(resolver, number, profile)
    parted = [holder] + [
        resolver._current(resolver.identity_by_person[person])
        for split in splits
        for person in (split.kept_person_id, split.restored_person_id)
    ]
    births, homes = left_to(resolver, parted)
    return Retraction(
        identity.person_id,
        splits,
        removed=True,
        emptied=not identity.members,
        previous_person_id=person_id,
        birth=birth,
        address_id=profile.address_id,
        births_left=births,
        homes_left=homes,
    )


def left_to(resolver: Resolver, identities: list[int]) -> tuple[frozenset[date], frozenset[str]]:
    """The dates of birth and addresses the records of these identities carry."""
    births: set[date] = set()
    homes: set[str] = set()
    for index in set(identities):
        for member in resolver.identities[index].members:
            record = resolver.profiles[member]
            born = record.dob.as_date() if record.dob else None
            if born is not None:
                births.add(born)
            if record.address_id:
                homes.add(record.address_id)
    return frozenset(births), frozenset(homes)


def _undo_bridges(resolver: Resolver, number: int) -> list[Split]:
    """Undo the merges ``number`` bridged, latest first, leaving the two free to join again."""
    state = resolver.retractions
    undone: list[Split] = []
    for merge_id in reversed(list(resolver.merges)):
        if state.bridges.get(merge_id) != number:
            continue
        try:
            split = resolver.split(merge_id)
        except MastError:  # undone already (a steward's split): nothing to undo
            state.bridges.pop(merge_id, None)
            continue
        resolver.stats.splits -= 1  # a retraction, not a steward's split
        state.bridges.pop(merge_id, None)
        kept = resolver._current(resolver.identity_by_person[split.kept_person_id])
        restored = resolver.identity_by_person[split.restored_person_id]
        resolver.identities[kept].cannot_link.discard(restored)
        resolver.identities[restored].cannot_link.discard(kept)
        undone.append(split)
    return undone


def _forget_profile(resolver: Resolver, number: int, profile: Profile) -> None:
    """Every place the record's details were kept, emptied; its number stays valid."""
    from mast_core.linkage.blocking import filed_keys

    for key in filed_keys(profile):
        resolver.index.remove(key, number)
    if resolver.profile_by_key.get(profile.key()) == number:
        del resolver.profile_by_key[profile.key()]
    resolver.redo_queue.discard(number)
    resolver.near.pop(number, None)
    resolver.forget_pairs_with(number)
    scorer = resolver.scorer
    scorer.total = max(0, scorer.total - 1)
    for name, value in _names(profile):
        counts = scorer.name_counts.get(name)
        if counts is not None and value in counts:
            counts[value] -= 1
            if counts[value] <= 0:
                del counts[value]
    _forget_in_learner(resolver, number, profile)
    resolver.profiles[number] = _empty(profile)
    if profile.address_id is not None and not any(
        other.address_id == profile.address_id for other in resolver.profiles
    ):
        _forget_address(resolver, profile.address_id)


def _names(profile: Profile) -> list[tuple[str, str]]:
    from mast_core.linkage.scoring import FAMILY_NAME, GIVEN_NAME

    names = []
    if profile.given:
        names.append((GIVEN_NAME, profile.given))
    if profile.family:
        names.append((FAMILY_NAME, profile.family))
    return names


def _forget_in_learner(resolver: Resolver, number: int, profile: Profile) -> None:
    """The learner's samples of pairs (agreement levels only) stay; the record is no longer
    drawn for new pairs, and the counts keyed by its birth date and address lose it."""
    learner = resolver.learner
    if learner is None:
        return
    for blocks in learner._blocks.values():
        for key in [key for key, block in blocks.items() if number in block]:
            blocks[key].remove(number)
            if not blocks[key]:
                del blocks[key]
    if profile.address_id is not None:
        home = learner._homes.get(profile.address_id)
        if home is not None and number in home:
            home.remove(number)
    if profile.dob is not None and learner.birth_dates.get(profile.dob.digits, 0) > 0:
        learner.birth_dates[profile.dob.digits] -= 1
        if not learner.birth_dates[profile.dob.digits]:
            del learner.birth_dates[profile.dob.digits]


def _empty(profile: Profile) -> Profile:
    """A record with nothing in it, in the retracted one's place: it agrees with nothing."""
    return replace(
        profile,
        given=None,
        given_groups=frozenset(),
        middle=None,
        family=None,
        family_parts=(),
        dob=None,
        gender="U",
        address_id=None,
        postcode=None,
        sector=None,
        outward=None,
        postcode_token=None,
        house=None,
        street=None,
        town=None,
        nhs=None,
        source_system=None,
        source_ref=None,
    )


def _forget_address(resolver: Resolver, address_id: str) -> None:
    """No record is written at this address any more: its written forms leave the address
    resolver. Its slot stays (blank) so that positions held elsewhere stay valid; the same
    address written again later gets the same id (ids derive from the address)."""
    addresses = resolver.addresses
    index = addresses.by_id.pop(address_id, None)
    if index is None:
        return
    for table in (addresses.by_postcode, addresses.by_street):
        for key in [key for key, held in table.items() if index in held]:
            table[key] = [held for held in table[key] if held != index]
            if not table[key]:
                del table[key]
    for uprn in [uprn for uprn, held in addresses.by_uprn.items() if held == index]:
        del addresses.by_uprn[uprn]
    known = addresses.known[index]
    addresses.known[index] = replace(
        known,
        flat=None,
        number=None,
        premise=None,
        street=None,
        towns=set(),
        postcodes=set(),
        raw_postcode=None,
    )
