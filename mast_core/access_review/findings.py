"""Judging the audit log against the unusual-access rules.

Each rule reads one user's look-ups in time order through a sliding window: every span of
the rule's window that counts enough is a burst, and overlapping bursts are one finding,
anchored at the entry that first reached the threshold. So an entry just before a burst
cannot hide it, a finding keeps its id as later entries join it (the audit only grows at
its end), and the same log always gives the same findings. A burst that starts within one
window of the start of what was read is left out: entries before it may be missing, and it
would come back under another id. Rules count people, not ids (a page view names every id
merged into the person). What MAST knows about the people looked at (an open case held by
the user's organisation, an alert, their family names) comes from the caller through
``Knowledge``: this module reads no database.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from mast_core.access_review.rules import DAYS, AccessRule, AccessRules, WorkingHours
from mast_core.normalise.names import name_parts


@dataclass(frozen=True)
class LookUps:
    """The audit actions the rules read, named by the API that records them: searches,
    person page views (any page that shows one person's records), and other look-ups
    (address pages, histories). Anything else in the audit is not a look-up."""

    searches: frozenset[str]
    person_views: frozenset[str]
    others: frozenset[str] = frozenset()

    @property
    def all(self) -> frozenset[str]:
        return self.searches | self.person_views | self.others


@dataclass(frozen=True)
class Access:
    """One audit entry, as the rules need it."""

    audit_id: str
    at: datetime
    username: str
    organisation: str
    action: str
    outcome: str
    person_ids: tuple[str, ...] = ()
    address_ids: tuple[str, ...] = ()


class Knowledge(Protocol):
    """What the rules ask about the people and users in the entries."""

    def person_of(self, person_id: str) -> str:
        """The person an id belongs to now: a page view names every id merged into the
        person, and the rules count people, not ids."""
        ...

    def involved(self, organisation: str, person_id: str, at: datetime) -> bool:
        """Whether, at ``at``, ``organisation`` held an open case for the person, or the
        person had an alert: a reason to look them up."""
        ...

    def family_names(self, person_id: str) -> Iterable[str]:
        """The family names on the person's records."""
        ...

    def user_family_name(self, username: str) -> str | None:
        """The user's own family name, if MAST knows it."""
        ...


@dataclass(frozen=True)
class Finding:
    finding_id: str
    rule_id: str
    summary: str
    username: str
    organisation: str
    first_at: datetime
    last_at: datetime
    audit_ids: tuple[str, ...]
    """The entries behind the finding, oldest first."""
    person_ids: tuple[str, ...]
    """The people concerned (as the entries name them), for the reviewer to see whom."""
    count: int
    """What the rule counted: distinct people, look-ups or searches."""


def finding_id(rule_id: str, username: str, anchor: str) -> str:
    """The same id every time for the same rule, user and first entry, so that a reviewer's
    outcome stays with it as the log grows."""
    digest = hashlib.sha256(f"{rule_id}\x1f{username}\x1f{anchor}".encode()).hexdigest()
    return "F" + digest[:32]


Counted = Callable[[Access], Sequence[str]]
"""What an entry counts for under one rule (people, or the entry itself); empty: nothing."""


def review(
    rules: AccessRules,
    entries: Iterable[Access],
    knowledge: Knowledge,
    look_ups: LookUps,
    since: datetime | None = None,
) -> list[Finding]:
    """Every finding the rules make of ``entries`` (all the look-ups from ``since`` on),
    newest first."""
    by_user: dict[str, list[Access]] = defaultdict(list)
    for entry in entries:
        if entry.outcome == "shown" and entry.action in look_ups.all:
            by_user[entry.username].append(entry)
    findings: list[Finding] = []
    for username in sorted(by_user):
        mine = sorted(by_user[username], key=lambda e: (e.at, e.audit_id))
        for rule in rules.rules:
            found = _judge(rule, rules.working_hours, mine, knowledge, look_ups)
            earliest = since + timedelta(minutes=rule.window_minutes) if since else None
            findings.extend(f for f in found if earliest is None or f.first_at >= earliest)
    findings.sort(key=lambda f: (f.last_at, f.finding_id), reverse=True)
    return findings


def _judge(
    rule: AccessRule,
    hours: WorkingHours,
    entries: list[Access],
    knowledge: Knowledge,
    look_ups: LookUps,
) -> list[Finding]:
    if rule.kind == "shared_surname":
        return _shared_surname(rule, entries, knowledge, look_ups)
    counted: Counted
    if rule.kind == "views_without_involvement":

        def counted(entry: Access) -> Sequence[str]:
            if entry.action not in look_ups.person_views:
                return ()
            people = {knowledge.person_of(p) for p in entry.person_ids}
            return sorted(
                p for p in people if not knowledge.involved(entry.organisation, p, entry.at)
            )

    elif rule.kind == "out_of_hours_burst":
        zone = ZoneInfo(hours.timezone)

        def counted(entry: Access) -> Sequence[str]:
            return () if _working(entry.at.astimezone(zone), hours) else (entry.audit_id,)

    else:  # empty_searches

        def counted(entry: Access) -> Sequence[str]:
            searched = entry.action in look_ups.searches
            return (
                (entry.audit_id,)
                if searched and not (entry.person_ids or entry.address_ids)
                else ()
            )

    return _bursts(rule, entries, counted, knowledge)


def _working(local: datetime, hours: WorkingHours) -> bool:
    return DAYS[local.weekday()] in hours.days and hours.start <= local.time() < hours.end


def _bursts(
    rule: AccessRule, entries: list[Access], counted: Counted, knowledge: Knowledge
) -> list[Finding]:
    """Findings from a sliding window: every span of ``window_minutes`` (an entry and those
    less than the window before it) that counts ``at_least`` is a burst; overlapping bursts
    are one finding, anchored at the entry that first reached the threshold, so an entry
    before a burst cannot hide it and the id stays as later entries join."""
    window = timedelta(minutes=rule.window_minutes)
    marked = [(entry, keys) for entry in entries if (keys := counted(entry))]
    findings: list[Finding] = []
    held: Counter[str] = Counter()
    distinct = 0
    start = 0
    run: tuple[int, int, Access] | None = None  # first index, last index, anchor

    def close() -> None:
        if run is not None:
            first, last, anchor = run
            part = marked[first : last + 1]
            keys = {k for _, ks in part for k in ks}
            findings.append(_finding(rule, [e for e, _ in part], len(keys), anchor, knowledge))

    for end, (entry, keys) in enumerate(marked):
        for key in keys:
            distinct += held[key] == 0
            held[key] += 1
        while marked[start][0].at <= entry.at - window:
            for key in marked[start][1]:
                held[key] -= 1
                distinct -= held[key] == 0
            start += 1
        if distinct < rule.at_least:
            continue
        if run is not None and start <= run[1]:
            run = (run[0], end, run[2])
        else:
            close()
            run = (start, end, entry)
    close()
    return findings


def _shared_surname(
    rule: AccessRule, entries: list[Access], knowledge: Knowledge, look_ups: LookUps
) -> list[Finding]:
    if not entries:
        return []
    own = set(name_parts(knowledge.user_family_name(entries[0].username)))
    if not own:
        return []
    views: dict[str, list[Access]] = defaultdict(list)
    for entry in entries:
        if entry.action not in look_ups.person_views:
            continue
        for person in {knowledge.person_of(p) for p in entry.person_ids}:
            names = {part for name in knowledge.family_names(person) for part in name_parts(name)}
            if own & names:
                views[person].append(entry)
    return [
        _finding(rule, seen, 1, seen[0], knowledge, anchor=f"person:{person}")
        for person, seen in views.items()
    ]


def _finding(
    rule: AccessRule,
    entries: list[Access],
    count: int,
    first: Access,
    knowledge: Knowledge,
    *,
    anchor: str | None = None,
) -> Finding:
    people = tuple(dict.fromkeys(knowledge.person_of(p) for e in entries for p in e.person_ids))
    return Finding(
        finding_id=finding_id(rule.id, first.username, anchor or first.audit_id),
        rule_id=rule.id,
        summary=rule.summary,
        username=first.username,
        organisation=first.organisation,
        first_at=entries[0].at,
        last_at=entries[-1].at,
        audit_ids=tuple(e.audit_id for e in entries),
        person_ids=people,
        count=count,
    )
