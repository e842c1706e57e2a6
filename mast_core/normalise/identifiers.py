"""Strong identifiers: NHS number and UPRN. A value that fails its own check is dropped
rather than trusted, because a wrong strong identifier would outvote every other field."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D+")


def normalise_nhs_number(text: str | None) -> str | None:
    """Ten digits passing the NHS modulus-11 check, else None."""
    if not text:
        return None
    digits = _DIGITS.sub("", text)
    if len(digits) != 10 or len(set(digits)) == 1:
        return None
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return None
    return digits


def normalise_uprn(text: str | None) -> str | None:
    """Up to 12 digits, leading zeros dropped, else None."""
    if not text:
        return None
    digits = _DIGITS.sub("", text).lstrip("0")
    if not digits or len(digits) > 12 or digits != text.strip().lstrip("0"):
        return None
    return digits
