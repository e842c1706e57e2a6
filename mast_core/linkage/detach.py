"""A steward detaches records from a person: records that were linked to the person directly
(each matched the person when it arrived, so no merge brought them and no split can take them
back) and that a practitioner says are someone else's.

Each distinct record among those named leaves for an identity of its own, which is never
linked to the person again (a lasting "not the same person", as after a split). One
identity per record rather than one for all: the practitioner said whose they are not, not
that they are one person's, and precision comes first; later records may join them as usual.
Merges a detached record had bridged are undone first, as for a partner's retraction: the
record was the evidence for them.

A record that other events repeat exactly (the same details, ``RetractionState.shared``)
stays where it is for those events, and the events named get a copy of it in the new
identity: only what was disputed moves. The new identities' ids derive from the correction
and the event, so a replay of the accepted log makes the same ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mast_core.seen_events import digest

if TYPE_CHECKING:
    from mast_core.linkage.resolver import Resolver, Split


@dataclass(frozen=True, slots=True)
class Detached:
    """One new identity: its id, the events (their keys) whose record went to it, and the
    person it was detached from (their current id: after a merge the record bridged was
    undone, the half that held it)."""

    person_id: str
    event_keys: tuple[str, ...]
    from_person_id: str = ""


@dataclass(frozen=True, slots=True)
class Detach:
    """What detaching some of a person's records changed in the resolver."""

    person_id: str
    """The person the records were detached from (their current id after it)."""
    previous_person_id: str
    """Their current id before any merge a detached record bridged was undone."""
    detached: tuple[Detached, ...] = ()
    splits: tuple[Split, ...] = ()
    """Merges a detached record had bridged, undone, latest first."""
    skipped: tuple[str, ...] = field(default=())
    """Why each event named could not be detached (ids only)."""


def detach_records(
    resolver: Resolver, person_id: str, event_keys: Sequence[str], correction_id: str
) -> Detach:
    """``Resolver.detach``: see the module's description. Events the resolver does not know,
    or that are no longer the person's, are skipped and said; ``ResolverError`` for a person
    it does not know."""
    from mast_core.linkage.resolver import ResolverError, _Identity, _identity_id
    from mast_core.linkage.retraction import _undo_bridges

    if person_id not in resolver.identity_by_person:
        raise ResolverError("unknown person id")
    state = resolver.retractions
    holder = resolver._current(resolver.identity_by_person[person_id])
    previous = resolver.identities[holder].person_id
    by_record: dict[int, list[str]] = {}
    skipped: list[str] = []
    for key in dict.fromkeys(event_keys):  # a key named twice counts once
        number = state.event_records.get(digest(key))
        if number is None:
            skipped.append(f"{_shown(key)}: not an event resolved here")
        elif resolver._current(resolver.profile_identity[number]) != holder:
            skipped.append(f"{_shown(key)}: no longer this person's")
        else:
            by_record.setdefault(number, []).append(key)
    whole = {n for n, keys in by_record.items() if state.shared.get(n, 0) + 1 <= len(keys)}
    splits: list[Split] = []
    for number in sorted(whole):  # the record moves whole: what it bridged goes with it
        splits.extend(_undo_bridges(resolver, number))
    touched: set[int] = set()
    detached: list[Detached] = []
    for number, keys in by_record.items():
        # after an undone bridge the record may be the other person's: detached from there
        holder_now = resolver._current(resolver.profile_identity[number])
        touched.add(holder_now)
        new_id = _identity_id("P", f"{correction_id}|{keys[0]}")
        while new_id in resolver.identity_by_person:
            new_id = _identity_id("P", new_id)
        index = len(resolver.identities)
        resolver.identities.append(_Identity(new_id, []))
        resolver.identity_by_person[new_id] = index
        if number in whole:
            old = resolver.identities[holder_now]
            old.members = [m for m in old.members if m != number]
            resolver.profile_identity[number] = index
            record = number
        else:  # repeated by events not named: a copy moves, with the events named
            record = _copy(resolver, number, index)
            for key in keys:
                state.event_records[digest(key)] = record
            rest = state.shared[number] + 1 - len(keys)  # events left with the original
            if rest > 1:
                state.shared[number] = rest - 1
            else:
                del state.shared[number]
            if len(keys) > 1:
                state.shared[record] = len(keys) - 1
        new = resolver.identities[index]
        new.members.append(record)
        new.remember(resolver.profiles[record])
        new.cannot_link.add(holder_now)
        resolver.identities[holder_now].cannot_link.add(index)
        resolver.redo_queue.discard(record)
        resolver.stats.new_persons += 1
        detached.append(Detached(new_id, tuple(keys), resolver.identities[holder_now].person_id))
    for index in touched:  # what the records left say about the person, again
        kept = resolver.identities[index]
        kept.nhs, kept.references = set(), {}
        for member in kept.members:
            kept.remember(resolver.profiles[member])
    holder = resolver._current(resolver.identity_by_person[person_id])
    return Detach(
        resolver.identities[holder].person_id,
        previous,
        tuple(detached),
        tuple(splits),
        tuple(skipped),
    )


def _copy(resolver: Resolver, number: int, identity: int) -> int:
    """A new record with the details of ``number``, in ``identity``, found by the blocking
    keys as any record is (so the detached person's later records can join it)."""
    from mast_core.linkage.blocking import filed_keys

    profile = resolver.profiles[number]
    copy = len(resolver.profiles)
    resolver.profiles.append(profile)
    resolver.profile_identity.append(identity)
    for key in filed_keys(profile):
        resolver.index.add(key, copy, resolver.profile_identity)
    return copy


def _shown(key: str) -> str:
    """An event key as a reason may name it: a hash, never the partner's id itself (a
    reason reaches logs and the dead-letter topic)."""
    return "event " + hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
