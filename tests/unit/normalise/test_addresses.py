import pytest

from mast_core.normalise.addresses import normalise_address


@pytest.mark.parametrize(
    ("line1", "street"),
    [
        ("12 Stanley St", "stanley street"),
        ("12 Stanley Rd", "stanley road"),
        ("12 Stanley Ave", "stanley avenue"),
        ("12 STANLEY STREET", "stanley street"),
        ("12 St Mary's Rd", "saint marys road"),
        ("12 Park Ct", "park court"),
        ("12 Green Gr", "green grove"),
    ],
)
def test_abbreviations_expand(line1, street):
    address = normalise_address(line1, None, "Walsall", "WS1 2AB")
    assert address is not None
    assert address.number == "12"
    assert address.street == street


@pytest.mark.parametrize(
    ("line1", "line2"),
    [
        ("Flat 2, 14 Oak Road", None),
        ("2/14 Oak Road", None),
        ("Apartment 2", "14 Oak Rd"),
        ("14 Oak Road Flat 2", None),
        ("Flat No 2 14 Oak Road", None),
    ],
)
def test_flats_are_found_however_written(line1, line2):
    address = normalise_address(line1, line2, None, None)
    assert address is not None
    assert (address.flat, address.number, address.street) == ("2", "14", "oak road")


def test_house_number_with_letter_and_town_repeated_in_the_lines():
    address = normalise_address("14b Oak Road, Walsall", None, "Walsall", None)
    assert address is not None
    assert (address.number, address.street, address.town) == ("14b", "oak road", "walsall")


def test_a_named_house_keeps_its_name():
    address = normalise_address("Rose Cottage Mill Ln", None, None, "B1 1AA")
    assert address is not None
    assert (address.premise, address.street, address.number) == ("rose cottage", "mill lane", None)
    assert address.has_dwelling


def test_a_postcode_alone_identifies_no_dwelling():
    address = normalise_address(None, None, None, "WS1 2AB")
    assert address is not None
    assert not address.has_dwelling
    assert normalise_address(None, None, None, None) is None
