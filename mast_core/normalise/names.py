"""Names as partners write them: any case, accents, apostrophes, hyphens, initials, nicknames.

``clean_name`` gives the comparable form (lower case ASCII letters, single spaces); family
names keep their parts so that a double-barrelled name can agree with one of its halves.
``name_groups`` says which formal names a given name may stand for (Peggy → Margaret).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import jellyfish

NICKNAMES_FILE = Path(__file__).resolve().parent / "nicknames.csv"
_NOT_LETTERS = re.compile(r"[^a-z\s-]+")
_SEPARATORS = re.compile(r"[\s-]+")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "master", "prof", "rev", "sir"})


@cache
def _fold(text: str) -> str:
    """Lower-case ASCII: accents dropped (Zoë → zoe), apostrophes removed (O'Neill → oneill)."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    ascii_only = ascii_only.replace("'", "").replace("`", "")
    return _NOT_LETTERS.sub(" ", ascii_only)


@lru_cache(maxsize=1 << 16)
def name_parts(text: str | None) -> tuple[str, ...]:
    """The words of a name, titles dropped: "Mrs Anne-Marie  O'Neill" → (anne, marie, oneill)."""
    if not text:
        return ()
    return tuple(p for p in _SEPARATORS.split(_fold(text)) if p and p not in _TITLES)


def clean_name(text: str | None) -> str | None:
    parts = name_parts(text)
    return " ".join(parts) if parts else None


@cache
def _nickname_table() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    with NICKNAMES_FILE.open(encoding="utf-8") as handle:
        rows = (row for row in csv.reader(handle) if row and not row[0].startswith("#"))
        for number, row in enumerate(rows):
            for name in row:
                for part in name_parts(name):
                    groups.setdefault(part, set()).add(number)
    return {name: frozenset(ids) for name, ids in groups.items()}


def name_groups(given: str | None) -> frozenset[int]:
    """Ids of the nickname rows that hold this given name; empty when none does."""
    if not given:
        return frozenset()
    return _nickname_table().get(given, frozenset())


@cache
def phonetic(word: str | None) -> str:
    """A sound-alike key for blocking (Metaphone): Thornbury and Thornberry share one."""
    if not word:
        return ""
    return jellyfish.metaphone(word.replace(" ", "")) or word[:4]


@dataclass(frozen=True, slots=True)
class PersonName:
    given: str | None
    """First given name; an initial is a single letter."""
    middle: str | None
    family: str | None
    """Family name with its parts joined by single spaces (double-barrelled: "smith jones")."""
    family_parts: tuple[str, ...]


def normalise_person_name(given: str | None, family: str | None) -> PersonName:
    given_parts = name_parts(given)
    family_parts = name_parts(family)
    if not family_parts and len(given_parts) > 1:
        # "Jo Bloggs" sent whole in the given-name field
        given_parts, family_parts = given_parts[:1], given_parts[-1:]
    first = given_parts[0] if given_parts else None
    middle = " ".join(given_parts[1:]) or None
    return PersonName(first, middle, " ".join(family_parts) or None, family_parts)
