from datetime import date

import pytest

from mast_core.normalise.dates import is_placeholder_birth_date, parse_birth_date

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    "text",
    [
        "1957-02-13",
        "1957/02/13",
        "13/02/1957",
        "13-02-1957",
        "19570213",
        "1957-2-13",
        "13 Feb 1957",
        "13th February 1957",
        "13-feb-1957",
        "February 13th, 1957",
        "FEB 13 1957",
        "١٩٥٧-٠٢-١٣",  # Arabic-Indic digits
        "１３/０２/１９５７",  # full-width digits
    ],
)
def test_common_forms_parse_to_one_date(text):
    parsed = parse_birth_date(text, today=TODAY)
    assert parsed is not None
    assert (parsed.year, parsed.month, parsed.day, parsed.valid) == (1957, 2, 13, True)
    assert parsed.digits == "19570213"


def test_a_month_over_twelve_is_read_as_day_and_month_swapped():
    parsed = parse_birth_date("1957-13-02", today=TODAY)
    assert parsed is not None
    assert (parsed.month, parsed.day) == (2, 13)


def test_an_impossible_calendar_date_is_kept_but_marked():
    parsed = parse_birth_date("1957-02-30", today=TODAY)
    assert parsed is not None
    assert parsed.valid is False
    assert parsed.as_date() is None
    assert parsed.digits == "19570230"


@pytest.mark.parametrize(
    "text",
    [
        *(None, "", "unknown", "2099-01-01", "1850-01-01", "1957-00-10", "1957-14-13"),
        *("12/1957", "13 Smarch 1957", "Feb 1957", "0 Feb 1957"),
        *("1/40/1900", "1/୪0/1957"),  # a month of 40 read as the day is still no day
    ],
)
def test_what_cannot_be_a_birth_date_is_none(text):
    assert parse_birth_date(text, today=TODAY) is None


@pytest.mark.parametrize(
    "text", ["01/01/1900", "1900-01-01", "31/12/1899", "0001-01-01", "9999-12-31", "1800-01-01"]
)
def test_placeholders_for_not_known_are_no_date_and_are_recognised(text):
    assert parse_birth_date(text, today=TODAY) is None
    assert is_placeholder_birth_date(text, today=TODAY)


@pytest.mark.parametrize("text", [None, "", "unknown", "1957-02-13", "02/01/1900", "1957-14-13"])
def test_real_dates_and_non_dates_are_not_placeholders(text):
    assert not is_placeholder_birth_date(text, today=TODAY)
