import pytest

from mast_core.normalise.postcodes import normalise_postcode


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("WS1 2AB", "WS1 2AB"),
        ("ws12ab", "WS1 2AB"),
        ("  ws1   2ab ", "WS1 2AB"),
        ("WSI 2AB", "WS1 2AB"),  # I typed for 1
        ("0X1 2AB", "OX1 2AB"),  # 0 typed for O
        ("B1O 6UP", "B10 6UP"),  # O typed for 0
        ("CVII 6AE", "CV11 6AE"),
        ("EC1A1BB", "EC1A 1BB"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("W1A 0AX", "W1A 0AX"),
        ("BI2 8LR", "B12 8LR"),  # BI is no postcode area
    ],
)
def test_valid_and_repairable_postcodes(raw, text):
    postcode = normalise_postcode(raw)
    assert postcode is not None
    assert postcode.valid
    assert postcode.text == text


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("75001", "75001"),  # foreign: kept, not dropped
        ("WS125Q", "WS125Q"),  # a character lost: not turned into someone else's postcode
        ("B101Z", "B101Z"),
        ("ws1 2a8", "WS12A8"),
        ("QQ1 1AA", "QQ11AA"),  # no such area
    ],
)
def test_malformed_or_foreign_postcodes_are_kept_and_marked_invalid(raw, kept):
    postcode = normalise_postcode(raw)
    assert postcode is not None
    assert postcode.valid is False
    assert postcode.text == kept
    assert postcode.sector is None


def test_sector_and_outward():
    postcode = normalise_postcode("WS1 2AB")
    assert postcode is not None
    assert (postcode.outward, postcode.sector) == ("WS1", "WS1 2")


@pytest.mark.parametrize("raw", [None, "", "  ", "--"])
def test_nothing_is_none(raw):
    assert normalise_postcode(raw) is None


@pytest.mark.parametrize("raw", ["GIR 0AA", "gir0aa", " GIR  0AA ", "GIR OAA"])
def test_a_real_postcode_outside_the_pattern_is_not_repaired_into_another(raw):
    """Girobank's GIR 0AA: the I/1 repair would make it G1R 0AA, a district that does not
    exist, and the record would stop agreeing with every other written the right way."""
    postcode = normalise_postcode(raw)
    assert postcode is not None
    assert (postcode.text, postcode.valid) == ("GIR 0AA", True)
    assert (postcode.outward, postcode.sector) == ("GIR", "GIR 0")
    assert normalise_postcode("G1R 0AA") != postcode
