"""A steward confirms a possible match: two identities the resolver kept apart for review are
one person. The confirmation is an ordinary merge (``Resolver._merge``): the older identity
survives, the other's records move to it, and the merge is explained, by the best-agreeing
pair of their records, as the resolver explains any merge. Its id derives from the two
identities and the correction, so a replay of the accepted log makes the same merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from mast_core.events import InteractionEvent
    from mast_core.linkage.resolver import Merge, Resolver

PAIRS_COMPARED = 50
"""Of each identity, at most this many records (the latest) are compared to find the pair
that explains the merge: a person's records mostly repeat each other."""


@dataclass(frozen=True, slots=True)
class _Confirmation:
    """What ``Resolver._merge`` reads of the event that brought a merge about: its key (for
    the merge id) and its id (the trigger). A steward's confirmation has no event: the key is
    the correction's, and the trigger is empty (published as none)."""

    key: str
    event_id: str = ""


def confirm_match(resolver: Resolver, person_a: str, person_b: str, correction_id: str) -> Merge:
    """Merge the identities of ``person_a`` and ``person_b`` (any of their ids, current or
    merged since) because a steward confirmed they are one person. Refuses (``ResolverError``)
    ids it does not know, ids that are one identity already, and identities that must stay
    apart: marked different (by a steward, or a split), or with different NHS numbers."""
    from mast_core.linkage.resolver import ResolverError

    known = resolver.identity_by_person
    if person_a not in known or person_b not in known:
        raise ResolverError("unknown person id")
    a, b = resolver._current(known[person_a]), resolver._current(known[person_b])
    if a == b:
        raise ResolverError("these ids are one identity already")
    if not resolver._may_merge(a, b):
        raise ResolverError("these identities must stay apart (marked different, or NHS numbers)")
    profiles = resolver.profiles
    best = None
    for x in resolver.identities[a].members[-PAIRS_COMPARED:]:
        for y in resolver.identities[b].members[-PAIRS_COMPARED:]:
            weight, levels, swapped = resolver.scorer.weigh(profiles[y], profiles[x])
            if best is None or weight > best[0]:
                best = (weight, y, x, levels, swapped)
    if best is None:
        raise ResolverError("one of the identities holds no records")
    _weight, y, x, levels, swapped = best
    score = resolver.scorer.explain(profiles[y], profiles[x], levels, swapped)
    event = cast("InteractionEvent", _Confirmation(f"confirmed|{correction_id}"))
    return resolver._merge(a, b, event, score)
