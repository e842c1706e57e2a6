"""Escalation detection: counts per person and per address over sliding windows of event
time, by agency and event type, as the rules say.

Every rule is judged by when things happened (``occurred_at``), never by the order they
arrive in. Partners' feeds arrive out of order (a nightly extract, a new partner's
backfill), so evidence that arrives late judges again every window it bears on, and an
alert it completes is raised then, its summary saying it was raised late and why. Given the
same events (and the same identities), the same alerts are raised whatever order the events
arrive in; docs/alerts.md ("Arrival order") states the guarantee and its limits:

- A window ends at each event its rule counts (for a rule with a ``trigger``, at each
  triggering event) and holds the counted events of the ``window_days`` before it.
- Whether someone is a child is judged at the window's end: under 18 by any date of birth
  their records carry, or open to children's social care by the latest case status recorded
  at or before that time. Anyone with a record at an address lives there, whenever the
  record is from.
- A rule's cool-down is a fixed grid of event time: periods of ``cooldown_days`` counted from
  1 January 1970 (UTC). A rule raises at most one alert for one subject in one period, and
  the alert's id derives from the rule, the subject and the period, so it is the same alert
  whichever of the period's windows the evidence completed first.
- Windows ending more than ``late_days`` (the rules file) before the newest event known for
  their subject are not judged again: their evidence is no longer held.

A merge of two identities joins their timelines and judges the merged person's windows again.
A steward's split of a wrong merge separates them again (``split``): each record goes back to
the person it belongs to now, an alert whose evidence the split leaves with two people no
longer stands (the sink withdraws it), and each person's windows are judged again on their
own records, so that an alert one person's own evidence still meets is raised anew for that
person, under a new id, saying it was raised after a correction (docs/alerts.md,
"Corrections").
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any

from mast_core.escalation.rules import EventFilter, Rise, Rule, RuleSet, load_rules
from mast_core.events import event_key
from mast_core.seen_events import SeenEvents

CHILD_AGE = 18
CHILDREN_SOCIAL_CARE = "CHILDREN_SOCIAL_CARE"
OPEN = "OPEN"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Where the cool-down grid starts."""
LATE_AFTER = timedelta(days=7)
"""An alert raised this long after the event that ends its window says it was raised late,
even when that event was the newest known for its subject."""
_AGENCY_WORDS = {"CHILDREN_SOCIAL_CARE": "children's social care", "FIRE": "fire and rescue"}


def _utc_now() -> datetime:
    """The default clock; a module function rather than a lambda so engine state pickles."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Observation:
    """One resolved interaction, as escalation needs it."""

    event_id: str
    occurred_at: datetime
    agency: str
    event_type: str | None
    person_id: str
    address_id: str | None
    date_of_birth: date | None = None
    case_status: str | None = None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A record its partner withdrew, as escalation needs it to forget the record
    (``EscalationEngine.forget``)."""

    agency: str
    event_id: str
    person_id: str
    """Whose record it was, as the engine knows them: before any merge it bridged is undone."""
    address_id: str | None
    date_of_birth: date | None
    births_left: frozenset[date]
    """The dates of birth the person's remaining records carry (all of them, whichever of
    the person's merges the retraction undoes): the withdrawn one goes unless it is here."""
    homes_left: frozenset[str]
    """The addresses the person's remaining records were written at: likewise."""
    withdrawn_by: str
    """The retraction's id: an alert raised again in a period the withdrawn record's alert
    held takes an id derived from it too."""
    detached: bool = False
    """Not withdrawn by its partner but detached from the person by a steward (the record
    is someone else's): alerts raised again say so."""


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: str
    rule_id: str
    severity: str
    subject_kind: str
    """PERSON or ADDRESS."""
    subject_id: str
    window_start: datetime
    window_end: datetime
    counts_by_agency: dict[str, int]
    evidence_event_ids: tuple[str, ...]
    summary: str
    raised_at: datetime

    def to_record(self) -> dict[str, Any]:
        """The Avro ``alert`` record."""
        return {
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "severity": self.severity,
            "subject_kind": self.subject_kind,
            "subject_id": self.subject_id,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "counts_by_agency": dict(self.counts_by_agency),
            "evidence_event_ids": list(self.evidence_event_ids),
            "summary": self.summary,
            "raised_at": self.raised_at,
        }


@dataclass(order=True, frozen=True, slots=True)
class _Seen:
    occurred_at: datetime
    event_id: str
    agency: str
    event_type: str | None = field(compare=False)
    held_as: str = field(default="", compare=False)
    """The person id the record was resolved to when it was observed ('' in a checkpoint from
    before splits separated timelines): a split asks whom that id belongs to now, as the
    sink's person aliases do, so the engine and the pages agree on whose record it is."""

    def __setstate__(self, state: Any) -> None:
        """Restore a pickled event, including one pickled before ``held_as`` was kept."""
        values = list(state) + [""] * (5 - len(state))
        for name, value in zip(
            ("occurred_at", "event_id", "agency", "event_type", "held_as"), values, strict=True
        ):
            object.__setattr__(self, name, value)


_WHEN = attrgetter("occurred_at")
"""Timelines are searched by time alone (``bisect``'s ``key``)."""
_ORDER = attrgetter("occurred_at", "event_id", "agency")
"""And kept in this order, so that events at the same time are in the same order whatever
order they arrived in."""


@dataclass(slots=True)
class _Person:
    """What says whether a person is a child at a given time: every date of birth their
    records carry, and their children's social care case statuses in event-time order."""

    births: tuple[date, ...] = ()
    statuses: tuple[tuple[datetime, str, bool], ...] = ()
    """(occurred_at, event id, open), sorted."""

    def is_child(self, at: datetime) -> bool:
        if self.statuses:
            index = bisect.bisect_right(self.statuses, (at, "\uffff", True))
            if index and self.statuses[index - 1][2]:
                return True
        day = at.date()
        return any(_age(born, day) < CHILD_AGE for born in self.births)

    def could_be_child(self, since: datetime, until: datetime) -> bool:
        """Whether ``is_child`` may hold at some time between the two: cheap, so that a
        record of an adult does not make every window at their address be judged again."""
        if any(is_open and when <= until for when, _id, is_open in self.statuses):
            return True
        day = since.date()
        return any(_age(born, day) < CHILD_AGE for born in self.births)

    def absorb(self, other: _Person) -> None:
        self.births = tuple(sorted(set(self.births) | set(other.births)))
        self.statuses = tuple(sorted(set(self.statuses) | set(other.statuses)))

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.births, self.statuses)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):  # a checkpoint from before late evidence was judged
            born = state.get("date_of_birth")
            self.births = (born,) if born else ()
            when = state.get("case_status_at")
            is_open = bool(state.get("open_to_childrens_services"))
            self.statuses = ((when, "", is_open),) if when else ()
        else:
            self.births, self.statuses = state


@dataclass(slots=True)
class _Part:
    """One identity's own share of a merged person: what its own records said about whether
    it is a child, and the addresses they were at. Kept only for merged people, so that a
    split can give each identity back what is its own."""

    person: _Person
    homes: set[str]


@dataclass
class _Cause:
    """What made the engine judge a window: an arriving event or a merge. Not kept."""

    arrived: datetime
    seen: _Seen | None = None
    """The arriving event; None for a merge."""
    later: dict[str, bool] = field(default_factory=dict)
    """Subject kind → whether the subject already had events that happened after it."""
    child: bool = False
    """Judged because the event shows that a child lives at the address."""
    corrected: bool = False
    """Judged because a steward's split separated two people wrongly linked."""
    withdrawn: bool = False
    """Judged because a partner withdrew a record (``forget``)."""


class EscalationEngine:
    def __init__(
        self,
        rules: RuleSet | None = None,
        clock: Callable[[], datetime] | None = None,
        seen: SeenEvents | None = None,
    ) -> None:
        self.rules = rules or load_rules()
        self.clock = clock or _utc_now
        self._settle_rules()
        self.timelines: dict[tuple[str, str], list[_Seen]] = {}
        self.people: dict[str, _Person] = {}
        self.residents: dict[str, set[str]] = {}
        self.addresses_of: dict[str, set[str]] = {}
        self.fired: dict[tuple[str, str], set[int]] = {}
        """(rule id, subject) → the cool-down periods it has raised an alert in."""
        self.seen_events = seen if seen is not None else SeenEvents()
        """Events already observed; the resolution stage shares its own, so that one compact
        structure remembers every event (mast_core.seen_events)."""
        self.parts: dict[str, dict[str, _Part]] = {}
        """Merged person → each identity in it → that identity's own share (``_Part``)."""
        self.alerted: dict[tuple[str, str], list[tuple[int, tuple[_Seen, ...]]]] = {}
        """(rule id, person) → (cool-down period, evidence) of each person alert raised: a
        split tells from the evidence which alerts still stand, and for whom."""
        self.renewed: dict[tuple[str, str], dict[int, str]] = {}
        """(rule id, person) → period → the merge whose split withdrew an alert in that
        period: an alert raised in it again gets an id of its own (``_window``)."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint, including one written before late evidence was judged: its
        sliding cool-downs become the periods their last alerts fell in; and one written
        before splits were applied here, which has no parts, alerts' evidence or renewals."""
        last_fired = state.pop("last_fired", None)
        for name in ("parts", "alerted", "renewed"):
            state.setdefault(name, {})
        self.__dict__.update(state)
        if "late_days" not in self.rules.__dict__:  # a rule set pickled before late_days
            self.rules = RuleSet(rules=self.rules.rules)
        self._settle_rules()
        if "fired" not in self.__dict__:
            rules = {rule.id: rule for rule in self.rules.rules}
            self.fired = {}
            for (rule_id, subject), end in (last_fired or {}).items():
                if rule_id in rules:
                    period = _period(rules[rule_id], end)
                    self.fired.setdefault((rule_id, subject), set()).add(period)

    def _settle_rules(self) -> None:
        """What follows from the rules: how long events are kept, and which rules judge
        which subjects."""
        self.late = timedelta(days=self.rules.late_days)
        self.retention = timedelta(days=self.rules.longest_days + self.rules.late_days + 1)
        """Each subject's events are kept this long before its newest: every window that
        may still be judged (``late``) finds all its evidence and baseline."""
        self.rules_for = {
            kind: tuple(rule for rule in self.rules.rules if rule.subject == kind)
            for kind in ("person", "address")
        }
        self.child_rules = tuple(
            rule for rule in self.rules_for["address"] if rule.requires == "child_resident"
        )

    # Input ------------------------------------------------------------------------------------
    def observe(self, observation: Observation) -> list[Alert]:
        """Record one interaction and return the alerts it raises (usually none). A repeated
        event (the same id from the same agency) changes nothing."""
        key = event_key(observation.agency, observation.event_id)
        if key in self.seen_events:
            return []
        self.seen_events.add(key)
        person_id, address_id = observation.person_id, observation.address_id
        childhood = self._remember_person(observation)
        new_home = False
        if address_id:
            residents = self.residents.setdefault(address_id, set())
            if person_id not in residents:
                residents.add(person_id)
                self.addresses_of.setdefault(person_id, set()).add(address_id)
                new_home = True
        if self.parts and person_id in self.parts:  # a merged person: its own share grows
            self._remember_part(self.parts[person_id], observation)
        seen = _Seen(
            observation.occurred_at,
            observation.event_id,
            observation.agency,
            observation.event_type,
            person_id,
        )
        cause = _Cause(self.clock(), seen)
        alerts = []
        for kind, subject in (("person", person_id), ("address", address_id)):
            if subject is None:
                continue
            timeline = self.timelines.setdefault((kind, subject), [])
            newest = timeline[-1].occurred_at if timeline else None
            cause.later[kind] = newest is not None and newest > seen.occurred_at
            # an event at the same time as the newest may complete the newest's windows too
            known_since = newest is not None and newest >= seen.occurred_at
            bisect.insort(timeline, seen, key=_ORDER)
            self._prune(timeline)
            for rule in self.rules_for[kind]:
                ends = self._ends_touched(rule, timeline, seen, known_since)
                if ends:
                    alerts.extend(self._judge(rule, kind, subject, ends, cause))
        homes = set(self.addresses_of.get(person_id, ())) if childhood else set()
        if new_home and address_id:
            homes.add(address_id)
        if homes:
            child_cause = _Cause(cause.arrived, seen, cause.later, child=True)
            for home in sorted(homes):
                if self._may_be_child_at(person_id, home):
                    alerts.extend(self._judge_child_rules(home, child_cause))
        return alerts

    def merge(self, surviving_person_id: str, retired_person_id: str) -> list[Alert]:
        """Two identities are one person: join their timelines, what says whether they are a
        child, their addresses and their alerts' periods, and judge again the merged
        person's windows and, when the person may be a child, their addresses'."""
        survivor, retired = ("person", surviving_person_id), ("person", retired_person_id)
        parts = self.parts.pop(surviving_person_id, None) or {
            surviving_person_id: self._own_part(surviving_person_id)
        }
        brought = self.parts.pop(retired_person_id, None)
        parts.update(brought or {retired_person_id: self._own_part(retired_person_id)})
        self.parts[surviving_person_id] = parts
        gone = self.timelines.pop(retired, [])
        timeline = self.timelines.setdefault(survivor, [])
        if gone:
            timeline.extend(gone)
            timeline.sort(key=_ORDER)
            self._prune(timeline)
        gone_person = self.people.pop(retired_person_id, None)
        if gone_person is not None:
            self.people.setdefault(surviving_person_id, _Person()).absorb(gone_person)
        moved = self.addresses_of.pop(retired_person_id, set())
        for address_id in moved:
            residents = self.residents[address_id]
            residents.discard(retired_person_id)
            residents.add(surviving_person_id)
        self.addresses_of.setdefault(surviving_person_id, set()).update(moved)
        for key in [k for k in self.fired if k[1] == retired_person_id]:
            self.fired.setdefault((key[0], surviving_person_id), set()).update(self.fired.pop(key))
        for key in [k for k in self.alerted if k[1] == retired_person_id]:
            self.alerted.setdefault((key[0], surviving_person_id), []).extend(self.alerted.pop(key))
        for key in [k for k in self.renewed if k[1] == retired_person_id]:
            self.renewed.setdefault((key[0], surviving_person_id), {}).update(self.renewed.pop(key))
        cause = _Cause(self.clock())
        alerts = []
        for rule in self.rules_for["person"]:
            if timeline:
                ends = self._candidate_ends(rule, timeline, self._oldest_judged(timeline))
                alerts.extend(self._judge(rule, "person", surviving_person_id, ends, cause))
        for home in sorted(self.addresses_of[surviving_person_id]):
            if self._may_be_child_at(surviving_person_id, home):
                alerts.extend(self._judge_child_rules(home, cause))
        return alerts

    def split(
        self,
        kept_person_id: str,
        restored_person_id: str,
        owner_of: Callable[[str], str],
        merge_id: str,
    ) -> list[Alert]:
        """A steward split the merge ``merge_id``: separate the merged person's timeline,
        what says whether each is a child, their addresses and their alerts' periods, and
        judge each person's windows again on their own records.

        ``owner_of`` says whom a person id a record was resolved to belongs to now (the
        resolver's ``person_of``, after the split): a record goes to the restored person
        when its id does, and stays otherwise. An alert of the merged person whose evidence
        is now two people's no longer stands (the sink withdraws it): its cool-down period
        is free again, and an alert one person's own records still meet in it is raised for
        that person, under a new id (it derives from ``merge_id`` too), saying it was raised
        after a correction. An alert whose evidence is all one person's stands, for that
        person. Address alerts are not judged again: a split can only take a child away
        from an address, never bring one (docs/alerts.md, "Corrections").
        """
        kept, restored = kept_person_id, restored_person_id

        def whose(held_as: str) -> str:
            if not held_as:  # observed before records said whose they were: it stays
                return kept
            now = owner_of(held_as)
            return restored if now == restored else kept

        key = ("person", kept)
        mine: list[_Seen] = []
        theirs: list[_Seen] = list(self.timelines.pop(("person", restored), []))
        for seen in self.timelines.pop(key, []):
            (theirs if whose(seen.held_as) == restored else mine).append(seen)
        for who, timeline in ((kept, mine), (restored, theirs)):
            if timeline:
                timeline.sort(key=_ORDER)
                self.timelines[("person", who)] = timeline
        self._split_parts(kept, restored, whose)
        for rule in self.rules_for["person"]:
            self._split_periods(rule, kept, restored, whose, merge_id)
        cause = _Cause(self.clock(), corrected=True)
        alerts = []
        for who in (kept, restored):
            timeline = self.timelines.get(("person", who), [])
            if not timeline:
                continue
            since = self._oldest_judged(timeline)
            for rule in self.rules_for["person"]:
                ends = self._candidate_ends(rule, timeline, since)
                alerts.extend(self._judge(rule, "person", who, ends, cause))
        return alerts

    def forget(
        self,
        withdrawal: Withdrawal,
        splits: Sequence[tuple[str, str, str]] = (),
        owner_of: Callable[[str], str] | None = None,
    ) -> list[Alert]:
        """A partner withdrew a record: take it out of everything the engine keeps, undo the
        merges it bridged, and judge again what it bore on. Returns the alerts raised anew.

        1. The event leaves its person's and its address's timelines, and its case status
           the person's (and each of a merged person's shares); its date of birth and its
           address go too unless another of the person's records carries them
           (``Withdrawal.births_left``, ``homes_left``), and with the address the person
           stops being its resident: a withdrawn record no longer makes a child live there.
        2. Every alert of the person or the address whose evidence held the event no longer
           stands (the sink withdraws it): its cool-down period is free again, and an alert
           raised in it takes an id derived from the retraction as well
           (``Withdrawal.withdrawn_by``), never the withdrawn one's.
        3. ``splits`` — (kept, restored, merge id) of each merge the record bridged, undone
           by the resolver, latest first — separate the person as a steward's split does
           (``split``; ``owner_of`` is the resolver's ``person_of``, after the retraction).
        4. The windows of each person this leaves, and of the address, that may still be
           judged are judged again on the records left: an alert they still meet is raised,
           saying it was raised after a correction.

        Everything is keyed by event time and applied in the log's order, so a replay
        raises the same alerts with the same ids. Address alerts that stood on the
        withdrawn record's making a child live there, without it among their evidence,
        stand (as after a split): a steward or the practitioner closes them.
        """
        w = withdrawal
        person_id, address_id = w.person_id, w.address_id
        for kind, subject in (("person", person_id), ("address", address_id)):
            if not subject:
                continue
            timeline = self.timelines.get((kind, subject))
            if timeline:
                timeline[:] = [
                    s for s in timeline if not (s.event_id == w.event_id and s.agency == w.agency)
                ]
                if not timeline:
                    del self.timelines[(kind, subject)]
        shares = [part.person for part in self.parts.get(person_id, {}).values()]
        person = self.people.get(person_id)
        gone_birth = w.date_of_birth not in w.births_left and w.date_of_birth is not None
        for held in [person, *shares] if person is not None else shares:
            if w.agency == CHILDREN_SOCIAL_CARE:
                held.statuses = tuple(s for s in held.statuses if s[1] != w.event_id)
            if gone_birth:
                held.births = tuple(b for b in held.births if b != w.date_of_birth)
        if person is not None and not person.births and not person.statuses:
            del self.people[person_id]
        if address_id and address_id not in w.homes_left:
            homes = self.addresses_of.get(person_id)
            if homes is not None:
                homes.discard(address_id)
                if not homes:
                    del self.addresses_of[person_id]
            residents = self.residents.get(address_id)
            if residents is not None:
                residents.discard(person_id)
                if not residents:
                    del self.residents[address_id]
            for part in self.parts.get(person_id, {}).values():
                part.homes.discard(address_id)
        for kind, subject in (("person", person_id), ("address", address_id)):
            if subject:
                for rule in self.rules_for[kind]:
                    self._free_periods(rule, subject, w)
        alerts: list[Alert] = []
        whom = owner_of or (lambda held: held)
        people = {person_id}
        for kept, restored, merge_id in splits:
            alerts.extend(self.split(kept, restored, whom, merge_id))
            people |= {kept, restored}
        cause = _Cause(self.clock(), withdrawn=not w.detached, corrected=w.detached)
        for who in sorted({whom(p) for p in people}):
            timeline = self.timelines.get(("person", who))
            if timeline:
                since = self._oldest_judged(timeline)
                for rule in self.rules_for["person"]:
                    ends = self._candidate_ends(rule, timeline, since)
                    alerts.extend(self._judge(rule, "person", who, ends, cause))
        timeline = self.timelines.get(("address", address_id)) if address_id else None
        if address_id and timeline:
            since = self._oldest_judged(timeline)
            for rule in self.rules_for["address"]:
                ends = self._candidate_ends(rule, timeline, since)
                alerts.extend(self._judge(rule, "address", address_id, ends, cause))
        return alerts

    # Internals --------------------------------------------------------------------------------
    def _free_periods(self, rule: Rule, subject: str, withdrawal: Withdrawal) -> None:
        """The subject's alerts of ``rule`` whose evidence held the withdrawn event no longer
        stand: their periods are free again, renewed under the retraction's id. An alert
        raised before its evidence was kept is not known to hold it: its period stays."""
        key = (rule.id, subject)
        records = self.alerted.get(key)
        if not records:
            return
        event = (withdrawal.event_id, withdrawal.agency)
        kept: list[tuple[int, tuple[_Seen, ...]]] = []
        freed: list[tuple[int, tuple[_Seen, ...]]] = []
        for period, evidence in records:
            held = any((s.event_id, s.agency) == event for s in evidence)
            (freed if held else kept).append((period, evidence))
        if not freed:
            return
        if kept:
            self.alerted[key] = kept
        else:
            del self.alerted[key]
        fired = self.fired.get(key, set())
        renewed = self.renewed.setdefault(key, {})
        for period, _evidence in freed:
            if not any(period == other for other, _ in kept):
                fired.discard(period)
            renewed[period] = withdrawal.withdrawn_by
        if not fired:
            self.fired.pop(key, None)

    def _own_part(self, person_id: str) -> _Part:
        """An unmerged person's share, as a merge is about to join it to another: all it
        has is its own."""
        person = self.people.get(person_id)
        own = _Person(person.births, person.statuses) if person is not None else _Person()
        return _Part(own, set(self.addresses_of.get(person_id, ())))

    def _remember_part(self, parts: dict[str, _Part], observation: Observation) -> None:
        """A record resolved to a merged person is the surviving identity's own."""
        part = parts.get(observation.person_id)
        if part is None:
            part = parts[observation.person_id] = _Part(_Person(), set())
        self._note(part.person, observation)
        if observation.address_id:
            part.homes.add(observation.address_id)

    def _split_parts(self, kept: str, restored: str, whose: Callable[[str], str]) -> None:
        """Give each of the two what its own identities' records said: whether they are a
        child, and where they live; residents of each address follow."""
        parts = self.parts.pop(kept, None)
        before = set(self.addresses_of.get(kept, ())) | set(self.addresses_of.get(restored, ()))
        if parts is None:
            # Merged before parts were kept: who brought what is not known, so each keeps
            # all of it (a child wrongly kept errs towards raising, never towards missing).
            person = self.people.get(kept)
            if person is not None:
                self.people[restored] = _Person(person.births, person.statuses)
            parts = {
                kept: _Part(person or _Person(), set(before)),
                restored: _Part(person or _Person(), set(before)),
            }
        groups: dict[str, dict[str, _Part]] = {kept: {}, restored: {}}
        for identity, part in parts.items():
            groups[whose(identity)][identity] = part
        for who, group in groups.items():
            person, homes = _Person(), set()
            for part in group.values():
                person.absorb(part.person)
                homes |= part.homes
            if person.births or person.statuses:
                self.people[who] = person
            else:
                self.people.pop(who, None)
            if homes:
                self.addresses_of[who] = homes
            else:
                self.addresses_of.pop(who, None)
            if len(group) > 1:
                self.parts[who] = group
        for address_id in before:
            residents = self.residents.setdefault(address_id, set())
            for who in (kept, restored):
                if address_id in self.addresses_of.get(who, ()):
                    residents.add(who)
                else:
                    residents.discard(who)

    def _split_periods(
        self, rule: Rule, kept: str, restored: str, whose: Callable[[str], str], merge_id: str
    ) -> None:
        """Which of the merged person's alerts of ``rule`` still stand, and for whom: one
        whose evidence is one person's stands for that person; one whose evidence is two
        people's does not, and its period is free again for both, an alert raised in it
        taking an id derived from ``merge_id`` too, never the withdrawn one's. A period
        whose alert's evidence is not known (raised before evidence was kept) stays taken
        for both: nothing is raised twice."""
        periods = self.fired.pop((rule.id, kept), set())
        periods |= self.fired.pop((rule.id, restored), set())
        records = self.alerted.pop((rule.id, kept), [])
        records += self.alerted.pop((rule.id, restored), [])
        standing: dict[str, set[int]] = {kept: set(), restored: set()}
        renewed = self.renewed.pop((rule.id, kept), {})
        renewed.update(self.renewed.pop((rule.id, restored), {}))
        known = set()
        for period, evidence in records:
            known.add(period)
            owners = {whose(seen.held_as) for seen in evidence}
            if len(owners) == 1:
                who = owners.pop()
                standing[who].add(period)
                self.alerted.setdefault((rule.id, who), []).append((period, evidence))
            else:
                renewed[period] = merge_id
        for who in (kept, restored):
            standing[who] |= periods - known
            if standing[who]:
                self.fired[(rule.id, who)] = standing[who]
            if renewed:  # which side a renewal came from is not known: both keep it
                self.renewed[(rule.id, who)] = dict(renewed)

    def _remember_person(self, observation: Observation) -> bool:
        """Note what the record says about whether its person is a child; True when that
        may make them a child at some time they were not before."""
        born = observation.date_of_birth
        status = observation.case_status if observation.agency == CHILDREN_SOCIAL_CARE else None
        if born is None and status is None:
            return False
        return self._note(self.people.setdefault(observation.person_id, _Person()), observation)

    @staticmethod
    def _note(person: _Person, observation: Observation) -> bool:
        """Add the record's date of birth and case status to ``person``; True when that may
        make them a child at some time they were not before."""
        born = observation.date_of_birth
        status = observation.case_status if observation.agency == CHILDREN_SOCIAL_CARE else None
        grew = False
        if born is not None and born not in person.births:
            person.births = (*person.births, born)
            grew = True
        if status is not None:
            record = (observation.occurred_at, observation.event_id, status == OPEN)
            statuses = list(person.statuses)
            bisect.insort(statuses, record)
            person.statuses = tuple(statuses)
            grew = grew or status == OPEN
        return grew

    def _prune(self, timeline: list[_Seen]) -> None:
        """Drop the events no window that may still be judged needs."""
        horizon = timeline[-1].occurred_at - self.retention
        if timeline[0].occurred_at < horizon:
            del timeline[: bisect.bisect_left(timeline, horizon, key=_WHEN)]

    def _oldest_judged(self, timeline: list[_Seen]) -> datetime:
        return timeline[-1].occurred_at - self.late

    @staticmethod
    def _ends_at(rule: Rule) -> EventFilter:
        """The events a rule's windows end at: its trigger's, or else the ones it counts."""
        return rule.trigger or rule.match

    def _candidate_ends(
        self, rule: Rule, timeline: list[_Seen], since: datetime, until: datetime | None = None
    ) -> list[datetime]:
        """The ends of the rule's windows from ``since`` to ``until`` (inclusive)."""
        ends_at = self._ends_at(rule)
        ends = []
        for index in range(bisect.bisect_left(timeline, since, key=_WHEN), len(timeline)):
            seen = timeline[index]
            if until is not None and seen.occurred_at > until:
                break
            if ends_at.accepts(seen.agency, seen.event_type):
                ends.append(seen.occurred_at)
        return ends

    def _ends_touched(
        self, rule: Rule, timeline: list[_Seen], seen: _Seen, later: bool
    ) -> list[datetime]:
        """The windows an arriving event bears on: its own (when the rule's windows end at
        it) and, when events that happened no earlier were known (``later``), every other
        window that counts it or, for a rise, whose baseline holds it (counted, or as the
        start of the subject's history there)."""
        at = seen.occurred_at
        ends = [at] if self._ends_at(rule).accepts(seen.agency, seen.event_type) else []
        if not later:
            return ends
        if rule.rise:
            reach = at + timedelta(days=rule.window_days + rule.rise.baseline_days)
        elif rule.match.accepts(seen.agency, seen.event_type):
            reach = at + timedelta(days=rule.window_days)
        else:
            return ends
        ends.extend(self._candidate_ends(rule, timeline, at, reach))
        return ends

    def _judge_child_rules(self, address_id: str, cause: _Cause) -> list[Alert]:
        """A child may now be known to live at the address (a new resident, or a record
        showing a resident is a child): judge again the windows of its rules that need one."""
        timeline = self.timelines.get(("address", address_id))
        if not timeline:
            return []
        alerts = []
        since = self._oldest_judged(timeline)
        for rule in self.child_rules:
            ends = self._candidate_ends(rule, timeline, since)
            if ends:
                alerts.extend(self._judge(rule, "address", address_id, ends, cause))
        return alerts

    def _may_be_child_at(self, person_id: str, address_id: str) -> bool:
        person = self.people.get(person_id)
        timeline = self.timelines.get(("address", address_id))
        if person is None or not timeline:
            return False
        return person.could_be_child(self._oldest_judged(timeline), timeline[-1].occurred_at)

    def _judge(
        self, rule: Rule, kind: str, subject: str, ends: list[datetime], cause: _Cause
    ) -> list[Alert]:
        """Judge the windows ending at ``ends``, earliest first, skipping those too old to
        judge and those in a cool-down period the rule has already raised an alert in."""
        timeline = self.timelines.get((kind, subject))
        if not timeline:
            return []
        oldest = self._oldest_judged(timeline)
        fired = self.fired.get((rule.id, subject), ())
        alerts = []
        for end in sorted(set(ends)) if len(ends) > 1 else ends:
            if end < oldest:
                continue
            period = _period(rule, end)
            if period in fired:
                continue
            judged = self._window(rule, kind, subject, timeline, end, period, cause)
            if judged is not None:
                alert, evidence = judged
                fired = self.fired.setdefault((rule.id, subject), set())
                fired.add(period)
                # a split asks whose evidence it was; a retraction, which alerts it was in
                self.alerted.setdefault((rule.id, subject), []).append((period, evidence))
                alerts.append(alert)
        return alerts

    def _window(
        self,
        rule: Rule,
        kind: str,
        subject: str,
        timeline: list[_Seen],
        end: datetime,
        period: int,
        cause: _Cause,
    ) -> tuple[Alert, tuple[_Seen, ...]] | None:
        """The alert the window ending at ``end`` raises, with its evidence, or None."""
        width = timedelta(days=rule.window_days)
        start = end - width
        inside = []
        for index in range(bisect.bisect_right(timeline, start, key=_WHEN), len(timeline)):
            s = timeline[index]
            if s.occurred_at > end:
                break
            if rule.match.accepts(s.agency, s.event_type):
                inside.append(s)
        if len(inside) < rule.at_least:
            return None
        if (
            rule.distinct_agencies_at_least
            and len({s.agency for s in inside}) < rule.distinct_agencies_at_least
        ):
            return None
        if rule.rise and not self._rising(rule, rule.rise, timeline, start, len(inside)):
            return None
        if rule.requires == "child_resident" and not self._child_lives_at(subject, end):
            return None
        counts = Counter(s.agency for s in inside)
        seed = f"{rule.id}|{subject}|{_period_start(rule, period, end).isoformat()}"
        renewed = self.renewed.get((rule.id, subject)) if self.renewed else None
        if renewed and period in renewed:
            # the period's alert was withdrawn by a split (a merge id) or a retraction (its
            # id): this one is another alert
            seed = f"{seed}|after split of {renewed[period]}"
        digest = hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()
        raised_at = self.clock()
        if cause.corrected or cause.withdrawn:
            summary = f"{rule.summary} — raised after a correction: {_corrected_note(cause)}"
        else:
            late = _late_note(kind, end, _end_event(self._ends_at(rule), timeline, end), cause)
            summary = rule.summary if late is None else f"{rule.summary} — raised late: {late}"
        alert = Alert(
            alert_id=f"AL{digest}",
            rule_id=rule.id,
            severity=rule.severity,
            subject_kind=kind.upper(),
            subject_id=subject,
            window_start=start,
            window_end=end,
            counts_by_agency=dict(sorted(counts.items())),
            evidence_event_ids=tuple(s.event_id for s in inside),
            summary=summary,
            raised_at=raised_at,
        )
        return alert, tuple(inside)

    def _rising(
        self, rule: Rule, rise: Rise, timeline: list[_Seen], start: datetime, count: int
    ) -> bool:
        """The window's count against the average per window over the baseline before it.

        Only the part of the baseline the subject's history covers is averaged over (from
        its first event in the baseline), and less than one window's worth of history
        judges nothing: a person first seen last week has no "usual" to rise above. Only
        events in the baseline are looked at, so the judgement never depends on how much
        older history happens to be held.
        """
        baseline_start = start - timedelta(days=rise.baseline_days)
        first = bisect.bisect_left(timeline, baseline_start, key=_WHEN)
        if first == len(timeline) or timeline[first].occurred_at > start:
            return False
        covered = start - timeline[first].occurred_at
        if covered < timedelta(days=rule.window_days):
            return False
        before = 0
        for index in range(first, len(timeline)):
            s = timeline[index]
            if s.occurred_at > start:
                break
            if s.occurred_at > baseline_start and rule.match.accepts(s.agency, s.event_type):
                before += 1
        average = before * rule.window_days / (covered / timedelta(days=1))
        return count >= rise.factor * average

    def _child_lives_at(self, address_id: str, at: datetime) -> bool:
        people = self.people
        for person_id in self.residents.get(address_id, ()):
            person = people.get(person_id)
            if person is not None and person.is_child(at):
                return True
        return False


def _period(rule: Rule, end: datetime) -> int:
    """The number of the rule's cool-down period that ``end`` falls in. Without a cool-down
    every window is a period of its own (numbered by its microsecond)."""
    since = end - EPOCH
    if rule.cooldown_days == 0:
        return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
    return since.days // rule.cooldown_days


def _period_start(rule: Rule, period: int, end: datetime) -> datetime:
    """When period number ``period`` starts; for a rule without a cool-down, ``end``."""
    if rule.cooldown_days == 0:
        return end
    return EPOCH + timedelta(days=period * rule.cooldown_days)


def _end_event(ends_at: EventFilter, timeline: list[_Seen], end: datetime) -> _Seen | None:
    """The event a window ends at."""
    for index in range(bisect.bisect_left(timeline, end, key=_WHEN), len(timeline)):
        seen = timeline[index]
        if seen.occurred_at > end:
            break
        if ends_at.accepts(seen.agency, seen.event_type):
            return seen
    return None


def _late_note(kind: str, end: datetime, ending: _Seen | None, cause: _Cause) -> str | None:
    """Why an alert is raised late, in words, or None when it is not: it is raised late
    when what completed it is not the newest event of its subject, arriving promptly (an
    event at the window's very end counts as the one that ends it)."""
    arrived = _day(cause.arrived)
    if cause.seen is None:
        return f"two identities were found on {arrived} to be one person"
    late = cause.seen
    if late.occurred_at == end:
        if cause.later.get(kind):
            where = "for this person" if kind == "person" else "at this address"
            return (
                f"{_describe(late)} of {_day(late.occurred_at)} arrived on {arrived}, "
                f"after later events {where}"
            )
        if cause.arrived - late.occurred_at > LATE_AFTER:
            return f"{_describe(late)} of {_day(late.occurred_at)} arrived on {arrived}"
        return None
    shows = ", which shows a child lives here," if cause.child else ""
    after = f", after {_describe(ending)} of {_day(ending.occurred_at)}" if ending else ""
    return f"{_describe(late)} of {_day(late.occurred_at)}{shows} arrived on {arrived}{after}"


def _corrected_note(cause: _Cause) -> str:
    """Why an alert is raised by a split or a retraction, in words."""
    if cause.withdrawn:
        return (
            f"a partner withdrew a record on {_day(cause.arrived)}, and the records left "
            "meet the rule"
        )
    return (
        f"records wrongly linked to another person's were separated on {_day(cause.arrived)}, "
        "and this person's own records meet the rule"
    )


def _describe(seen: _Seen) -> str:
    """In words: 'the police record (domestic abuse incident)'."""
    agency = _AGENCY_WORDS.get(seen.agency, seen.agency.lower().replace("_", " "))
    kind = f" ({seen.event_type.lower().replace('_', ' ')})" if seen.event_type else ""
    return f"the {agency} record{kind}"


def _day(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.day} {at:%b %Y}"


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
