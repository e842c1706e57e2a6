"""Dead letters: input that could not be processed, kept on its own topic with the reason.

Faust and plain consumers alike acknowledge a message once the handler returns or raises,
so a handler that fails on bad input must publish it here itself, or it is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Message

from mast_core.avro import DEAD_LETTER, codec
from mast_core.errors import InvalidEvent, MastError


def dead_letter(
    error: MastError, *, topic: str, partition: int, offset: int, raw: bytes | None
) -> dict[str, Any]:
    """The dead-letter record for input from ``topic``; ``detail`` names fields, never values."""
    return {
        "reason": error.reason,
        "detail": str(error),
        "field": error.field if isinstance(error, InvalidEvent) else None,
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "raw": raw or b"",
        "failed_at": datetime.now(UTC),
    }


def dead_letter_record(error: MastError, message: Message) -> dict[str, Any]:
    """The dead-letter record for a message consumed with confluent-kafka."""
    offset = message.offset()
    return dead_letter(
        error,
        topic=message.topic() or "",
        partition=message.partition() or 0,
        offset=offset if offset is not None else -1,
        raw=message.value(),
    )


def encode_dead_letter(record: dict[str, Any]) -> bytes:
    return codec(DEAD_LETTER).encode(record)


def decode_dead_letter(data: bytes) -> dict[str, Any]:
    return codec(DEAD_LETTER).decode(data)
