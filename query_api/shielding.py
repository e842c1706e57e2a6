"""Shielding (sensitive records issue, item 1): which people and addresses are hidden from
searchers, whom to call about them, and who has broken the glass to see one.

A **person** is shielded when any record of their identity (their current id or any id
merged into it) was sent with a ``sensitivity`` (``REFUGE``, ``ADOPTION``, ``WITNESS``,
``OTHER``: interaction schema v3), or when a steward or manager shielded one of those ids by
hand (``shields``, migration 0026) and has not lifted it. Shielding therefore follows
merges by itself: a merge brings the shielded record's id into the identity. A hand shield
is written under every id the identity has at the time, so both halves stay shielded after a
split until someone lifts it; a partner's mark belongs to its record, so after a split only
the half holding that record stays shielded.

An **address** is shielded when shielded by hand, or when anyone who has a record there is
shielded (one shielded record shields the identity's address details): so a shielded
person's addresses are never shown as anyone's, and a shielded person is never shown as a
co-resident, because the only addresses they have are ones nobody sees.

Everything is judged when asked, from what is stored now, for just the ids a request
touches: a record marked sensitive a second ago shields its person on the next request, and
nothing is cached that could show a hidden address for a while.

**Break-glass** (item 2): a user who must see a shielded person or address in an emergency
says why (``POST /api/v1/break-glass``) and is granted that one subject for
``MAST_BREAK_GLASS_MINUTES``. The grant is audited as its own action and is reviewed by the
managers of the organisations that hold the shielded record (``owners``) and by the data
protection officer (``query_api.break_glass``).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from query_api.reads import Reader
from query_api.security import Principal
from sinks.clickhouse.tables import (
    BREAK_GLASS,
    RESOLVED_INTERACTIONS,
    SHIELDS,
    BreakGlassRow,
    ShieldRow,
)

SubjectKind = Literal["PERSON", "ADDRESS"]
PERSON: SubjectKind = "PERSON"
ADDRESS: SubjectKind = "ADDRESS"
SHIELD, LIFT = "shield", "lift"
ADDRESS_COLUMNS: tuple[str, ...] = ("address_line1", "address_line2", "town", "postcode", "uprn")
"""The columns of ``resolved_interactions`` that write an address."""

_IN_FORCE = (
    "SELECT subject_id, argMax(organisation, at) FROM " + SHIELDS + " "  # noqa: S608 - constant names
    "WHERE subject_kind = {kind:String} AND subject_id IN {ids:Array(String)} "
    "GROUP BY subject_id HAVING argMax(action, at) = '" + SHIELD + "'"
)
"""The hand shields in force among some ids, with the organisation of who shielded each."""
_HOLDERS = (
    "SELECT person_id, agency, contact_team, contact_phone, sensitivity IS NOT NULL "
    "FROM " + RESOLVED_INTERACTIONS + " WHERE person_id IN {ids:Array(String)} "
    "ORDER BY sensitivity IS NULL, event_time DESC LIMIT 1 BY person_id, agency"
)
"""Per id and agency, the latest record, a sensitive one first: whom to call, and whether
the agency marked a record sensitive."""


@dataclass(frozen=True)
class HeldBy:
    """An agency that holds a record of a shielded person, and whom to call there."""

    agency: str
    team: str | None
    phone: str | None

    def sentence(self) -> str:
        contact = ", ".join(part for part in (self.team, self.phone) if part)
        return f"A record is held by {self.agency}" + (f" — contact {contact}" if contact else "")


@dataclass(frozen=True)
class Shield:
    """Why a subject is hidden, as far as the searcher may know: who holds it and whom to
    call (``held_by``), and the organisations that review a break-glass into it
    (``owners``: the agencies that marked a record sensitive and whoever shielded it by
    hand)."""

    held_by: tuple[HeldBy, ...]
    owners: tuple[str, ...]

    def sentence(self) -> str:
        return "; ".join(h.sentence() for h in self.held_by) or "A record is shielded"


@dataclass(frozen=True)
class Grant:
    grant_id: str
    subject_kind: SubjectKind
    subject_id: str
    reason: str
    granted_at: datetime
    expires_at: datetime


class Shielding(Reader):
    """Which of some people and addresses are shielded, as stored now."""

    def people(self, person_ids: Iterable[str]) -> dict[str, Shield]:
        """Of these people (any of their ids), those shielded, by the id asked about."""
        asked = sorted(set(person_ids))
        if not asked:
            return {}
        current = self.current_persons(asked)
        now = {p: current.get(p, p) for p in asked}
        belongs = self.owners(sorted(set(now.values())))  # every id -> its current id
        hand = {
            belongs.get(str(i), str(i)): str(org)
            for i, org in self.rows(_IN_FORCE, {"kind": PERSON, "ids": sorted(belongs)})
        }
        holders: dict[str, list[tuple[HeldBy, bool]]] = {}
        for pid, agency, team, phone, sensitive in self.rows(_HOLDERS, {"ids": sorted(belongs)}):
            holders.setdefault(belongs.get(str(pid), str(pid)), []).append(
                (HeldBy(str(agency), team or None, phone or None), bool(sensitive))
            )
        shields: dict[str, Shield] = {}
        for person in {*now.values()}:
            held = holders.get(person, [])
            marked = sorted({h.agency for h, sensitive in held if sensitive})
            if not marked and person not in hand:
                continue
            by_agency: dict[str, HeldBy] = {}
            for holder, _sensitive in sorted(
                held, key=lambda h: (not h[1], h[0].agency, h[0].team or "", h[0].phone or "")
            ):
                by_agency.setdefault(holder.agency, holder)
            shields[person] = Shield(
                tuple(by_agency.values()),
                tuple(sorted({*marked, *([hand[person]] if person in hand else [])})),
            )
        return {p: shields[c] for p, c in now.items() if c in shields}

    def addresses(self, address_ids: Iterable[str]) -> dict[str, Shield]:
        """Of these addresses, those shielded: by hand, or because someone with a record
        there is shielded."""
        asked = sorted(set(address_ids) - {""})
        if not asked:
            return {}
        hand = {
            str(i): str(org) for i, org in self.rows(_IN_FORCE, {"kind": ADDRESS, "ids": asked})
        }
        residents: dict[str, set[str]] = {}
        for address, person in self.rows(
            "SELECT DISTINCT address_id, person_id FROM address_interactions "
            "WHERE address_id IN {ids:Array(String)}",
            {"ids": asked},
        ):
            residents.setdefault(str(address), set()).add(str(person))
        shielded_people = self.people({p for ps in residents.values() for p in ps})
        shields: dict[str, Shield] = {}
        for address in asked:
            found = [
                shielded_people[p]
                for p in sorted(residents.get(address, ()))
                if p in shielded_people
            ]
            if not found and address not in hand:
                continue
            held = {h.agency: h for shield in found for h in shield.held_by}
            owners = {o for shield in found for o in shield.owners}
            if address in hand:
                owners.add(hand[address])
            shields[address] = Shield(tuple(held[a] for a in sorted(held)), tuple(sorted(owners)))
        return shields

    def with_shielded_address(self, person_ids: Iterable[str]) -> set[str]:
        """Of these people (current ids), those who have a record at a shielded address:
        a search result shows no postcode or town of theirs, which could be that one."""
        asked = sorted(set(person_ids))
        if not asked:
            return set()
        belongs = self.owners(asked)
        at: dict[str, set[str]] = {}
        for person, address in self.rows(
            "SELECT DISTINCT person_id, address_id FROM "  # noqa: S608 - constant names
            + RESOLVED_INTERACTIONS
            + " WHERE person_id IN {ids:Array(String)} AND address_id != ''",
            {"ids": sorted(belongs)},
        ):
            at.setdefault(str(address), set()).add(belongs.get(str(person), str(person)))
        return {p for address in self.addresses(at) for p in at[address]}

    def withhold(self, rows: Sequence[dict[str, Any]]) -> int:
        """Takes every shielded address off these records (rows of ``resolved_interactions``
        read by column name, with ``address_id``): its id becomes '' and each column that
        writes it (``ADDRESS_COLUMNS``, those the row has) None. How many addresses were
        shielded among them. The one place a record's shielded address is withheld."""
        shielded = self.addresses(str(row["address_id"]) for row in rows)
        for row in rows:
            if row["address_id"] in shielded:
                row.update({c: None for c in ADDRESS_COLUMNS if c in row}, address_id="")
        return len(shielded)

    def shielded_by(self, kind: SubjectKind, ids: Sequence[str]) -> set[str]:
        """The organisations whose hand shields on these ids are in force."""
        return {str(org) for _id, org in self.rows(_IN_FORCE, {"kind": kind, "ids": list(ids)})}

    def hand_shields(self) -> list[dict[str, object]]:
        """Every hand shield in force, newest first (ids, reason, who and when)."""
        rows = self.rows(
            "SELECT subject_kind, subject_id, argMax(reason, at), argMax(decided_by, at), "  # noqa: S608 - constant names
            "argMax(organisation, at), max(at) FROM " + SHIELDS + " "
            "GROUP BY subject_kind, subject_id HAVING argMax(action, at) = '" + SHIELD + "' "
            "ORDER BY max(at) DESC LIMIT 1000",
            {},
        )
        keys = ("subject_kind", "subject_id", "reason", "decided_by", "organisation", "at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def decide(
        self, who: Principal, kind: SubjectKind, ids: Collection[str], action: str, reason: str
    ) -> datetime:
        """Shields (or lifts the hand shield of) these ids of one subject."""
        at = datetime.now(UTC)
        rows = [
            ShieldRow(kind, subject, action, reason, who.username, who.organisation, at)
            for subject in sorted(ids)
        ]
        with self.lock:
            self.client.insert(SHIELDS, rows, column_names=ShieldRow._fields)
        return at

    # Break-glass ------------------------------------------------------------------------------
    def grant(
        self,
        who: Principal,
        kind: SubjectKind,
        subject_id: str,
        shield: Shield,
        reason: str,
        purpose: str,
        minutes: int,
    ) -> Grant:
        now = datetime.now(UTC)
        row = BreakGlassRow(
            "G" + secrets.token_hex(16),
            who.username,
            who.organisation,
            who.role,
            kind,
            subject_id,
            list(shield.owners),
            reason,
            purpose,
            now,
            now + timedelta(minutes=minutes),
        )
        with self.lock:
            self.client.insert(BREAK_GLASS, [row], column_names=BreakGlassRow._fields)
        return Grant(row.grant_id, kind, subject_id, reason, now, row.expires_at)

    def granted(self, who: Principal, kind: SubjectKind, ids: Sequence[str]) -> Grant | None:
        """The user's unexpired grant to any of these ids of one subject (the latest to
        expire), if they have one."""
        rows = self.rows(
            "SELECT grant_id, subject_id, reason, granted_at, expires_at FROM "  # noqa: S608 - constant names
            + BREAK_GLASS
            + " WHERE username = {user:String} AND subject_kind = {kind:String} "
            "AND subject_id IN {ids:Array(String)} AND expires_at > now64(3) "
            "ORDER BY expires_at DESC LIMIT 1",
            {"user": who.username, "kind": kind, "ids": list(ids)},
        )
        if not rows:
            return None
        grant_id, subject, reason, granted_at, expires_at = rows[0]
        return Grant(str(grant_id), kind, str(subject), str(reason), granted_at, expires_at)
