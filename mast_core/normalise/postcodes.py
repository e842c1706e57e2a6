"""UK postcodes: tolerant of spacing, case and letters typed for digits (O for 0, I for 1),
and never dropping one that does not fit: a malformed or foreign postcode is kept as sent
(cleaned) and marked invalid, so it can still agree with itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Outward code patterns: A9, A99, A9A, AA9, AA99, AA9A; inward: 9AA. Plus GIR 0AA.
_VALID = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_TO_DIGIT = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5", "Z": "2", "B": "8"})
_TO_LETTER = str.maketrans({"0": "O", "1": "I", "5": "S", "2": "Z", "8": "B"})


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


def _repair(compact: str) -> str:
    """Fix letter/digit confusion where the format fixes which one a position must be."""
    if len(compact) < 5 or len(compact) > 7:
        return compact
    inward = compact[-3:]
    outward = compact[:-3]
    inward = inward[0].translate(_TO_DIGIT) + inward[1:].translate(_TO_LETTER)
    first = outward[0].translate(_TO_LETTER)
    rest = outward[1:]
    if rest:
        # the outward code's first digit comes after one or two letters
        second = rest[0]
        if second.isdigit() or len(outward) == 2:
            rest = second.translate(_TO_DIGIT) + rest[1:]
        elif len(outward) >= 3:
            rest = second.translate(_TO_LETTER) + rest[1].translate(_TO_DIGIT) + rest[2:]
    return first + rest + inward


def normalise_postcode(text: str | None) -> Postcode | None:
    if not text:
        return None
    compact = re.sub(r"[^A-Z0-9]", "", text.upper())
    if not compact:
        return None
    for candidate in (compact, _repair(compact)):
        match = _VALID.match(candidate)
        if match:
            return Postcode(f"{match[1]} {match[2]}", True)
    return Postcode(compact, False)
