"""The shared memory of events already taken in: a set that never forgets, in about 8 bytes
an event (mast_core.seen_events)."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mast_core.seen_events as module
from mast_core.events import event_key
from mast_core.seen_events import SeenEvents


@pytest.fixture
def small_recent(monkeypatch):
    """Merge into the sorted array every few keys, so tests cross that boundary often."""
    monkeypatch.setattr(module, "RECENT_LIMIT", 4)


def test_keys_are_remembered_and_repeats_recognised(small_recent):
    seen = SeenEvents()
    keys = [event_key("FIRE", str(n)) for n in range(50)]
    assert all(seen.add(key) for key in keys)
    assert not any(seen.add(key) for key in keys)  # each a repeat now
    assert all(key in seen for key in keys)
    assert event_key("POLICE", "1") not in seen  # the same id from another agency
    assert len(seen) == 50
    assert seen._sorted.size >= 48  # most were merged into the array


def test_a_forgotten_key_can_be_taken_again_wherever_it_was_kept(small_recent):
    seen = SeenEvents([event_key("FIRE", str(n)) for n in range(9)])
    merged, recent = event_key("FIRE", "0"), event_key("FIRE", "8")
    assert merged in seen and recent in seen
    seen.discard(merged)
    seen.discard(recent)
    seen.discard(event_key("FIRE", "never"))  # harmless
    assert merged not in seen and recent not in seen
    assert len(seen) == 7
    assert seen.add(merged)


def test_a_pickled_copy_remembers_the_same_keys(small_recent):
    seen = SeenEvents([event_key("HEALTH", f"h{n}") for n in range(11)])
    copy = pickle.loads(pickle.dumps(seen))  # noqa: S301 - its own bytes
    assert len(copy) == 11
    assert all(event_key("HEALTH", f"h{n}") in copy for n in range(11))
    assert event_key("HEALTH", "h11") not in copy
    assert copy.add(event_key("HEALTH", "h11"))


def test_a_pickle_of_an_unknown_layout_is_refused():
    seen = SeenEvents()
    state = seen.__getstate__()
    state["format"] = 99
    with pytest.raises(ValueError, match="format 99"):
        SeenEvents.__new__(SeenEvents).__setstate__(state)


def test_a_key_costs_about_eight_bytes_once_merged():
    seen = SeenEvents(event_key("POLICE", str(n)) for n in range(20_000))
    seen.compact()
    assert seen._sorted.nbytes == 8 * 20_000
    assert len(pickle.dumps(seen)) < 9 * 20_000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "discard", "compact"]), st.integers(min_value=0, max_value=30)
        ),
        max_size=120,
    )
)
def test_it_behaves_as_a_set_of_keys(operations):
    model: set[str] = set()
    seen = SeenEvents()
    original, module.RECENT_LIMIT = module.RECENT_LIMIT, 5
    try:
        for operation, number in operations:
            key = event_key("EDUCATION", str(number))
            if operation == "add":
                assert seen.add(key) == (key not in model)
                model.add(key)
            elif operation == "discard":
                seen.discard(key)
                model.discard(key)
            else:
                seen.compact()
            assert len(seen) == len(model)
        assert all(
            (event_key("EDUCATION", str(n)) in seen) == (event_key("EDUCATION", str(n)) in model)
            for n in range(31)
        )
    finally:
        module.RECENT_LIMIT = original
