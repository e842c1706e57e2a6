"""Dead letters: input that could not be processed, kept on its own topic with the reason.

Faust and plain consumers alike acknowledge a message once the handler returns or raises,
so a handler that fails on bad input must publish it here itself, or it is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mast_core.avro import DEAD_LETTER, codec
from mast_core.errors import InvalidEvent, MastError


def dead_letter_record(
    error: MastError, raw: bytes | None, topic: str, partition: int, offset: int
) -> dict[str, Any]:
    """The dead-letter record for ``raw``; ``detail`` names fields, never their values."""
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


def encode_dead_letter(record: dict[str, Any]) -> bytes:
    return codec(DEAD_LETTER).encode(record)
