"""Escalation detection: counts per person and per address over sliding windows of event
time, by agency and event type, as the rules say.

Windows are judged by when things happened (``occurred_at``), not when they arrived, so a
late or out-of-order event is placed where it belongs and the window it completes is
judged again. The same rule does not fire for the same subject again within its cool-down.
A merge of two identities joins their timelines and judges the merged person again.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mast_core.escalation.rules import Rise, Rule, RuleSet, load_rules
from mast_core.events import event_key
from mast_core.seen_events import SeenEvents

CHILD_AGE = 18
CHILDREN_SOCIAL_CARE = "CHILDREN_SOCIAL_CARE"


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
    agency: str = field(compare=False)
    event_type: str | None = field(compare=False)


@dataclass
class _Person:
    date_of_birth: date | None = None
    open_to_childrens_services: bool = False
    case_status_at: datetime | None = None


class EscalationEngine:
    def __init__(
        self,
        rules: RuleSet | None = None,
        clock: Callable[[], datetime] | None = None,
        seen: SeenEvents | None = None,
    ) -> None:
        self.rules = rules or load_rules()
        self.clock = clock or _utc_now
        self.retention = timedelta(days=self.rules.longest_days + 1)
        self.timelines: dict[tuple[str, str], list[_Seen]] = {}
        self.people: dict[str, _Person] = {}
        self.residents: dict[str, set[str]] = {}
        self.addresses_of: dict[str, set[str]] = {}
        self.last_fired: dict[tuple[str, str], datetime] = {}
        self.seen_events = seen if seen is not None else SeenEvents()
        """Events already observed; the resolution stage shares its own, so that one compact
        structure remembers every event (mast_core.seen_events)."""

    # Input ------------------------------------------------------------------------------------
    def observe(self, observation: Observation) -> list[Alert]:
        """Record one interaction and return the alerts it raises (usually none). A repeated
        event (the same id from the same agency) changes nothing."""
        key = event_key(observation.agency, observation.event_id)
        if key in self.seen_events:
            return []
        self.seen_events.add(key)
        was_child = self._is_child(observation.person_id, observation.occurred_at)
        self._remember_person(observation)
        seen = _Seen(
            observation.occurred_at,
            observation.event_id,
            observation.agency,
            observation.event_type,
        )
        subjects = [("person", observation.person_id)]
        new_child_resident = False
        if observation.address_id:
            subjects.append(("address", observation.address_id))
            residents = self.residents.setdefault(observation.address_id, set())
            is_child = self._is_child(observation.person_id, observation.occurred_at)
            new_child_resident = is_child and (
                observation.person_id not in residents or not was_child
            )
            residents.add(observation.person_id)
            self.addresses_of.setdefault(observation.person_id, set()).add(observation.address_id)
        for kind, subject in subjects:
            self._insert((kind, subject), seen)
        alerts = []
        for rule in self.rules.rules:
            if rule.trigger and not rule.trigger.accepts(
                observation.agency, observation.event_type
            ):
                continue
            for kind, subject in subjects:
                if kind == rule.subject:
                    alerts.extend(self._judge(rule, kind, subject, observation.occurred_at))
        if new_child_resident and observation.address_id:
            alerts.extend(self._child_arrived(observation.address_id))
        return alerts

    def _child_arrived(self, address_id: str) -> list[Alert]:
        """A child is now known to live at the address: judge again the windows of its
        address rules that need one, ending at each event they count. Events are resolved
        in the order partners' partitions deliver them, so the fires at a foster home may
        all be known before the first record that places a child there."""
        timeline = self.timelines.get(("address", address_id), [])
        alerts = []
        for rule in self.rules.rules:
            if rule.subject != "address" or rule.requires != "child_resident":
                continue
            for end in sorted(
                {s.occurred_at for s in timeline if rule.match.accepts(s.agency, s.event_type)}
            ):
                alert = self._window(rule, "address", address_id, timeline, end)
                if alert is not None:
                    alerts.append(alert)
        return alerts

    def _is_child(self, person_id: str, at: datetime) -> bool:
        person = self.people.get(person_id)
        if person is None:
            return False
        if person.open_to_childrens_services:
            return True
        born = person.date_of_birth
        return born is not None and _age(born, at.date()) < CHILD_AGE

    def merge(self, surviving_person_id: str, retired_person_id: str) -> list[Alert]:
        """Two identities are one person: join their timelines and judge the person again."""
        retired = self.timelines.pop(("person", retired_person_id), [])
        timeline = self.timelines.setdefault(("person", surviving_person_id), [])
        for seen in retired:
            bisect.insort(timeline, seen)
        gone = self.people.pop(retired_person_id, None)
        if gone is not None:
            kept = self.people.setdefault(surviving_person_id, _Person())
            kept.date_of_birth = kept.date_of_birth or gone.date_of_birth
            kept.open_to_childrens_services |= gone.open_to_childrens_services
        moved = self.addresses_of.pop(retired_person_id, set())
        for address_id in moved:
            residents = self.residents[address_id]
            residents.discard(retired_person_id)
            residents.add(surviving_person_id)
        self.addresses_of.setdefault(surviving_person_id, set()).update(moved)
        for key in [k for k in self.last_fired if k[1] == retired_person_id]:
            self.last_fired[(key[0], surviving_person_id)] = self.last_fired.pop(key)
        if not timeline:
            return []
        latest = timeline[-1].occurred_at
        alerts = []
        for rule in self.rules.rules:
            if rule.subject == "person" and rule.trigger is None:
                alerts.extend(self._judge(rule, "person", surviving_person_id, latest))
        return alerts

    # Internals --------------------------------------------------------------------------------
    def _remember_person(self, observation: Observation) -> None:
        person = self.people.setdefault(observation.person_id, _Person())
        if observation.date_of_birth and person.date_of_birth is None:
            person.date_of_birth = observation.date_of_birth
        # the latest case status by event time wins, whatever order they arrive in
        latest = person.case_status_at is None or observation.occurred_at >= person.case_status_at
        if observation.agency == CHILDREN_SOCIAL_CARE and observation.case_status and latest:
            person.case_status_at = observation.occurred_at
            person.open_to_childrens_services = observation.case_status == "OPEN"

    def _insert(self, key: tuple[str, str], seen: _Seen) -> None:
        timeline = self.timelines.setdefault(key, [])
        bisect.insort(timeline, seen)
        horizon = timeline[-1].occurred_at - self.retention
        if timeline[0].occurred_at < horizon:
            del timeline[: bisect.bisect_left(timeline, _Seen(horizon, "", "", None))]

    def _judge(self, rule: Rule, kind: str, subject: str, at: datetime) -> list[Alert]:
        """Judge the window ending at ``at`` and, for a late event, every window it falls in:
        those ending at the events that followed it within one window width (the fires of
        the 9th and the 2nd, arriving after the fire of the 17th, complete the window ending
        on the 17th), and the one ending at the subject's latest event."""
        timeline = self.timelines.get((kind, subject), [])
        ends = {at}
        if timeline and timeline[-1].occurred_at > at:
            ends.add(timeline[-1].occurred_at)
            horizon = at + timedelta(days=rule.window_days)
            for later in timeline[bisect.bisect_right(timeline, _Seen(at, "\uffff", "", None)) :]:
                if later.occurred_at > horizon:
                    break
                if rule.match.accepts(later.agency, later.event_type):
                    ends.add(later.occurred_at)
        alerts = []
        for end in sorted(ends):
            alert = self._window(rule, kind, subject, timeline, end)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def _window(
        self, rule: Rule, kind: str, subject: str, timeline: list[_Seen], end: datetime
    ) -> Alert | None:
        width = timedelta(days=rule.window_days)
        start = end - width
        inside = [
            s
            for s in timeline[bisect.bisect_right(timeline, _Seen(start, "\uffff", "", None)) :]
            if s.occurred_at <= end and rule.match.accepts(s.agency, s.event_type)
        ]
        if len(inside) < rule.at_least:
            return None
        counts = Counter(s.agency for s in inside)
        if rule.distinct_agencies_at_least and len(counts) < rule.distinct_agencies_at_least:
            return None
        if rule.rise and not self._rising(rule, rule.rise, timeline, start, len(inside)):
            return None
        if rule.requires == "child_resident" and not self._child_lives_at(subject, end):
            return None
        last = self.last_fired.get((rule.id, subject))
        if last is not None and abs(end - last) < timedelta(days=rule.cooldown_days):
            return None
        self.last_fired[(rule.id, subject)] = end
        digest = hashlib.blake2b(
            f"{rule.id}|{subject}|{end.isoformat()}".encode(), digest_size=8
        ).hexdigest()
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
            summary=rule.summary,
            raised_at=self.clock(),
        )

    def _rising(
        self, rule: Rule, rise: Rise, timeline: list[_Seen], start: datetime, count: int
    ) -> bool:
        """The window's count against the average per window over the baseline before it.

        Only the part of the baseline the subject's known history covers is averaged over,
        and less than one window's worth of history judges nothing: a person first seen
        last week has no "usual" to rise above.
        """
        baseline_start = start - timedelta(days=rise.baseline_days)
        if not timeline:
            return False
        covered = start - max(timeline[0].occurred_at, baseline_start)
        if covered < timedelta(days=rule.window_days):
            return False
        before = sum(
            1
            for s in timeline
            if baseline_start < s.occurred_at <= start
            and rule.match.accepts(s.agency, s.event_type)
        )
        average = before * rule.window_days / (covered / timedelta(days=1))
        return count >= rise.factor * average

    def _child_lives_at(self, address_id: str, at: datetime) -> bool:
        return any(
            self._is_child(person_id, at) for person_id in self.residents.get(address_id, ())
        )


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
