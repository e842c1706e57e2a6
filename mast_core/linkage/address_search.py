"""Search by address: the keys an address is filed under and how well a stored address fits
what a practitioner typed.

The same normalisation as address resolution ("12 Oak Rd" and "12, Oak Road" are one text),
filed under keys that a partial query can still reach: the postcode alone, the dwelling
with the sound of the street's first word (a street written without a postcode), and the
street in its town (everyone on Oak Road, Dudley).
"""

from __future__ import annotations

import re

from rapidfuzz.distance import JaroWinkler

from mast_core.normalise.addresses import NormalisedAddress
from mast_core.normalise.names import phonetic

_WEIGHTS = {"postcode": 0.4, "dwelling": 0.3, "street": 0.3}


def _street_sound(street: str | None) -> str:
    return phonetic(street.split(" ")[0]) if street else ""


def _dwelling(address: NormalisedAddress) -> str:
    return f"{address.flat or ''}/{address.number or address.premise or ''}"


def address_search_keys(address: NormalisedAddress) -> list[str]:
    """Keys for storing a resolved address, and for looking a query up: a query finds every
    stored address that shares one of its keys."""
    keys: list[str] = []
    if address.postcode is not None:
        keys.append(f"pc:{address.postcode.text}")
    sound = _street_sound(address.street)
    if sound and (address.number or address.premise):
        keys.append(f"sd:{sound}:{_dwelling(address)}")
    if sound and address.town:
        keys.append(f"st:{sound}@{address.town}")
    return keys


def address_similarity(query: NormalisedAddress, stored: NormalisedAddress) -> float:
    """0 to 1 over the parts the query gave: postcode (the same, or the same street's
    sector), dwelling (flat and number, or a house name), street (Jaro–Winkler). A part the
    query left out neither helps nor hurts."""
    score = 0.0
    given = 0.0
    if query.postcode is not None:
        given += _WEIGHTS["postcode"]
        if stored.postcode is not None:
            if query.postcode.text == stored.postcode.text:
                score += _WEIGHTS["postcode"]
            elif query.postcode.text[:-2] == stored.postcode.text[:-2]:
                score += _WEIGHTS["postcode"] * 0.5
    if query.number or query.premise or query.flat:
        given += _WEIGHTS["dwelling"]
        if query.number is not None:
            same = query.number == stored.number and (query.flat or None) == (stored.flat or None)
            score += _WEIGHTS["dwelling"] if same else 0.0
        elif query.premise and stored.premise:
            similarity = JaroWinkler.similarity(query.premise, stored.premise)
            score += _WEIGHTS["dwelling"] * similarity if similarity >= 0.85 else 0.0
    if query.street:
        given += _WEIGHTS["street"]
        if stored.street:
            score += _WEIGHTS["street"] * JaroWinkler.similarity(query.street, stored.street)
    return round(score / given, 4) if given else 0.0


_POSTCODE_IN_TEXT = re.compile(
    r"\b([A-Z]{1,2}[0-9OI][A-Z0-9]?\s*[0-9OI][A-Z]{2})\s*$", re.IGNORECASE
)


def split_address_query(text: str) -> tuple[str | None, str | None, str | None]:
    """One line as a practitioner types it — "7 Larch Close, Walsall WS3 1EE" — as address,
    town and postcode: the postcode at the end, and after the last comma a town (words
    without a number)."""
    text = " ".join(text.split())
    postcode = None
    found = _POSTCODE_IN_TEXT.search(text)
    if found:
        postcode = found.group(1)
        text = text[: found.start()].rstrip(" ,")
    parts = [part.strip() for part in text.split(",") if part.strip()]
    town = None
    if len(parts) > 1 and not any(ch.isdigit() for ch in parts[-1]):
        town = parts.pop()
    return ", ".join(parts) or None, town, postcode
