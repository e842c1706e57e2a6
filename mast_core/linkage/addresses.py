"""Address resolution: one ``address_id`` per physical dwelling, however it is written, so
that "who lives here" and "what happened here" are queries.

An address is identified by its flat, its house number or name, and its street or postcode.
Variants join an earlier address when the dwelling parts agree exactly and the street is
the same or close with a compatible postcode (or the postcodes agree). A UPRN, when both
sides have one, decides on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from mast_core.events import InteractionEvent
from mast_core.normalise.addresses import NormalisedAddress, normalise_address
from mast_core.normalise.identifiers import normalise_uprn
from mast_core.normalise.names import phonetic
from mast_core.normalise.postcodes import Postcode

STREET_SIMILARITY = 0.88
SAME_POSTCODE_STREET = 0.7
"""The least street similarity with which an address in the same postcode is the same one."""
SCREEN_FROM = 16
"""Town-wide blocks of at least this many addresses are screened by street first
(``_street_screen``); a smaller one costs less to judge one by one."""
_SCREEN_MARGIN = 0.01
"""The screen keeps streets a little below ``SAME_POSTCODE_STREET`` as well, so that no
rounding in the batch computation can drop an address the full judgement would keep."""


@dataclass(slots=True)
class KnownAddress:
    address_id: str
    flat: str | None
    number: str | None
    premise: str | None
    street: str | None
    towns: set[str]
    """Every town its variants were written with."""
    postcodes: set[str]
    """Every valid postcode its variants carried (usually one)."""
    raw_postcode: str | None
    """The first malformed or foreign postcode seen, which still agrees with itself."""


def _address_id(canonical: str) -> str:
    return "A" + hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def _canonical(address: NormalisedAddress) -> str:
    """The written form an address's id derives from."""
    postcode = address.postcode
    return "|".join(
        [
            postcode.text if postcode else "",
            address.flat or "",
            address.number or "",
            address.premise or "",
            address.street or "",
            address.town or "",
        ]
    )


def _street_key(street: str | None) -> str:
    return phonetic(street.split(" ")[0]) if street else ""


class AddressResolver:
    def __init__(self) -> None:
        self.known: list[KnownAddress] = []
        self.by_id: dict[str, int] = {}
        self.by_uprn: dict[str, int] = {}
        self.by_postcode: dict[str, list[int]] = {}
        self.by_street: dict[str, list[int]] = {}

    def resolve_event(self, event: InteractionEvent) -> tuple[str | None, Postcode | None]:
        """The address_id of the event's address (None without a dwelling) and its
        normalised postcode, which person matching uses too."""
        address = event.subject.address
        if address is None:
            return None, None
        normalised = normalise_address(address.line1, address.line2, address.town, address.postcode)
        address_id = self.resolve(normalised, normalise_uprn(address.uprn))
        return address_id, normalised.postcode if normalised else None

    def resolve(self, address: NormalisedAddress | None, uprn: str | None = None) -> str | None:
        """The address_id for this address, creating one when it is new; None when the text
        does not identify a dwelling (a postcode alone, a street without a number)."""
        if uprn is not None and uprn in self.by_uprn:
            return self.known[self.by_uprn[uprn]].address_id
        if address is None or not address.has_dwelling:
            return None
        address_id = _address_id(_canonical(address))
        found = self._written_before(address, address_id)
        if found is None:
            found = self._find(address)
        if found is None:
            found = self._add(address, address_id)
        else:
            self._learn(found, address)
        if uprn is not None:
            self.by_uprn.setdefault(uprn, found)
        return self.known[found].address_id

    def _written_before(self, address: NormalisedAddress, address_id: str) -> int | None:
        """The address first written exactly so, when there is one: what ``_find`` would
        return, found without searching. Most records repeat an address as their partner
        wrote it before, and ``_find`` compares every like-numbered house on a like-sounding
        street. (``_find`` ranks such an address first, or tied first, when it has a
        postcode or a street to compare; a tie adds nothing and gets it back.) ``address_id``
        is the id its written form gives."""
        if address.postcode is None and not address.street:
            return None
        return self.by_id.get(address_id)

    def _dwelling(self, address: NormalisedAddress) -> str:
        return f"{address.flat or ''}/{address.number or address.premise or ''}"

    @staticmethod
    def _postcode_key(postcode: str, dwelling: str) -> str:
        """Numbered dwellings must agree exactly on flat and number, so they are filed under
        both; a named house (whose name may be spelt two ways) only under the postcode."""
        return f"{postcode}|{dwelling}" if dwelling[-1:].isdigit() else postcode

    def _find(self, address: NormalisedAddress) -> int | None:
        """The known address this one is a variant of. The town-wide block (the dwelling in
        the town, whatever the street) is large, so it is searched only when the postcode
        and the street's sound find nothing."""
        dwelling = self._dwelling(address)
        near: list[int] = []
        if address.postcode is not None:
            near.extend(
                self.by_postcode.get(self._postcode_key(address.postcode.text, dwelling), ())
            )
        near.extend(self.by_street.get(f"{dwelling}:{_street_key(address.street)}", ()))
        found = self._best(address, near)
        if found is None and address.town:
            town_block = self.by_street.get(f"{dwelling}@{address.town}", ())
            found = self._best(address, self._street_screen(address, town_block))
        return found

    def _street_screen(self, address: NormalisedAddress, block: list[int] | tuple[()]) -> list[int]:
        """The addresses of a town-wide block that ``_similarity`` could accept: those
        whose street is at least ``SAME_POSTCODE_STREET`` like this one's, or that have no
        street, or, without a street here, all of them. The block grows with the town (every
        number 12 in Walsall), and it is searched for every new dwelling, so the streets
        are compared in one batch (RapidFuzz's ``process.extract``) rather than one call a
        candidate; those it leaves out would be refused anyway, so the result is the same."""
        if not address.street or len(block) < SCREEN_FROM:
            return list(block)
        known = self.known
        streets = [known[index].street for index in block]
        similar = process.extract(
            address.street,
            streets,
            scorer=JaroWinkler.similarity,
            score_cutoff=SAME_POSTCODE_STREET - _SCREEN_MARGIN,
            limit=None,
        )
        kept = [block[position] for _street, _score, position in similar]
        kept.extend(index for index, street in zip(block, streets, strict=True) if not street)
        return kept

    def _best(self, address: NormalisedAddress, candidates: Iterable[int]) -> int | None:
        best: tuple[float, int] | None = None
        tied = False
        for index in set(candidates):
            similarity = self._similarity(address, self.known[index])
            if similarity is None:
                continue
            if best is None or similarity > best[0]:
                best, tied = (similarity, index), False
            elif similarity == best[0]:
                tied = True
        if best is None or tied:
            return None  # nothing fits, or two dwellings fit equally: do not guess
        return best[1]

    @staticmethod
    def _similarity(new: NormalisedAddress, old: KnownAddress) -> float | None:
        """How well ``new`` fits ``old``, or None when it cannot be the same dwelling."""
        if new.flat != old.flat or new.number != old.number:
            return None
        if new.number is None and not (
            new.premise and old.premise and JaroWinkler.similarity(new.premise, old.premise) >= 0.9
        ):
            return None
        postcode = new.postcode
        same_postcode = postcode is not None and (
            postcode.text in old.postcodes or postcode.text == old.raw_postcode
        )
        if same_postcode:
            street = (
                JaroWinkler.similarity(new.street, old.street)
                if new.street and old.street
                else None
            )
            return (
                2.0 + (street or 0.0) if street is None or street >= SAME_POSTCODE_STREET else None
            )
        # Elsewhere: whether the place fits is settled before the streets are compared, for
        # most candidates are the same number on a like-sounding street in another town,
        # refused whatever their street; the answer is the same either way round.
        if postcode is not None and postcode.valid and old.postcodes:
            # another valid postcode is another address, unless only the last letters differ
            sector = postcode.text[:-2]
            if not any(known[:-2] == sector for known in old.postcodes):
                return None
            bonus = 0.5
        elif new.town and old.towns:
            if new.town not in old.towns:
                return None
            bonus = 0.5
        elif not new.town and postcode is None:
            bonus = -0.5  # only a street and number: weakest evidence
        else:
            bonus = 0.0
        if not (new.street and old.street):
            return None
        street = JaroWinkler.similarity(new.street, old.street)
        if street < STREET_SIMILARITY:
            return None
        return street + bonus if bonus else street

    def _add(self, address: NormalisedAddress, address_id: str) -> int:
        postcode = address.postcode
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
                set(),
                set(),
                postcode.text if postcode is not None and not postcode.valid else None,
            )
        )
        self.by_id[address_id] = index
        if postcode is not None and not postcode.valid:
            key = self._postcode_key(postcode.text, self._dwelling(address))
            self.by_postcode.setdefault(key, []).append(index)
        for key in self._street_keys(address):
            self.by_street.setdefault(key, []).append(index)
        self._learn(index, address)
        return index

    def _learn(self, index: int, address: NormalisedAddress) -> None:
        """Remember the town and valid postcode a variant was written with, so the next
        variant that carries only one of them still finds this address."""
        known = self.known[index]
        postcode = address.postcode
        if postcode is not None and postcode.valid and postcode.text not in known.postcodes:
            known.postcodes.add(postcode.text)
            key = self._postcode_key(postcode.text, self._dwelling(address))
            self.by_postcode.setdefault(key, []).append(index)
        if address.town and address.town not in known.towns:
            known.towns.add(address.town)
            key = f"{self._dwelling(address)}@{address.town}"
            block = self.by_street.setdefault(key, [])
            if index not in block:
                block.append(index)

    def _street_keys(self, address: NormalisedAddress) -> list[str]:
        """The dwelling with the sound of the street's first word, and with the town (which
        finds a street whose first word has a typo)."""
        dwelling = self._dwelling(address)
        keys = [f"{dwelling}:{_street_key(address.street)}"]
        if address.town:
            keys.append(f"{dwelling}@{address.town}")
        return keys
