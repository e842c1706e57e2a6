"""Interaction schema v3: optional ``retracts_event_id`` and ``sensitivity``. Events written
with v1 and v2 are still read (both fields null); a withdrawal may carry an empty subject, an
ordinary event may not; an event cannot retract itself; a sensitivity outside the list is
refused by name; the partner doors take retractions only for their own agency; and
``sensitivity`` reaches the stored row, through resolved-interaction v5. Names invented."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mast_core.avro import HEADER_LENGTH, INTERACTION, RESOLVED_INTERACTION, EnvelopeEncoder, codec
from mast_core.errors import InvalidEvent
from mast_core.events import Sensitivity, decode_interaction, encode_interaction, parse_event
from producers.admission import Admissions, Outcome
from sinks.clickhouse.writer import resolved_row
from tests.factories import event_dict


def test_v3_is_current_and_both_fields_are_optional():
    interaction = codec(INTERACTION)
    assert interaction.current.version == 3
    fields = {f["name"]: f for f in interaction.current.parsed["fields"]}
    assert fields["retracts_event_id"]["default"] is None
    assert fields["sensitivity"]["default"] is None
    event = parse_event(event_dict(sensitivity="refuge", retracts_event_id="fire-2026-000100"))
    assert event.sensitivity is Sensitivity.REFUGE
    data = encode_interaction(event)
    assert data[2:HEADER_LENGTH] == interaction.current.fingerprint
    assert decode_interaction(data) == event


def test_an_event_written_with_v2_is_read_with_neither():
    record = parse_event(event_dict()).to_record()
    del record["retracts_event_id"], record["sensitivity"]
    old = codec(INTERACTION).encode(record, version=2)
    event = decode_interaction(old)
    assert event.retracts_event_id is None and event.sensitivity is None
    assert not event.is_withdrawal_only


def test_a_withdrawal_may_carry_an_empty_subject_and_an_ordinary_event_may_not():
    withdrawal = parse_event(
        {"event_id": "fire-9", "agency": "FIRE", "retracts_event_id": "fire-1", "subject": {}}
    )
    assert withdrawal.is_withdrawal_only
    assert withdrawal.retracted_key == parse_event(event_dict(event_id="fire-1")).key
    correction = parse_event(event_dict(event_id="fire-9", retracts_event_id="fire-1"))
    assert not correction.is_withdrawal_only
    with pytest.raises(InvalidEvent) as caught:
        parse_event({"event_id": "fire-9", "agency": "FIRE", "subject": {}})
    assert caught.value.field == "subject"
    with pytest.raises(InvalidEvent, match="names this event itself"):
        parse_event(event_dict(event_id="fire-9", retracts_event_id="fire-9"))
    with pytest.raises(InvalidEvent) as refused:
        parse_event(event_dict(sensitivity="SECRET"))
    assert refused.value.field == "sensitivity"
    assert "SECRET" not in str(refused.value)  # the value is not echoed


def test_a_partner_door_takes_a_retraction_of_its_own_agency_only():
    door = Admissions(parse_event(event_dict()).agency)  # FIRE's key
    own = door.admit({"event_id": "f-9", "retracts_event_id": "f-1", "subject": {}})
    assert own.outcome is Outcome.ACCEPTED and own.event is not None
    assert own.event.retracted_key == parse_event(event_dict(event_id="f-1")).key
    other = door.admit(
        {"event_id": "p-9", "agency": "POLICE", "retracts_event_id": "p-1", "subject": {}}
    )
    assert other.outcome is Outcome.REJECTED and other.field == "agency"


def test_sensitivity_reaches_the_stored_row_through_resolved_interaction_v5():
    encoder = EnvelopeEncoder(RESOLVED_INTERACTION, INTERACTION)
    assert encoder.compatible  # v5 embeds v3: the accepted bytes are reused
    event = parse_event(event_dict(sensitivity="WITNESS"))
    tail = {
        "person_id": "P1",
        "address_id": None,
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": datetime(2026, 4, 3, tzinfo=UTC),
    }
    data = encoder.encode(encode_interaction(event), tail, event.to_record)
    record = codec(RESOLVED_INTERACTION).decode(data)
    assert resolved_row(record).sensitivity == "WITNESS"
    ordinary = codec(RESOLVED_INTERACTION).decode(
        encoder.encode(encode_interaction(parse_event(event_dict())), tail, event.to_record)
    )
    assert resolved_row(ordinary).sensitivity is None
