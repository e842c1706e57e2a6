"""Parameter sets written before an agreement level existed still load, and score it with
the shipped m and u until a re-estimate learns it."""

from __future__ import annotations

import json
from pathlib import Path

from mast_core.linkage import Parameters, Resolver
from mast_core.linkage.comparison import RESIDENCE
from mast_core.linkage.parameters import DEFAULT_FILE
from mast_core.linkage.resolver import upgrade_state
from tests.factories import person_event

NEWER_LEVEL = "same_house_elsewhere"


def test_a_parameters_file_without_a_newer_level_loads_with_the_shipped_values(tmp_path: Path):
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    data["fields"][RESIDENCE]["different"]["m"] = 0.03  # a learnt value, kept
    del data["fields"][RESIDENCE][NEWER_LEVEL]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = Parameters.load(path)
    shipped = Parameters.default()
    assert loaded.weight(RESIDENCE, NEWER_LEVEL) == shipped.weight(RESIDENCE, NEWER_LEVEL)
    assert loaded.m[RESIDENCE]["different"] == 0.03


def test_a_resolver_state_whose_parameters_predate_a_level_is_completed_on_load():
    resolver = Resolver(learning=None)
    resolver.resolve(person_event(line1="19 Baynton Street", town="Ingleburn", postcode="3562"))
    old = resolver.parameters
    for table in (old.m, old.u, old.weights):
        del table[RESIDENCE][NEWER_LEVEL]  # as unpickled from a state written before it
    upgrade_state(resolver, 4)
    assert resolver.parameters is not old
    assert resolver.scorer.parameters is resolver.parameters
    moved = resolver.resolve(
        person_event(line1="19 Baynton Street", town="Seven Hills", postcode="3564")
    )
    assert not moved.new_person
    assert any(c.level == NEWER_LEVEL for c in moved.contributions)
