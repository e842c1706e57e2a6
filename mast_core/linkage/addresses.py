"""Address resolution: one ``address_id`` per physical dwelling, however it is written, so
that "who lives here" and "what happened here" are queries.

An address is identified by its flat, its house number or name, and its street or postcode.
Variants join an earlier address when the dwelling parts agree exactly and the street is
the same or close with a compatible postcode (or the postcodes agree). A UPRN, when both
sides have one, decides on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

from mast_core.normalise.addresses import NormalisedAddress
from mast_core.normalise.names import phonetic

STREET_SIMILARITY = 0.88


@dataclass(frozen=True, slots=True)
class KnownAddress:
    address_id: str
    flat: str | None
    number: str | None
    premise: str | None
    street: str | None
    town: str | None
    postcode: str | None
    postcode_valid: bool


def _address_id(canonical: str) -> str:
    return "A" + hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def _street_key(street: str | None) -> str:
    return phonetic(street.split(" ")[0]) if street else ""


class AddressResolver:
    def __init__(self) -> None:
        self.known: list[KnownAddress] = []
        self.by_id: dict[str, int] = {}
        self.by_uprn: dict[str, int] = {}
        self.by_postcode: dict[str, list[int]] = {}
        self.by_street: dict[str, list[int]] = {}

    def resolve(self, address: NormalisedAddress | None, uprn: str | None = None) -> str | None:
        """The address_id for this address, creating one when it is new; None when the text
        does not identify a dwelling (a postcode alone, a street without a number)."""
        if uprn is not None and uprn in self.by_uprn:
            return self.known[self.by_uprn[uprn]].address_id
        if address is None or not address.has_dwelling:
            return None
        found = self._find(address)
        if found is None:
            found = self._add(address)
        if uprn is not None:
            self.by_uprn.setdefault(uprn, found)
        return self.known[found].address_id

    def _dwelling(self, address: NormalisedAddress) -> str:
        return f"{address.flat or ''}/{address.number or address.premise or ''}"

    def _find(self, address: NormalisedAddress) -> int | None:
        postcode = address.postcode
        candidates: list[int] = []
        if postcode is not None:
            candidates.extend(self.by_postcode.get(postcode.text, ()))
        candidates.extend(
            self.by_street.get(f"{self._dwelling(address)}:{_street_key(address.street)}", ())
        )
        best: tuple[float, int] | None = None
        for index in candidates:
            similarity = self._similarity(address, self.known[index])
            if similarity is not None and (best is None or similarity > best[0]):
                best = (similarity, index)
        return best[1] if best else None

    @staticmethod
    def _similarity(new: NormalisedAddress, old: KnownAddress) -> float | None:
        if new.flat != old.flat or new.number != old.number:
            return None
        if new.number is None and not (
            new.premise and old.premise and JaroWinkler.similarity(new.premise, old.premise) >= 0.9
        ):
            return None
        same_postcode = new.postcode is not None and new.postcode.text == old.postcode
        street = (
            JaroWinkler.similarity(new.street, old.street) if new.street and old.street else None
        )
        if same_postcode:
            return 2.0 + (street or 0.0) if street is None or street >= 0.7 else None
        if street is None or street < STREET_SIMILARITY:
            return None
        both_valid = new.postcode is not None and new.postcode.valid and old.postcode_valid
        if both_valid:
            # a moved postcode is a different address unless only the last letters differ
            assert new.postcode is not None and old.postcode is not None
            if new.postcode.text[:-2] != old.postcode[:-2]:
                return None
        elif new.town and old.town and new.town != old.town:
            return None
        return street

    def _add(self, address: NormalisedAddress) -> int:
        postcode = address.postcode
        canonical = "|".join(
            [
                postcode.text if postcode else "",
                address.flat or "",
                address.number or "",
                address.premise or "",
                address.street or "",
                address.town or "",
            ]
        )
        address_id = _address_id(canonical)
        if address_id in self.by_id:
            return self.by_id[address_id]
        index = len(self.known)
        self.known.append(
            KnownAddress(
                address_id,
                address.flat,
                address.number,
                address.premise,
                address.street,
                address.town,
                postcode.text if postcode else None,
                bool(postcode and postcode.valid),
            )
        )
        self.by_id[address_id] = index
        if postcode is not None:
            self.by_postcode.setdefault(postcode.text, []).append(index)
        street_key = f"{self._dwelling(address)}:{_street_key(address.street)}"
        self.by_street.setdefault(street_key, []).append(index)
        return index
