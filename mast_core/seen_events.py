"""The events MAST has already taken in, by idempotency key, for as long as it runs.

A partner may re-send an extract months or years later, and every event in it must still be
recognised as a repeat: so nothing here expires, and the structure must stay small enough to
hold every event ever resolved. Resolution and escalation share one instance (the escalation
engine is told the resolution stage's), where each used to keep a set of key strings of its
own (measured in ``benchmarks/seen_events_benchmark.py`` and docs/pipeline.md).

Each key is kept as an 8-byte BLAKE2b digest of ``event_key`` (agency and event id): most in a
sorted NumPy array, binary-searched, the latest few in a small set that is merged into the
array when it fills (a merge of two sorted runs, linear in the array). The digest is
deterministic, so the same events give the same structure on every machine and replay.

Two different keys sharing a digest would make the second look like a repeat. With 8 bytes
that has a chance of about n² / 2⁶⁵ over n events: 3 in a million at ten million events, 3 in
ten thousand at a hundred million. That is the price of the size; a false repeat is counted
with the real ones (``mast_duplicate_events_total``).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from typing import Any

import numpy as np
import numpy.typing as npt

RECENT_LIMIT = 1 << 16
"""Digests held in the set before they are merged into the sorted array: a bound on the set's
memory (about 4.5 MB) and on how often the array is rewritten."""
_FORMAT = 1
"""The pickled form's version, so a future change of layout can read older checkpoints."""


def digest(key: str) -> int:
    """The 8-byte digest an event key is remembered by."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


class SeenEvents:
    """A set of event keys (``mast_core.events.event_key``) that never forgets and costs
    about 8 bytes per key: ``key in seen``, ``seen.add(key)``, ``seen.discard(key)``."""

    def __init__(self, keys: Any = ()) -> None:
        self._sorted: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self._view = self._sorted.data
        """The array as Python sees a sequence: a binary search over it (``bisect``) costs a
        quarter of NumPy's ``searchsorted`` for one value."""
        self._recent: set[int] = set()
        self._generation = 0
        """Changes whenever the sorted array does, so a remembered search is known stale."""
        self._last: tuple[str, int, int, bool] | None = None
        """(key, digest, generation, in the sorted array) of the last key asked about: an
        event is asked about several times in a row (resolution, then escalation, each
        asking and adding), and hashing and searching once serves them all."""
        for key in keys:
            self.add(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        value, in_sorted = self._probe(key)
        return in_sorted or value in self._recent

    def add(self, key: str) -> bool:
        """Remember ``key``; True when it was not known before."""
        value, in_sorted = self._probe(key)
        if in_sorted or value in self._recent:
            return False
        self._recent.add(value)
        if len(self._recent) >= RECENT_LIMIT:
            self.compact()
        return True

    def discard(self, key: str) -> None:
        """Forget ``key`` (an event that failed, so that its partner can send it again). Rare,
        and usually of a key just added, which is still in the recent set."""
        value = digest(key)
        if value in self._recent:
            self._recent.discard(value)
            return
        index = self._index(value)
        if index is not None:
            self._replace(np.delete(self._sorted, index))

    def compact(self) -> None:
        """Merge the recent digests into the sorted array."""
        if not self._recent:
            return
        new = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
        new.sort()
        self._replace(np.insert(self._sorted, self._sorted.searchsorted(new), new))
        self._recent = set()

    def _probe(self, key: str) -> tuple[int, bool]:
        """The key's digest, and whether it is in the sorted array."""
        last = self._last
        if last is not None and last[2] == self._generation and last[0] == key:
            return last[1], last[3]
        value = digest(key)
        in_sorted = self._index(value) is not None
        self._last = (key, value, self._generation, in_sorted)
        return value, in_sorted

    def __len__(self) -> int:
        return int(self._sorted.size) + len(self._recent)

    def _index(self, value: int) -> int | None:
        view = self._view
        index = bisect_left(view, value)
        if index < len(view) and view[index] == value:
            return index
        return None

    def _replace(self, array: npt.NDArray[np.uint64]) -> None:
        self._sorted = array
        self._view = array.data
        self._generation += 1

    # Pickling: an explicit, versioned form, so checkpoints do not depend on attribute names.
    def __getstate__(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "sorted": self._sorted.astype("<u8", copy=False).tobytes(),
            "recent": sorted(self._recent),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("format") != _FORMAT:
            raise ValueError(f"seen-events format {state.get('format')!r} is not {_FORMAT}")
        self._generation = 0
        self._last = None
        stored = np.frombuffer(state["sorted"], dtype="<u8")
        self._sorted = stored.astype(np.uint64, copy=True)
        self._view = self._sorted.data
        self._recent = set(state["recent"])
