"""Linkage parameter sets on Kafka: what the resolution stage publishes whenever its
resolver's parameters change, and the ClickHouse sink stores for the API's person search.

The message is JSON (a parameter set is nested numbers, not personal data, and JSON is what
``Parameters.to_dict`` gives and what the ``linkage_parameters`` table keeps): ::

    {"version": "v…", "published_at": "2026-04-03T21:00:00.123Z", "parameters": {…}}

keyed by the version, with the Kafka timestamp set to ``published_at``. ``published_at`` is the
received time of the event after which the set was in force, so a replay of the accepted log
publishes the same bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mast_core.errors import MastError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnreadableParameterSet(MastError):
    """A message on the linkage-parameters topic that is not a parameter set MAST wrote."""

    reason = "unreadable_parameter_set"


def encode_parameter_set(record: dict[str, Any]) -> bytes:
    """A record of ``version``, ``published_at`` and ``parameters`` (the resolution stage's
    ``parameters_record``) as deterministic bytes: sorted keys, the time to the millisecond
    in UTC."""
    published_at: datetime = record["published_at"]
    return json.dumps(
        {
            "version": record["version"],
            "published_at": _iso_ms(published_at),
            "parameters": record["parameters"],
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def timestamp_ms(record: dict[str, Any]) -> int:
    """The record's ``published_at`` as a Kafka timestamp."""
    published_at: datetime = record["published_at"]
    return (published_at - _EPOCH) // _MILLISECOND


def decode_parameter_set(data: bytes) -> dict[str, Any]:
    """The record as the sink stores it: ``version``, ``published_at`` (aware UTC) and
    ``body`` (the set, as JSON text). Raises ``UnreadableParameterSet`` for anything else."""
    try:
        message = json.loads(data)
        version, parameters = message["version"], message["parameters"]
        published_at = datetime.fromisoformat(message["published_at"])
    except (ValueError, TypeError, KeyError) as exc:
        raise UnreadableParameterSet(
            f"not a linkage parameter set ({type(exc).__name__})"
        ) from None
    if not isinstance(version, str) or not version or not isinstance(parameters, dict):
        raise UnreadableParameterSet("not a linkage parameter set (version or parameters)")
    if published_at.tzinfo is None:
        raise UnreadableParameterSet("not a linkage parameter set (published_at has no zone)")
    return {
        "version": version,
        "published_at": published_at.astimezone(UTC),
        "body": json.dumps(parameters, sort_keys=True),
    }


_MILLISECOND = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - _EPOCH


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
