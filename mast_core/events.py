"""The interaction event: the minimum a partner shares about one contact with a person.

Partner data is messy, so validation is deliberately forgiving: names, dates of birth and
addresses are kept as sent (the resolver normalises them), unknown values become null, and
an event is refused only when it cannot be an event at all: no ``event_id``, no ``agency``,
no ``subject``, a subject with nothing to link (no name, date of birth, address or NHS
number), a value of the wrong kind where the contract fixes one (an agency that is not on
the list, a time that is not a time), or a time no interaction can have happened at (year 1,
a "no date" value in many partner systems, or next year).

An event id is unique within its agency only: the idempotency key is (agency, event id),
given by ``event_key`` and used by everything that recognises a repeat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import BeforeValidator

from mast_core.avro import INTERACTION, codec
from mast_core.errors import AvroDecodeError, FieldProblem, InvalidEvent

MAX_TEXT = 256
"""Longest free-text value accepted; longer input is refused, never truncated silently."""
EARLIEST_OCCURRED_AT = datetime(1900, 1, 1, tzinfo=UTC)
"""Nothing a partner records happened before this; earlier values are "no date" sentinels
(0001-01-01, 1753-01-01, 1800-01-01) that would wreck every time window they fell in."""
FUTURE_TOLERANCE = timedelta(days=1)
"""How far ahead of this machine's clock an interaction time may be (partners' clocks and
zones differ); further ahead is a typo or a sentinel such as 9999-12-31."""


def event_key(agency: str, event_id: str) -> str:
    """The idempotency key of an event: partners number their events independently, so an
    id is unique only within its agency. The one place this rule lives."""
    return f"{agency}\x1f{event_id}"


class Agency(StrEnum):
    POLICE = "POLICE"
    FIRE = "FIRE"
    HEALTH = "HEALTH"
    CHILDREN_SOCIAL_CARE = "CHILDREN_SOCIAL_CARE"
    ADULT_SOCIAL_CARE = "ADULT_SOCIAL_CARE"
    EDUCATION = "EDUCATION"
    HOUSING = "HOUSING"
    PROBATION = "PROBATION"
    OTHER = "OTHER"


class Gender(StrEnum):
    FEMALE = "F"
    MALE = "M"
    OTHER = "X"
    UNKNOWN = "U"


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class Sensitivity(StrEnum):
    """Why a record is to be shielded (interaction schema v3). Validated and stored with the
    record; what shielding does with it is the shielding work's (docs/event-contract.md)."""

    REFUGE = "REFUGE"
    ADOPTION = "ADOPTION"
    WITNESS = "WITNESS"
    OTHER = "OTHER"


WITHDRAWAL = "withdrawal"
"""Validation context flag: the event retracts an earlier one (``retracts_event_id``), so a
subject with nothing to link is allowed: that is a withdrawal only (docs/event-contract.md)."""


_GENDER_WORDS = {
    "F": Gender.FEMALE,
    "FEMALE": Gender.FEMALE,
    "W": Gender.FEMALE,
    "WOMAN": Gender.FEMALE,
    "GIRL": Gender.FEMALE,
    "M": Gender.MALE,
    "MALE": Gender.MALE,
    "MAN": Gender.MALE,
    "BOY": Gender.MALE,
    "X": Gender.OTHER,
    "OTHER": Gender.OTHER,
    "NON-BINARY": Gender.OTHER,
}


_BLANK_WORDS = frozenset({"NULL", "NONE", "N/A", "UNKNOWN"})
_LONGEST_BLANK_WORD = max(map(len, _BLANK_WORDS))


def _blank_to_none(value: Any) -> Any:
    """Partners write unknown as "", " " or "NULL"; the contract says null.

    Called for every text field of every event, so a value longer than the longest blank
    word is not upper-cased at all (upper-casing never shortens a string)."""
    if isinstance(value, str):
        value = value.strip()
        if not value or (len(value) <= _LONGEST_BLANK_WORD and value.upper() in _BLANK_WORDS):
            return None
    return value


def _gender(value: Any) -> Gender:
    if isinstance(value, Gender):
        return value
    if isinstance(value, str):
        return _GENDER_WORDS.get(value.strip().upper(), Gender.UNKNOWN)
    return Gender.UNKNOWN


def _upper_enum_text(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return value.upper().replace(" ", "_").replace("-", "_")
    return value


Text = Annotated[
    Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None, BeforeValidator(_blank_to_none)
]


_TOO_EARLY = "is before 1900: not a plausible time for an interaction"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


class Address(_Model):
    line1: Text = None
    line2: Text = None
    town: Text = None
    postcode: Text = None
    uprn: Text = None

    @property
    def is_blank(self) -> bool:
        """Every part empty. (Checked for every event: reading the fields costs a fraction
        of dumping the model.)"""
        return not any(getattr(self, name) for name in type(self).model_fields)


class Subject(_Model):
    given_name: Text = None
    family_name: Text = None
    date_of_birth: Text = None
    gender: Annotated[Gender, BeforeValidator(_gender)] = Gender.UNKNOWN
    address: Address | None = None
    nhs_number: Text = None

    @model_validator(mode="after")
    def _identifiable(self, info: ValidationInfo) -> Subject:
        """A subject with every personal field blank would become a "person" nobody can find
        or link (a partner extract row with its columns unmapped looks like this). Allowed
        only in an event that withdraws an earlier one (``WITHDRAWAL`` in the context)."""
        if isinstance(info.context, Mapping) and info.context.get(WITHDRAWAL):
            return self
        if not self.identifiable:
            raise ValueError(
                "carries no name, date of birth, address or NHS number: nothing to link"
            )
        return self

    @property
    def identifiable(self) -> bool:
        """Carries anything at all to link on."""
        address = self.address
        return not (
            self.given_name is None
            and self.family_name is None
            and self.date_of_birth is None
            and self.nhs_number is None
            and (address is None or address.is_blank)
        )


class Contact(_Model):
    name: Text = None
    team: Text = None
    phone: Text = None
    email: Text = None


class InteractionEvent(_Model):
    event_id: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    agency: Annotated[Agency, BeforeValidator(_upper_enum_text)]
    source_system: Text = None
    source_record_id: Text = None
    event_type: Annotated[
        Annotated[str, StringConstraints(max_length=64)] | None, BeforeValidator(_upper_enum_text)
    ] = None
    occurred_at: datetime | None = None
    subject: Subject
    case_status: Annotated[CaseStatus | None, BeforeValidator(_upper_enum_text)] = None
    contact: Contact | None = None
    retracts_event_id: Annotated[
        Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None,
        BeforeValidator(_blank_to_none),
    ] = None
    """v3: the event id of an earlier event of this agency that this one withdraws (a
    correction when the subject has something to link, a withdrawal only when it has not)."""
    sensitivity: Annotated[Sensitivity | None, BeforeValidator(_upper_enum_text)] = None
    """v3: the record is to be shielded, and why."""

    @field_validator("occurred_at", mode="after")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is taken as UTC, as the contract says; all times are UTC inside."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        else:
            try:
                value = value.astimezone(UTC)
            except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant
                raise ValueError(
                    "is before 1900: not a plausible time for an interaction"
                ) from None
        if value < EARLIEST_OCCURRED_AT:
            raise ValueError("is before 1900: not a plausible time for an interaction")
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("is in the future: not a plausible time for an interaction")
        return value

    @model_validator(mode="after")
    def _not_itself(self) -> InteractionEvent:
        """An event cannot withdraw itself: the retraction would remove its own record."""
        if self.retracts_event_id is not None and self.retracts_event_id == self.event_id:
            raise ValueError("retracts_event_id names this event itself")
        return self

    @property
    def key(self) -> str:
        """This event's idempotency key (see ``event_key``)."""
        return event_key(self.agency.value, self.event_id)

    @property
    def retracted_key(self) -> str | None:
        """The idempotency key of the event this one retracts: always of the same agency,
        so an agency can name only its own events."""
        if self.retracts_event_id is None:
            return None
        return event_key(self.agency.value, self.retracts_event_id)

    @property
    def is_withdrawal_only(self) -> bool:
        """Retracts an earlier event and carries no details to replace it with."""
        return self.retracts_event_id is not None and not self.subject.identifiable

    def to_record(self) -> dict[str, Any]:
        """The Avro-ready form: plain dicts, enum values as their symbols."""
        return self.model_dump(mode="python")


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(event)"


def parse_event(data: Mapping[str, Any] | Any) -> InteractionEvent:
    """Validate one event in the JSON or Avro-decoded form.

    Raises InvalidEvent naming every offending field. The messages never echo the values,
    because the values are personal data and these messages reach logs and dead letters.
    """
    if not isinstance(data, Mapping):
        raise InvalidEvent([FieldProblem("(event)", "an event must be a JSON object")])
    withdrawal = _blank_to_none(data.get("retracts_event_id")) is not None
    try:
        return InteractionEvent.model_validate(dict(data), context={WITHDRAWAL: withdrawal})
    except ValidationError as exc:
        problems = [
            FieldProblem(_field_path(err["loc"]), _describe(err["type"], err["msg"]))
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise InvalidEvent(problems) from None


def parse_event_json(text: bytes | str) -> InteractionEvent:
    """Validate one event from its JSON text (a line of a JSON Lines file).

    Validated straight from the text by pydantic's own parser, which costs about half of
    decoding to objects and validating those: a file of a million events spends a tenth of
    its time here. Any text that fails (a withdrawal with nothing to link, which only the
    context allows, or an event with problems) is decoded and judged by ``parse_event``, so
    the outcome and every message are the same as there. Raises ``json.JSONDecodeError`` for
    text that is not JSON and InvalidEvent as ``parse_event`` does."""
    try:
        return InteractionEvent.model_validate_json(text, context={WITHDRAWAL: False})
    except ValidationError:
        return parse_event(json.loads(text))


def _describe(kind: str, message: str) -> str:
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    return message


def encode_interaction(event: InteractionEvent) -> bytes:
    """The bytes a partner publishes: single-object Avro in the current interaction schema."""
    return codec(INTERACTION).encode(event.to_record())


def decode_interaction(data: bytes | None) -> InteractionEvent:
    """Bytes from the interactions topic back to a validated event.

    Raises AvroDecodeError for bytes that are not a shipped interaction schema, and
    InvalidEvent for a well-formed record that still breaks the contract.
    """
    return parse_event(codec(INTERACTION).decode(data))


def trusted_event(record: Mapping[str, Any]) -> InteractionEvent:
    """An event from a record MAST itself validated and wrote (the accepted log), built
    without validating again: re-validation cost more than resolving."""
    subject = record["subject"]
    address = subject.get("address")
    contact = record.get("contact")
    case_status = record.get("case_status")
    return InteractionEvent.model_construct(
        event_id=record["event_id"],
        agency=Agency(record["agency"]),
        source_system=record.get("source_system"),
        source_record_id=record.get("source_record_id"),
        event_type=record.get("event_type"),
        occurred_at=record.get("occurred_at"),
        subject=Subject.model_construct(
            given_name=subject.get("given_name"),
            family_name=subject.get("family_name"),
            date_of_birth=subject.get("date_of_birth"),
            gender=Gender(subject.get("gender") or "U"),
            address=Address.model_construct(**address) if address else None,
            nhs_number=subject.get("nhs_number"),
        ),
        case_status=CaseStatus(case_status) if case_status else None,
        contact=Contact.model_construct(**contact) if contact else None,
        retracts_event_id=record.get("retracts_event_id"),
        sensitivity=Sensitivity(record["sensitivity"]) if record.get("sensitivity") else None,
    )


def decode_accepted(data: bytes | None) -> InteractionEvent:
    """Bytes from the accepted-interactions log, which only MAST writes."""
    record = codec(INTERACTION).decode(data)
    try:
        return trusted_event(record)
    except (KeyError, ValueError, TypeError) as exc:
        raise AvroDecodeError(f"accepted interaction is malformed: {type(exc).__name__}") from None
