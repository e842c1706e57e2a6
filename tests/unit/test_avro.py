import json
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from fastavro.utils import generate_many

from mast_core.avro import (
    HEADER_LENGTH,
    INTERACTION,
    MAGIC,
    RECORD_TYPES,
    AvroCodec,
    codec,
    rabin_fingerprint,
)
from mast_core.errors import AvroDecodeError, AvroEncodeError, InvalidEvent, UnknownSchemaError
from mast_core.events import decode_interaction, encode_interaction, parse_event
from schemas import AVRO_DIR
from tests.factories import event_dict

NOW = datetime(2026, 4, 3, 21, 15, tzinfo=UTC)


def test_fingerprint_matches_the_avro_specification():
    # The specification's own example: CRC-64-AVRO of the canonical form "null".
    assert rabin_fingerprint(b'"null"') == 7195948357588979594


def test_interaction_round_trips_through_the_current_schema():
    event = parse_event(event_dict())
    data = encode_interaction(event)
    assert data[:2] == MAGIC
    assert data[2:HEADER_LENGTH] == codec(INTERACTION).current.fingerprint
    assert decode_interaction(data) == event


def test_interaction_fields_are_exactly_the_design_contract():
    current = json.loads((AVRO_DIR / "interaction" / "v2.avsc").read_text())
    assert [f["name"] for f in current["fields"]] == [
        "event_id",
        "agency",
        "source_system",
        "source_record_id",
        "event_type",
        "occurred_at",
        "subject",
        "case_status",
        "contact",
    ]
    subject = next(f for f in current["fields"] if f["name"] == "subject")["type"]
    assert [f["name"] for f in subject["fields"]] == [
        "given_name",
        "family_name",
        "date_of_birth",
        "gender",
        "address",
        "nhs_number",
    ]


def test_data_written_with_the_previous_interaction_schema_is_read_by_the_current_one():
    interaction = codec(INTERACTION)
    assert interaction.current.version >= 2  # v3 added retracts_event_id and sensitivity
    record = parse_event(event_dict()).to_record()
    record["subject"].pop("nhs_number")
    record["subject"]["address"].pop("uprn")
    record.pop("retracts_event_id")  # v3's fields
    record.pop("sensitivity")
    old_bytes = interaction.encode(record, version=1)
    assert old_bytes[2:HEADER_LENGTH] == interaction.versions[0].fingerprint
    decoded = decode_interaction(old_bytes)
    assert decoded.event_id == "fire-2026-000123"
    assert decoded.subject.nhs_number is None
    assert decoded.subject.address is not None
    assert decoded.subject.address.uprn is None
    assert decoded.subject.address.postcode == "WS1 2AB"


V3_FIELDS = ("retracts_event_id", "sensitivity")
"""Interaction fields added in v3: an older writer's strict schema has no place for them."""


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_every_shipped_version_is_readable_by_the_current_one(record_type):
    """The evolution rule, checked for every record type and every older version."""
    record_codec = codec(record_type)
    for version in record_codec.versions:
        for datum in generate_many(version.parsed, 20):
            decoded = record_codec.decode(record_codec.encode(datum, version=version.version))
            assert isinstance(decoded, dict)
            current_fields = {f["name"] for f in record_codec.current.parsed["fields"]}
            assert set(decoded) == current_fields


def test_derived_records_round_trip():
    merge = {
        "merge_id": "m-1",
        "surviving_person_id": "p-1",
        "retired_person_id": "p-2",
        "triggered_by_event_id": "e-9",
        "match_weight": 17.5,
        "evidence": [{"field": "date_of_birth", "level": "exact", "weight": 8.2}],
        "merged_at": NOW,
    }
    assert codec("identity_merge").decode(codec("identity_merge").encode(merge)) == merge
    alert = {
        "alert_id": "a-1",
        "rule_id": "repeat_fires_with_children",
        "severity": "HIGH",
        "subject_kind": "ADDRESS",
        "subject_id": "addr-1",
        "window_start": NOW,
        "window_end": NOW,
        "counts_by_agency": {"FIRE": 3},
        "evidence_event_ids": ["e-1", "e-2", "e-3"],
        "summary": "3 fire attendances in 30 days",
        "raised_at": NOW,
    }
    assert codec("alert").decode(codec("alert").encode(alert)) == alert


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (None, "empty"),
        (b'{"event_id": "x"}', "C3 01"),
        (MAGIC + b"\x00" * 3, "C3 01"),
    ],
)
def test_bytes_that_are_not_avro_raise_a_typed_error(data, message):
    with pytest.raises(AvroDecodeError, match=message):
        decode_interaction(data)


def test_an_unknown_schema_fingerprint_is_its_own_error():
    with pytest.raises(UnknownSchemaError) as caught:
        decode_interaction(MAGIC + b"\x01" * 8 + b"\x00")
    assert caught.value.reason == "unknown_schema"


def test_truncated_and_padded_bodies_raise_typed_errors():
    data = encode_interaction(parse_event(event_dict()))
    with pytest.raises(AvroDecodeError, match="corrupt"):
        decode_interaction(data[: len(data) // 2])
    with pytest.raises(AvroDecodeError, match="trailing"):
        decode_interaction(data + b"\x00\x00")


def test_random_corruption_never_escapes_as_anything_but_a_typed_error():
    data = bytearray(encode_interaction(parse_event(event_dict())))
    rng = random.Random(20261126)
    caught: Counter[str] = Counter()
    for _ in range(2000):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(HEADER_LENGTH, len(mutated))
            mutated[position] = rng.randrange(256)
        if rng.random() < 0.3:
            del mutated[rng.randrange(HEADER_LENGTH, len(mutated)) :]
        try:
            decode_interaction(bytes(mutated))
        except Exception as exc:
            assert isinstance(exc, AvroDecodeError | InvalidEvent), type(exc).__name__
            caught[exc.reason] += 1
    assert caught["avro_decode"] > 100  # the corruption was noticed, not decoded as data


def test_a_well_formed_record_that_breaks_the_contract_is_an_invalid_event():
    record = parse_event(event_dict()).to_record()
    record["event_id"] = ""
    with pytest.raises(InvalidEvent) as caught:
        decode_interaction(codec(INTERACTION).encode(record))
    assert caught.value.field == "event_id"


def test_encoding_a_record_that_does_not_fit_raises_before_publishing():
    record = parse_event(event_dict()).to_record()
    record["agency"] = "AMBULANCE"
    with pytest.raises(AvroEncodeError, match="agency"):
        codec(INTERACTION).encode(record)


def test_a_record_type_without_schemas_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing"):
        AvroCodec("nothing", schema_dir=tmp_path)


def test_an_envelope_reuses_the_inner_bytes_and_equals_a_full_encoding():
    from datetime import UTC, datetime

    from mast_core.avro import INTERACTION, RESOLVED_INTERACTION, EnvelopeEncoder, codec
    from mast_core.events import encode_interaction, parse_event
    from tests.factories import event_dict

    encoder = EnvelopeEncoder(RESOLVED_INTERACTION, INTERACTION)
    assert encoder.compatible
    event = parse_event(event_dict())
    tail = {
        "person_id": "P1",
        "address_id": None,
        "match_weight": 14.5,
        "match_reason": "given name exact",
        "resolved_at": datetime(2026, 4, 3, tzinfo=UTC),
    }
    calls = []

    def record():
        calls.append(1)
        return event.to_record()

    fast = encoder.encode(encode_interaction(event), tail, record)
    assert calls == []  # the inner bytes were reused, not re-encoded
    assert fast == codec(RESOLVED_INTERACTION).encode({"interaction": event.to_record(), **tail})

    # bytes from an older interaction version cannot be spliced in: encoded in full instead
    older = codec(INTERACTION).encode(
        {k: v for k, v in event.to_record().items() if k not in V3_FIELDS}
        | {"subject": {"given_name": "Ann"}},
        version=1,
    )
    slow = encoder.encode(older, tail, record)
    assert calls == [1]
    assert codec(RESOLVED_INTERACTION).decode(slow)["person_id"] == "P1"


def test_an_envelope_refuses_an_ill_typed_tail_naming_the_field():
    from mast_core.avro import INTERACTION, RESOLVED_INTERACTION, EnvelopeEncoder
    from mast_core.errors import AvroEncodeError
    from mast_core.events import encode_interaction, parse_event
    from tests.factories import event_dict

    event = parse_event(event_dict())
    encoder = EnvelopeEncoder(RESOLVED_INTERACTION, INTERACTION)
    with pytest.raises(AvroEncodeError, match="person_id"):
        encoder.encode(
            encode_interaction(event),
            {"person_id": 42, "match_reason": "x", "resolved_at": 0},
            event.to_record,
        )
