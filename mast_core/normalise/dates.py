"""Dates of birth as partners write them: ISO, UK day-first, compact, with the month's name
("13 Feb 1957", "February 13th, 1957"), with typos or swapped day and month. A date that
cannot be a calendar date is still kept when its parts are plausible, because its digits
still carry evidence."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

_ISO = re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})(?:[T ].*)?$", re.ASCII)
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$", re.ASCII)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH_NAME = re.compile(
    rf"^(\d{{1,2}})(?:st|nd|rd|th)?[ -/]*{_MONTH}[ ,-/]*(\d{{4}})$", re.ASCII
)
_MONTH_NAME_DAY = re.compile(
    rf"^{_MONTH}[ -/]*(\d{{1,2}})(?:st|nd|rd|th)?[ ,-/]*(\d{{4}})$", re.ASCII
)


@dataclass(frozen=True, slots=True)
class BirthDate:
    year: int
    month: int
    day: int
    valid: bool
    """False for a date no calendar has (1957-02-30 is kept: its digits are still evidence)."""
    digits: str = field(init=False, compare=False)
    """YYYYMMDD: the form typos are measured on (computed once; compared millions of times)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "digits", f"{self.year:04d}{self.month:02d}{self.day:02d}")

    def as_date(self) -> date | None:
        return date(self.year, self.month, self.day) if self.valid else None


def _is_calendar_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


PLACEHOLDER_BIRTH_DATES = frozenset({(1900, 1, 1), (1899, 12, 31), (1899, 12, 30)})
"""Dates partner systems put in a required field when the date of birth is not known: the
start of the 20th century and the spreadsheet epochs. Thousands of unrelated people share
them, so as evidence they would link strangers. Dates before 1880 or after this year
("0001-01-01", "9999-12-31") are not birth dates either and are refused as such."""


def _birth_year(year: int, today: date | None) -> bool:
    latest = (today or date.today()).year  # noqa: DTZ011 - a calendar year, not an instant
    return 1880 <= year <= latest


def _date_parts(text: str | None) -> tuple[int, int, int] | None:
    """(year, month, day) as written, before any judgement of whether it is a birth date."""
    if not text:
        return None
    # digits of any script read as the digits they are ("١٩٥٧-٠٢-١٣", full-width "１９５７")
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text.strip())
    match = _ISO.match(text) or _COMPACT.match(text)
    named = _DAY_MONTH_NAME.match(text.lower()) or _MONTH_NAME_DAY.match(text.lower())
    if match:
        year, month, day = (int(g) for g in match.groups())
        return year, month, day
    if named:
        parts = named.groups()
        name, number = (parts[1], parts[0]) if parts[0].isdigit() else (parts[0], parts[1])
        return int(parts[2]), _MONTHS.index(name) + 1, int(number)
    match = _DAY_FIRST.match(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    return year, month, day


@lru_cache(maxsize=1 << 16)
def parse_birth_date(text: str | None, *, today: date | None = None) -> BirthDate | None:
    """Parse a date of birth; None when nothing date-like is there, or only a placeholder.

    A month over 12 with a day of 12 or less is read as day and month swapped. Years outside
    1880..today are refused as not a birth date, and the placeholders partner systems write
    for "unknown" (``PLACEHOLDER_BIRTH_DATES``) count as no date.
    """
    parts = _date_parts(text)
    if parts is None:
        return None
    year, month, day = parts
    if not _birth_year(year, today) or month == 0 or day == 0 or day > 31:
        return None
    if month > 12 and day <= 12:
        month, day = day, month  # "1/40/1900": a month of 40 read as the day is still no day
    if month > 12 or day > 31 or (year, month, day) in PLACEHOLDER_BIRTH_DATES:
        return None
    return BirthDate(year, month, day, _is_calendar_date(year, month, day))


def is_placeholder_birth_date(text: str | None, *, today: date | None = None) -> bool:
    """True for a date of birth written as a date that cannot be one: a "not known" value
    (1900-01-01, 0001-01-01, 9999-12-31) rather than a typo. Counted per feed, so a partner
    can be told how many of its records carry one."""
    parts = _date_parts(text)
    if parts is None:
        return False
    return parts in PLACEHOLDER_BIRTH_DATES or not _birth_year(parts[0], today)
