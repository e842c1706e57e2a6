"""The resolution stage without Kafka: ids, idempotency, merges with alerts, checkpoints."""

from __future__ import annotations

import pytest

from mast_core.avro import ALERT, IDENTITY_MERGE, RESOLVED_INTERACTION, codec
from stream_processors.resolution import CheckpointError, ResolutionStage, resolved_record
from tests.factories import bridge_trio, person_event


def _stream(n: int):
    people = [("Ann", "Kestrel", "1980-01-02"), ("Bob", "Ledger", "1975-03-04")]
    for i in range(n):
        given, family, dob = people[i % 2]
        yield person_event(given=given, family=family, dob=dob, event_id=f"s-{i}")


def test_outputs_fit_their_avro_schemas_and_a_merge_is_published():
    stage = ResolutionStage.fresh()
    outputs = [stage.process(event) for event in bridge_trio()]
    assert all(output is not None for output in outputs)
    bridge = outputs[2]
    assert bridge is not None
    assert len(bridge.merges) == 1
    merge = codec(IDENTITY_MERGE).decode(codec(IDENTITY_MERGE).encode(bridge.merges[0]))
    assert merge["retired_person_id"] == outputs[1].resolved["person_id"]
    assert merge["evidence"]
    resolved = codec(RESOLVED_INTERACTION).decode(
        codec(RESOLVED_INTERACTION).encode(resolved_record(bridge))
    )
    assert resolved["person_id"] == outputs[0].resolved["person_id"]
    assert resolved["interaction"]["event_id"] == "c"
    for alert in bridge.alerts:
        codec(ALERT).encode(alert)


def test_a_re_sent_event_changes_nothing():
    stage = ResolutionStage.fresh()
    event = person_event(event_id="x-1")
    first = stage.process(event)
    assert first is not None
    assert stage.process(event) is None
    assert stage.duplicates == 1
    assert stage.resolver.stats.records == 1


def test_log_offsets_already_in_the_state_are_not_accepted_again():
    stage = ResolutionStage.fresh()
    assert stage.accepts(0)
    stage.done(0)
    stage.done(1)
    assert not stage.accepts(1)
    assert stage.accepts(2)
    stage.done(0)  # a late duplicate acknowledgement never moves the position back
    assert stage.next_offset == 2


def test_a_restored_checkpoint_continues_exactly(tmp_path):
    events = list(_stream(40)) + bridge_trio()
    straight = ResolutionStage.fresh()
    expected = [straight.process(event) for event in events]

    first = ResolutionStage.fresh()
    for offset, event in enumerate(events[:25]):
        first.process(event)
        first.done(offset)
    path = tmp_path / "stage.checkpoint"
    first.save(path)
    resumed = ResolutionStage.load(path)
    assert resumed.next_offset == 25
    rest = [resumed.process(event) for event in events[25:]]
    assert [o.resolved["person_id"] for o in rest if o] == [
        o.resolved["person_id"] for o in expected[25:] if o
    ]
    assert [len(o.merges) for o in rest if o] == [len(o.merges) for o in expected[25:] if o]


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "stage.checkpoint"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        ResolutionStage.load(path)
    assert isinstance(ResolutionStage.load_or_fresh(tmp_path / "missing"), ResolutionStage)


def test_accepted_log_messages_are_bounded_by_count_and_size():
    from stream_processors.pipeline import (
        ACCEPTED_BYTES_PER_MESSAGE,
        ACCEPTED_PER_MESSAGE,
        _chunks,
    )

    small = [b"x" * 100] * (ACCEPTED_PER_MESSAGE * 2 + 1)
    assert [len(c) for c in _chunks(small)] == [ACCEPTED_PER_MESSAGE, ACCEPTED_PER_MESSAGE, 1]
    large = [b"y" * 4000] * 300
    chunks = _chunks(large)
    assert sum(len(c) for c in chunks) == 300
    assert all(sum(map(len, c)) <= ACCEPTED_BYTES_PER_MESSAGE for c in chunks)
    assert _chunks([]) == []


def test_each_resolved_record_carries_the_parameter_version_that_linked_it():
    stage = ResolutionStage.fresh()
    output = stage.process(person_event(event_id="v-1"))
    assert output is not None
    version = stage.resolver.parameters.version
    assert output.resolved["parameters_version"] == version
    decoded = codec(RESOLVED_INTERACTION).decode(
        codec(RESOLVED_INTERACTION).encode(resolved_record(output))
    )
    assert decoded["parameters_version"] == version
