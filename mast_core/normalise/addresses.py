"""Addresses as partners write them: abbreviated (Rd, St, Ave), reordered, with flats written
many ways (Flat 2, 14 Oak Rd; 2/14 Oak Road; 14b). The result separates what identifies a
dwelling (flat, house number or name, street, postcode) from what merely describes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mast_core.normalise.postcodes import Postcode, normalise_postcode

_ABBREVIATIONS = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "cres": "crescent",
    "cresc": "crescent",
    "cr": "crescent",
    "dr": "drive",
    "drv": "drive",
    "ct": "court",
    "crt": "court",
    "pl": "place",
    "gdns": "gardens",
    "gdn": "garden",
    "gr": "grove",
    "gro": "grove",
    "sq": "square",
    "ter": "terrace",
    "terr": "terrace",
    "tce": "terrace",
    "wk": "walk",
    "wy": "way",
    "pk": "park",
    "hse": "house",
    "ho": "house",
    "bldg": "building",
    "blk": "block",
    "est": "estate",
    "mt": "mount",
    "hts": "heights",
    "pde": "parade",
    "cotts": "cottages",
    "apt": "flat",
    "apartment": "flat",
    "flt": "flat",
    "fl": "flat",
    "rm": "room",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "upr": "upper",
    "lwr": "lower",
    "gt": "great",
}
_STREET_WORDS = frozenset(
    {
        "road",
        "street",
        "avenue",
        "lane",
        "close",
        "crescent",
        "drive",
        "court",
        "place",
        "gardens",
        "grove",
        "square",
        "terrace",
        "walk",
        "way",
        "park",
        "parade",
        "mount",
        "row",
        "hill",
        "rise",
        "view",
        "green",
        "mews",
        "vale",
        "heights",
        "estate",
    }
)
_FLAT_WORDS = frozenset({"flat", "room", "unit", "maisonette"})
_NUMBER = re.compile(r"^(\d+)([a-z]?)$")
_SLASHED = re.compile(r"^(\d+[a-z]?)/(\d+[a-z]?)$")
_RANGE = re.compile(r"^(\d+)-(\d+)$")


@dataclass(frozen=True, slots=True)
class NormalisedAddress:
    flat: str | None
    number: str | None
    """House number with any letter suffix ("14b"); None for a named house."""
    street: str | None
    """Street words, abbreviations expanded: "oak road"."""
    premise: str | None
    """House or building name when there is one ("rose cottage")."""
    town: str | None
    postcode: Postcode | None

    @property
    def has_dwelling(self) -> bool:
        return bool((self.number or self.premise) and (self.street or self.postcode))


_NOT_WORD = re.compile(r"[^a-z0-9/\s-]")
_NUMBER_HYPHEN = re.compile(r"(?<=\d)-(?=[a-z])|(?<=[a-z])-(?=\d)")
"""Compiled once: ``re.sub`` with a pattern string looks it up in re's cache every call."""


def _words(text: str) -> list[str]:
    text = text.lower().replace("'", "").replace("’", "")
    text = _NOT_WORD.sub(" ", text)
    text = _NUMBER_HYPHEN.sub(" ", text)
    return text.split()  # on runs of whitespace, as ``\s+`` matches them, with no empties


def _expand(word: str, position: int, words: list[str]) -> str:
    if word == "st" and position + 1 < len(words) and not words[position + 1].isdigit():
        # "St Mary's Road": a saint before a name, a street at the end
        following = words[position + 1]
        if following not in _STREET_WORDS and following not in _ABBREVIATIONS:
            return "saint"
    return _ABBREVIATIONS.get(word, word)


@lru_cache(maxsize=1 << 16)
def normalise_address(
    line1: str | None,
    line2: str | None = None,
    town: str | None = None,
    postcode: str | None = None,
) -> NormalisedAddress | None:
    """Cached: a household's address arrives written the same way again and again."""
    raw = " ".join(part for part in (line1, line2) if part)
    pc = normalise_postcode(postcode)
    town_words = _words(town) if town else []
    if not raw and pc is None:
        return None
    words = _words(raw)
    # (only "st" needs its neighbour: every other word is looked up without a call)
    words = [
        _expand(w, i, words) if w == "st" else _ABBREVIATIONS.get(w, w) for i, w in enumerate(words)
    ]
    # a town or postcode repeated in the address lines is not part of the street
    if pc is not None:
        compact = pc.text.replace(" ", "").lower()
        repeated = {compact, *compact.split()}
        words = [w for w in words if w.replace(" ", "") not in repeated]
    flat: str | None = None
    number: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _FLAT_WORDS and i + 1 < len(words) and flat is None:
            skip = 1 if words[i + 1] in {"no", "number"} and i + 2 < len(words) else 0
            flat = words[i + 1 + skip]
            i += 2 + skip
            continue
        slashed = _SLASHED.match(word)
        if slashed and number is None:
            flat, number = slashed[1], slashed[2]
        elif number is None and (_NUMBER.match(word) or _RANGE.match(word)):
            number = word
        else:
            rest.append(word)
        i += 1
    if town_words and rest[-len(town_words) :] == town_words:
        rest = rest[: -len(town_words)]
    # the last street word ends the street: "Park Court", "Green Grove", "Vale Terrace"
    street_at = None
    for k in range(len(rest) - 1, -1, -1):
        if rest[k] in _STREET_WORDS:
            street_at = k
            break
    premise: str | None = None
    street_words = rest
    if number is None and street_at is not None and street_at > 1:
        # "Rose Cottage Mill Lane": a house name before a street
        premise = " ".join(rest[: street_at - 1]) or None
        street_words = rest[street_at - 1 :]
    elif street_at is not None:
        street_words = rest[: street_at + 1]
    return NormalisedAddress(
        flat=flat,
        number=number,
        street=" ".join(street_words) or None,
        premise=premise,
        town=" ".join(town_words) or None,
        postcode=pc,
    )
