"""State files are written whole or not at all, and read back with their format version
(mast_core.state_files), for both the resolver's state and the pipeline's checkpoint."""

from __future__ import annotations

import pickle

import pytest

import mast_core.state_files as module
from mast_core.linkage import Resolver
from mast_core.linkage.resolver import STATE_FORMAT, ResolverError
from mast_core.state_files import StateFileError, read_state, write_state
from tests.factories import person_event


def test_a_state_reads_back_with_its_version(tmp_path):
    path = tmp_path / "deep" / "state.bin"
    write_state(path, 7, {"offset": 12, "ids": ["a", "b"]})
    assert read_state(path) == (7, {"offset": 12, "ids": ["a", "b"]})
    assert [p.name for p in path.parent.iterdir()] == ["state.bin"]  # no temporary left


def test_a_write_that_fails_midway_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "state.bin"
    write_state(path, 1, "before")

    def half_then_fail(obj, handle, protocol=None):
        handle.write(pickle.dumps(obj)[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.pickle, "dump", half_then_fail)
    with pytest.raises(OSError, match="No space"):
        write_state(path, 2, "after")
    assert read_state(path) == (1, "before")
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle at all", pickle.dumps("just text"), pickle.dumps((True, {}))],
)
def test_what_is_not_a_state_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "state.bin"
    path.write_bytes(content)
    with pytest.raises(StateFileError, match="cannot read state file"):
        read_state(path)


def test_a_missing_file_is_not_a_damaged_one(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_state(tmp_path / "absent")


def test_the_resolver_saves_and_loads_through_it(tmp_path):
    resolver = Resolver(learning=None)
    first = resolver.resolve(person_event(event_id="r-1"))
    path = tmp_path / "resolver.state"
    resolver.save(path)
    version, _state = read_state(path)
    assert version == STATE_FORMAT
    again = Resolver.load(path).resolve(person_event(event_id="r-2"))
    assert again.person_id == first.person_id
    write_state(path, 2, {})  # format 3 is upgraded (tests/unit/test_format3_upgrade.py)
    with pytest.raises(ResolverError, match="format"):
        Resolver.load(path)
