"""UK postcodes: tolerant of spacing, case and the letters O and I typed for the digits 0 and
1 (and back), and never dropping one that does not fit: a malformed or foreign postcode is
kept as sent (cleaned) and marked invalid, so it can still agree with itself.

Repairs are deliberately narrow. Only O/0 and I/1 are swapped, and only where the format
says which one a position must hold, because a wider repair (S/5, B/8) turns a postcode
with a lost character into someone else's valid postcode. A real postcode outside the
pattern (``GIR 0AA``, Girobank's) is recognised before any repair, or the I/1 swap would
make it ``G1R 0AA``, a Glasgow district that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

AREAS = frozenset(
    [
        "AB",
        "AL",
        "B",
        "BA",
        "BB",
        "BD",
        "BH",
        "BL",
        "BN",
        "BR",
        "BS",
        "BT",
        "CA",
        "CB",
        "CF",
        "CH",
        "CM",
        "CO",
        "CR",
        "CT",
        "CV",
        "CW",
        "DA",
        "DD",
        "DE",
        "DG",
        "DH",
        "DL",
        "DN",
        "DT",
        "DY",
        "E",
        "EC",
        "EH",
        "EN",
        "EX",
        "FK",
        "FY",
        "G",
        "GL",
        "GU",
        "GY",
        "HA",
        "HD",
        "HG",
        "HP",
        "HR",
        "HS",
        "HU",
        "HX",
        "IG",
        "IM",
        "IP",
        "IV",
        "JE",
        "KA",
        "KT",
        "KW",
        "KY",
        "L",
        "LA",
        "LD",
        "LE",
        "LL",
        "LN",
        "LS",
        "LU",
        "M",
        "ME",
        "MK",
        "ML",
        "N",
        "NE",
        "NG",
        "NN",
        "NP",
        "NR",
        "NW",
        "OL",
        "OX",
        "PA",
        "PE",
        "PH",
        "PL",
        "PO",
        "PR",
        "RG",
        "RH",
        "RM",
        "S",
        "SA",
        "SE",
        "SG",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SP",
        "SR",
        "SS",
        "ST",
        "SW",
        "SY",
        "TA",
        "TD",
        "TF",
        "TN",
        "TQ",
        "TR",
        "TS",
        "TW",
        "UB",
        "W",
        "WA",
        "WC",
        "WD",
        "WF",
        "WN",
        "WR",
        "WS",
        "WV",
        "YO",
        "ZE",
    ]
)
"""The postcode areas of the UK, Channel Islands and Isle of Man."""

_VALID = re.compile(r"^([A-Z]{1,2})([0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")
"""Area, district, inward code; the inward letters never include C, I, K, M, O or V."""
SPECIAL = frozenset({"GIR0AA"})
"""Real postcodes that do not follow the pattern, compact: never repaired into another."""
_TO_DIGIT = str.maketrans({"O": "0", "I": "1"})
_TO_LETTER = str.maketrans({"0": "O", "1": "I"})


@dataclass(frozen=True, slots=True)
class Postcode:
    text: str
    """"WS1 2AB" when valid; otherwise the input upper-cased without spaces."""
    valid: bool

    @property
    def outward(self) -> str | None:
        return self.text.split(" ")[0] if self.valid else None

    @property
    def sector(self) -> str | None:
        """Outward code and the inward digit ("WS1 2"): a few hundred addresses."""
        return self.text[:-2] if self.valid else None


def _readings(compact: str) -> list[str]:
    """Ways to read ``compact`` with O/0 and I/1 put where the format needs them."""
    if not 5 <= len(compact) <= 7:
        return []
    inward = compact[-3].translate(_TO_DIGIT) + compact[-2:].translate(_TO_LETTER)
    outward = compact[:-3]
    readings = []
    for area_length in (2, 1):
        area = outward[:area_length].translate(_TO_LETTER)
        district = outward[area_length:]
        if not district or len(district) > 2 or area not in AREAS:
            continue
        district = district[0].translate(_TO_DIGIT) + district[1:]
        if len(district) == 2 and district[1] in "IO":
            # a second district character I or O is a digit: no district ends in those letters
            district = district[0] + district[1].translate(_TO_DIGIT)
        readings.append(area + district + inward)
    return readings


@lru_cache(maxsize=1 << 16)
def normalise_postcode(text: str | None) -> Postcode | None:
    if not text:
        return None
    compact = re.sub(r"[^A-Z0-9]", "", text.upper())
    if not compact:
        return None
    if len(compact) >= 5:  # a special postcode, also with O typed for its inward 0
        inward = compact[-3].translate(_TO_DIGIT) + compact[-2:].translate(_TO_LETTER)
        if compact[:-3] + inward in SPECIAL:
            return Postcode(f"{compact[:-3]} {inward}", True)
    for candidate in (compact, *_readings(compact)):
        match = _VALID.match(candidate)
        if match and match[1] in AREAS and match[2][-1] not in "IO":
            return Postcode(f"{match[1]}{match[2]} {match[3]}", True)
    return Postcode(compact, False)
