import pytest

from mast_core.normalise.identifiers import normalise_nhs_number, normalise_uprn


@pytest.mark.parametrize("raw", ["9434765919", "943 476 5919", "943-476-5919"])
def test_valid_nhs_numbers(raw):
    assert normalise_nhs_number(raw) == "9434765919"


@pytest.mark.parametrize("raw", ["9434765918", "1111111111", "12345", None, "", "abc"])
def test_invalid_nhs_numbers_are_dropped_not_trusted(raw):
    assert normalise_nhs_number(raw) is None


def test_uprn():
    assert normalise_uprn("100071234567") == "100071234567"
    assert normalise_uprn("00123") == "123"
    assert normalise_uprn("12-34") is None
    assert normalise_uprn("1234567890123") is None
    assert normalise_uprn(None) is None
