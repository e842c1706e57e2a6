"""What routes do with shielding (``query_api.shielding``): refuse a shielded person's or
address's page without a break-glass, say whom to call instead, and show the banner of a
break-glass in force. Every route that shows a person or an address goes through here, so
the rule is stated once.

A refusal is a 403 whose sentence names the agencies that hold the record and whom to call
there (never a detail of the person), audited with the problem ``shielded``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import status

from mast_core.errors import InvalidEvent
from query_api.audited import Trail
from query_api.pages import BreakGlassBanner, HeldByEntry
from query_api.search import NarrowQuery, PersonMatch, PersonQuery, PersonSearch
from query_api.shielding import ADDRESS, PERSON, Grant, HeldBy, Shield, Shielding, SubjectKind

SHIELDED = "shielded"
"""The problem an audit entry records for a page refused because its subject is shielded."""
BREAK_GLASS_HINT = (
    "In an emergency, break glass (POST /api/v1/break-glass with the {kind}_id, your "
    "reason and purpose): access is granted for a short time, audited, and reviewed by the "
    "organisation that holds the record and the data protection officer."
)


def held_by(shield: Shield) -> list[HeldByEntry]:
    return [_held(h) for h in shield.held_by]


def _held(holder: HeldBy) -> HeldByEntry:
    return HeldByEntry(
        agency=holder.agency, team=holder.team, phone=holder.phone, sentence=holder.sentence()
    )


def banner(grant: Grant | None) -> BreakGlassBanner | None:
    if grant is None:
        return None
    until = grant.expires_at.strftime("%H:%M UTC")
    return BreakGlassBanner(
        grant_id=grant.grant_id,
        reason=grant.reason,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        message=f"Shielded record opened by break-glass until {until}. This access is "
        "audited and will be reviewed by the organisation that holds the record and the "
        "data protection officer.",
    )


def guard(
    trail: Trail,
    kind: SubjectKind,
    subject_id: str,
    *,
    not_found: str | None = None,
    **recorded: Any,
) -> Grant | None:
    """Lets a request about a subject that is not shielded through (None); for a shielded
    one, the caller's break-glass in force, or a refusal audited with ``recorded`` (the
    action, what was asked) and the problem ``shielded``: a 403 saying whom to call, or,
    with ``not_found``, the route's own 404 for an unknown subject, word for word. An
    address id is computed from the address (``mast_core.linkage.addresses``), so anyone
    could ask about a refuge's: its page must answer as for an address MAST does not hold,
    or the answer would confirm the refuge."""
    shielding = Shielding(trail.ctx.client, trail.ctx.lock)
    if kind == PERSON:
        shield = shielding.people([subject_id]).get(subject_id)
        ids = sorted(shielding.owners([shielding.current_person(subject_id)])) if shield else []
    else:
        shield = shielding.addresses([subject_id]).get(subject_id)
        ids = [subject_id]
    if shield is None:
        return None
    grant = shielding.granted(trail.who, kind, sorted({subject_id, *ids}))
    if grant is not None:
        return grant
    asked = dict(recorded.pop("asked", None) or {f"{kind.lower()}_id": subject_id})
    named: dict[str, Any] = (
        {"person_ids": [subject_id]} if kind == PERSON else {"address_ids": [subject_id]}
    )
    if not_found is not None:
        trail.refuse(
            status.HTTP_404_NOT_FOUND,
            not_found,
            asked={**asked, "problems": [SHIELDED]},
            **named,
            **recorded,
        )
    trail.refuse(
        status.HTTP_403_FORBIDDEN,
        f"This {'person' if kind == PERSON else 'address'} is shielded. "
        + shield.sentence()
        + ". "
        + BREAK_GLASS_HINT.format(kind=kind.lower()),
        asked={**asked, "problems": [SHIELDED]},
        **named,
        **recorded,
    )


def guard_person(trail: Trail, person_id: str, **recorded: Any) -> Grant | None:
    return guard(trail, PERSON, person_id, **recorded)


def guard_address(trail: Trail, address_id: str, not_found: str, **recorded: Any) -> Grant | None:
    """``guard`` for an address page: refused as an unknown address is (``not_found``)."""
    return guard(trail, ADDRESS, address_id, not_found=not_found, **recorded)


@dataclass(frozen=True)
class ShieldedSearch:
    """A person search's matches as a searcher may be shown them (``shielded_search``)."""

    matches: list[PersonMatch]
    shields: dict[str, Shield]
    """The shielded people among them, by id."""
    nearby: set[str]
    """The people among them with a record at a shielded address."""


def shielded_search(search: PersonSearch, query: PersonQuery) -> ShieldedSearch:
    """The people a search finds, judged for shielding. A shielded person, or anyone with a
    record at a shielded address, is scored without the postcode typed: their confidence
    (and rank) must not say whether a postcode is theirs, or their search would confirm a
    hidden address. Found only through the postcode, they are left out. Raises what
    ``PersonSearch.search`` raises."""
    matches = search.search(query)
    shielding = Shielding(search.client, search.lock)
    ids = [m.person_id for m in matches]
    shields = shielding.people(ids)
    nearby = shielding.with_shielded_address(ids)
    affected = set(shields) | nearby
    if affected and query.postcode:
        try:
            again = {m.person_id: m for m in search.search(replace(query, postcode=None))}
        except (InvalidEvent, NarrowQuery):  # nothing but the postcode to find them by
            again = {}
        matches = [
            again[m.person_id] if m.person_id in affected else m
            for m in matches
            if m.person_id not in affected or m.person_id in again
        ]
        matches.sort(key=lambda m: -m.match_weight)
    return ShieldedSearch(matches, shields, nearby)
