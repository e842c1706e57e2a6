"""Typed errors, so a consumer can route bad input to the dead-letter topic with a reason
instead of crashing. Messages name fields, never the personal data in them."""

from __future__ import annotations

from dataclasses import dataclass


class MastError(Exception):
    """Base of every error MAST raises on purpose."""

    reason: str = "error"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidEvent(MastError):
    """An input that cannot be an interaction event, with every field that is wrong."""

    reason = "invalid_event"

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @property
    def field(self) -> str:
        """The first offending field, for one-line reports."""
        return self.problems[0].field


class AvroDecodeError(MastError):
    """Bytes that are not a record this version of MAST can read."""

    reason = "avro_decode"


class UnknownSchemaError(AvroDecodeError):
    """Well-formed single-object Avro, but written with a schema MAST has never shipped."""

    reason = "unknown_schema"


class AvroEncodeError(MastError):
    """A record that does not fit its schema; raised before anything is published."""

    reason = "avro_encode"


class SetupError(MastError):
    """Something the machine lacks (Java, Maven, a free port); the message says what to do."""

    reason = "setup"
