"""One way in for partners' events, whichever door they use: ``POST /api/v1/ingest``, a CSV
extract (``mast produce csv``) or a file of JSON events (``mast produce jsonl``).

Each door used to apply its own rules: one filled in a missing agency and another refused it;
one refused an event repeated within a batch and another sent it once; each worded the same
problem differently. A partner moving from one door to another, or a steward reading reports
from several, met different answers to the same event. ``Admissions`` is the one set of
rules, and the words every report uses:

1. **Agency.** A door that knows the sender's agency (an API key, ``--agency``, a mapping)
   fills it in when an event leaves it out, and refuses an event naming another agency: a
   partner sends only its own events. Without one, the event must name its agency.
2. **Validation.** ``mast_core.events.parse_event``, the pipeline's own, so an event
   admitted here would not be dead-lettered there, and one refused here would have been,
   with the same field and problem.
3. **Repeats.** An event with the idempotency key (agency and event id) of one admitted
   earlier in the same submission (a batch, a file) is a repeat: not sent again, and
   reported as one. Across submissions, the pipeline ignores repeats (``SeenEvents``).

Problems name fields, never values: they reach reports, answers and logs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mast_core.errors import FieldProblem, InvalidEvent
from mast_core.events import MAX_TEXT, Agency, InteractionEvent, parse_event

NOT_AN_OBJECT = "an event must be a JSON object"
REPEATED = "repeats an earlier event in this submission (the same agency and event id): sent once"


def other_agency(agency: Agency) -> str:
    """The problem with an event that names an agency other than the sender's."""
    return f"is not {agency.value}, the agency sending these events"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REPEATED = "repeated"


@dataclass(frozen=True)
class Admission:
    """What became of one event: accepted (``event`` set), rejected (``problems`` say why)
    or repeated."""

    outcome: Outcome
    event: InteractionEvent | None = None
    problems: tuple[FieldProblem, ...] = ()
    event_id: str | None = None
    """The event's id when it may be repeated back to the sender (text within the limit),
    else None: whatever was put where the id belongs is not echoed."""

    @property
    def field(self) -> str:
        """The first problem's field, for one-line reports."""
        return self.problems[0].field if self.problems else ""

    @property
    def reason(self) -> str:
        """Every problem, as a report's reason column says them."""
        return "; ".join(str(problem) for problem in self.problems)


class Admissions:
    """The rules for one submission (an HTTP batch, a file): ``admit`` each item in order."""

    def __init__(self, agency: Agency | None = None) -> None:
        """``agency``: the sender's, when the door knows it."""
        self.agency = agency
        self._seen: set[bytes] = set()
        """Keys of events accepted in this submission, as 12-byte digests: a file of a
        million events holds about 100 MB of them rather than several hundred."""

    def admit(self, item: Any) -> Admission:
        """Judge one event in the JSON form (a mapping); any other item is rejected."""
        event_id = echoable_id(item)
        if not isinstance(item, Mapping):
            return _rejected(event_id, FieldProblem("(event)", NOT_AN_OBJECT))
        if self.agency is not None:
            named = _agency_text(item.get("agency"))
            if named is None:
                item = {**item, "agency": self.agency.value}
            elif named != self.agency.value:
                return _rejected(event_id, FieldProblem("agency", other_agency(self.agency)))
        try:
            event = parse_event(item)
        except InvalidEvent as exc:
            return Admission(Outcome.REJECTED, problems=tuple(exc.problems), event_id=event_id)
        digest = hashlib.blake2b(event.key.encode("utf-8"), digest_size=12).digest()
        if digest in self._seen:
            return Admission(
                Outcome.REPEATED,
                problems=(FieldProblem("event_id", REPEATED),),
                event_id=event.event_id,
            )
        self._seen.add(digest)
        return Admission(Outcome.ACCEPTED, event=event, event_id=event.event_id)


def echoable_id(item: Any) -> str | None:
    """The item's event id when it can be named in an answer: text of a plausible length that
    can be written as UTF-8 (JSON's ``\\ud800`` escape makes strings that cannot)."""
    event_id = item.get("event_id") if isinstance(item, Mapping) else None
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_TEXT:
        return None
    try:
        event_id.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return event_id


def _agency_text(value: Any) -> str | None:
    """The agency an item names, written as the contract's symbols are ("adult social care"
    is ADULT_SOCIAL_CARE); None when it names none."""
    if value is None:
        return None
    text = str(value).strip().upper().replace(" ", "_").replace("-", "_")
    return None if text in _BLANK else text


_BLANK = {"", "NULL", "NONE", "N/A", "UNKNOWN"}
"""How partners write "not given" (``mast_core.events`` reads them as null too)."""


def _rejected(event_id: str | None, problem: FieldProblem) -> Admission:
    return Admission(Outcome.REJECTED, problems=(problem,), event_id=event_id)
