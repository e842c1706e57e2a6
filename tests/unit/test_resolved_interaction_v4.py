"""Resolved-interaction schema v4: each record carries the per-field contributions of its
link (``match_contributions``), from the resolution stage to the sink's row; records
written with v3 are still read, as "not known"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mast_core.avro import HEADER_LENGTH, INTERACTION, RESOLVED_INTERACTION, EnvelopeEncoder, codec
from mast_core.events import InteractionEvent, encode_interaction, parse_event
from sinks.clickhouse.writer import resolved_row
from stream_processors.resolution import ResolutionStage, resolved_record

NOW = datetime(2026, 4, 3, 21, 15, tzinfo=UTC)


def _event(event_id: str, agency: str, given: str = "Margaret") -> InteractionEvent:
    """An event of this module's own (names invented)."""
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "occurred_at": "2026-04-03T10:00:00Z",
            "subject": {
                "given_name": given,
                "family_name": "Thornbury",
                "date_of_birth": "1957-02-13",
                "gender": "F",
                "address": {"line1": "12 Alder Street", "town": "Walsall", "postcode": "WS1 2AB"},
            },
        }
    )


def _linked_pair() -> list[dict[str, Any]]:
    stage = ResolutionStage.fresh()
    outputs = [
        stage.process(_event("h-1", "HEALTH")),
        stage.process(_event("p-1", "POLICE", given="Peggy")),  # scored: not the same details
    ]
    assert all(output is not None for output in outputs)
    return [resolved_record(output) for output in outputs if output is not None]


def test_the_current_version_is_v4_with_contributions_optional():
    resolved = codec(RESOLVED_INTERACTION)
    assert resolved.current.version >= 4  # v5 embeds interaction v3
    field = next(f for f in resolved.current.parsed["fields"] if f["name"] == "match_contributions")
    assert field["default"] is None


def test_a_linked_record_round_trips_with_its_contributions():
    first, second = _linked_pair()
    assert first["match_contributions"] == []  # the first record: nothing compared
    contributions = second["match_contributions"]
    assert {c["field"] for c in contributions} >= {"given_name", "family_name", "date_of_birth"}
    levels = {c["field"]: c["level"] for c in contributions}
    assert levels["date_of_birth"] == "exact"
    assert levels["residence"] == "same_address"
    assert second["match_weight"] is not None
    total = sum(c["weight"] for c in contributions)
    assert total > 0
    resolved = codec(RESOLVED_INTERACTION)
    decoded = resolved.decode(resolved.encode(second))
    assert decoded["match_contributions"] == contributions
    assert decoded["interaction"]["event_id"] == "p-1"


def test_the_pipelines_envelope_writes_the_contributions_too():
    """The pipeline reuses the accepted interaction's bytes and writes only the tail."""
    _first, second = _linked_pair()
    event = _event("p-1", "POLICE", given="Peggy")
    tail = {key: value for key, value in second.items() if key != "interaction"}
    data = EnvelopeEncoder(RESOLVED_INTERACTION, INTERACTION).encode(
        encode_interaction(event), tail, event.to_record
    )
    resolved = codec(RESOLVED_INTERACTION)
    assert data[2:HEADER_LENGTH] == resolved.current.fingerprint
    assert resolved.decode(data)["match_contributions"] == second["match_contributions"]


def test_a_record_written_with_v3_is_read_as_not_knowing_its_contributions():
    _first, second = _linked_pair()
    older = {key: value for key, value in second.items() if key != "match_contributions"}
    older["interaction"] = {  # v3 embeds interaction v2, without v3's fields
        k: v
        for k, v in older["interaction"].items()
        if k not in ("retracts_event_id", "sensitivity")
    }
    resolved = codec(RESOLVED_INTERACTION)
    data = resolved.encode(older, version=3)
    assert data[2:HEADER_LENGTH] == next(v for v in resolved.versions if v.version == 3).fingerprint
    decoded = resolved.decode(data)
    assert decoded["match_contributions"] is None
    assert decoded["match_reason"] == second["match_reason"]
    assert decoded["parameters_version"] == second["parameters_version"]
    # the sink stores "not known" as '' and what is known as JSON, so the two stay apart
    assert resolved_row(decoded).match_contributions == ""
    stored = resolved_row(resolved.decode(resolved.encode(second))).match_contributions
    assert json.loads(stored) == second["match_contributions"]
    first_row = resolved_row(resolved.decode(resolved.encode(_first)))
    assert first_row.match_contributions == "[]"
