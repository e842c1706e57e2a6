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
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Callable
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

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint, including one written before late evidence was judged: its
        sliding cool-downs become the periods their last alerts fell in."""
        last_fired = state.pop("last_fired", None)
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
        seen = _Seen(
            observation.occurred_at,
            observation.event_id,
            observation.agency,
            observation.event_type,
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

    # Internals --------------------------------------------------------------------------------
    def _remember_person(self, observation: Observation) -> bool:
        """Note what the record says about whether its person is a child; True when that
        may make them a child at some time they were not before."""
        born = observation.date_of_birth
        status = observation.case_status if observation.agency == CHILDREN_SOCIAL_CARE else None
        if born is None and status is None:
            return False
        person = self.people.setdefault(observation.person_id, _Person())
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
            alert = self._window(rule, kind, subject, timeline, end, period, cause)
            if alert is not None:
                fired = self.fired.setdefault((rule.id, subject), set())
                fired.add(period)
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
    ) -> Alert | None:
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
        digest = hashlib.blake2b(
            f"{rule.id}|{subject}|{_period_start(rule, period, end).isoformat()}".encode(),
            digest_size=8,
        ).hexdigest()
        raised_at = self.clock()
        late = _late_note(kind, end, _end_event(self._ends_at(rule), timeline, end), cause)
        return Alert(
            alert_id=f"AL{digest}",
            rule_id=rule.id,
            severity=rule.severity,
            subject_kind=kind.upper(),
            subject_id=subject,
            window_start=start,
            window_end=end,
            counts_by_agency=dict(sorted(counts.items())),
            evidence_event_ids=tuple(s.event_id for s in inside),
            summary=rule.summary if late is None else f"{rule.summary} — raised late: {late}",
            raised_at=raised_at,
        )

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
