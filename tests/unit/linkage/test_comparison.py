import pytest

from mast_core.linkage.comparison import (
    FIELDS,
    compare,
    compare_dob,
    compare_family,
    compare_gender,
    compare_given,
    compare_nhs,
    compare_partner_record,
    compare_residence,
)
from tests.factories import profile


def _given(a, b):
    pa, pb = profile(given=a), profile(given=b)
    return compare_given(pa.given, pb.given, pa, pb)


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Margaret", "MARGARET", "exact"),
        ("Peggy", "Margaret", "nickname"),
        ("Bill", "William", "nickname"),
        ("Margret", "Margaret", "typo"),
        ("Catherine", "Katherine", "nickname"),
        ("Jonathon", "Jonathan", "nickname"),
        ("Christabel", "Christobel", "typo"),
        ("M", "Margaret", "initial"),
        ("J", "Margaret", "disagree"),
        ("Oliver", "Harriet", "disagree"),
        (None, "Margaret", "missing"),
    ],
)
def test_given_name_levels(a, b, level):
    assert _given(a, b) == level


def test_a_person_known_by_a_middle_name_agrees_as_nickname():
    a = profile(given="Anne Louise")
    b = profile(given="Louise")
    assert compare_given(a.given, b.given, a, b) == "nickname"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Thornbury", "thornbury", "exact"),
        ("O'Neill", "ONeill", "exact"),
        ("Thornbury-Kaye", "Kaye", "part"),
        ("Thornbury", "Thornbery", "typo"),
        ("Thornbury", "Thornburyson", "fuzzy"),
        ("Thornbury", "Ashworth", "disagree"),
        ("Thornbury", None, "missing"),
    ],
)
def test_family_name_levels(a, b, level):
    pa, pb = profile(family=a), profile(family=b)
    assert compare_family(pa.family, pb.family, pa.family_parts, pb.family_parts) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("1957-02-13", "13/02/1957", "exact"),
        ("1957-02-03", "1957-03-02", "swapped"),
        ("1957-02-13", "1957-02-18", "typo"),
        ("1957-02-13", "1962-02-13", "month_day"),
        ("1957-02-13", "1975-02-13", "typo"),  # digits transposed
        ("1957-02-13", "1957-02-27", "year_month"),
        ("1957-02-13", "1983-11-30", "disagree"),
        ("1957-02-13", None, "missing"),
    ],
)
def test_date_of_birth_levels(a, b, level):
    assert compare_dob(profile(dob=a), profile(dob=b)) == level


def test_gender_levels():
    assert compare_gender(profile(gender="F"), profile(gender="female")) == "agree"
    assert compare_gender(profile(gender="F"), profile(gender="M")) == "disagree"
    assert compare_gender(profile(gender="F"), profile(gender="U")) == "missing"


def _at(address_id="A2", line1="12 Alder Street", town="Walsall", postcode="WS1 2AB"):
    return profile(address_id=address_id, line1=line1, town=town, postcode=postcode)


def test_residence_levels_from_the_addresses_themselves():
    here = _at(address_id="A1")
    assert compare_residence(here, _at(address_id="A1")) == "same_address"
    # one dwelling that got a second address id from a typo, joined words or a bad postcode
    assert compare_residence(here, _at(line1="12 Aldre St")) == "same_dwelling"
    assert compare_residence(here, _at(line1="12 Al der Street", postcode=None)) == "same_dwelling"
    assert compare_residence(here, _at(line1="12 Alder Street", postcode="WSI 2AX")) == (
        "same_dwelling"  # the town agrees, the postcode could not be read
    )
    assert compare_residence(here, _at(line1="14 Alder Street")) == "same_postcode"
    assert compare_residence(here, _at(line1="14 Alder Street", postcode=None)) == "same_street"
    assert compare_residence(here, _at(line1="3 Elm Way", postcode="WS1 2XY")) == "same_sector"
    assert compare_residence(here, _at(line1="3 Elm Way", postcode="WS1 7XY")) == "same_town"
    assert compare_residence(here, _at(line1="3 Elm Way", postcode=None)) == "same_town"
    assert compare_residence(here, _at(line1="3 Elm Way", town="Dudley", postcode="DY1 1AA")) == (
        "different"
    )
    assert compare_residence(here, _at(address_id=None, line1=None, town=None, postcode=None)) == (
        "missing"
    )


def test_a_postcode_that_is_not_british_still_agrees_with_itself():
    here = _at(address_id="A1", line1="7 Kingsmill Street", town="Gosford", postcode="2250")
    assert compare_residence(
        here, _at(line1="7 Kingsmil lStreet", town="Gosford", postcode="2250")
    ) == ("same_dwelling")
    assert compare_residence(here, _at(line1="9 Ocean Parade", town="Erina", postcode="2250")) == (
        "same_postcode"
    )
    assert compare_residence(here, _at(line1="9 Ocean Parade", town="Erina", postcode="2260")) == (
        "different"
    )


def test_the_same_house_and_street_written_with_another_town_and_postcode():
    """Town and postcode both written wrongly (or a move between two streets of one name):
    its own level, whose weight is learnt from how often strangers share it."""
    here = _at(address_id="A1", line1="19 Baynton Street", town="Ingleburn", postcode="3562")
    for there in (
        _at(line1="19 Baynton Street", town="Seven Hills", postcode="3564"),
        _at(line1="19 Baynton W Treet", town="Seven Hills", postcode="3564"),
    ):
        assert compare_residence(here, there) == "same_house_elsewhere"
    # another house on the street, or the house on another street, is somewhere else
    assert compare_residence(here, _at(line1="21 Baynton Street", town="Seven Hills")) == (
        "different"
    )
    assert compare_residence(here, _at(line1="19 Elm Way", town="Seven Hills")) == "different"
    # in the same UK outward code it is the same town, as before
    walsall = _at(address_id="A1", line1="19 Baynton Street", postcode="WS1 2AB")
    assert compare_residence(
        walsall, _at(line1="19 Baynton Street", town="Bloxwich", postcode="WS1 7XY")
    ) == ("same_town")


def test_nhs_number_is_compared_only_when_both_have_one():
    a = profile(nhs="9434765919")
    assert compare_nhs(a, profile(nhs="943 476 5919")) == "agree"
    assert compare_nhs(a, profile(nhs="4010232137")) == "disagree"
    assert compare_nhs(a, profile(nhs=None)) == "missing"
    assert compare_nhs(a, profile(nhs="1234567890")) == "missing"  # fails its check digit


def test_partner_record_is_compared_only_within_one_partner_system():
    a = profile(agency="POLICE", record="P-1")
    assert compare_partner_record(a, profile(agency="POLICE", record="P-1")) == "same_record"
    assert compare_partner_record(a, profile(agency="POLICE", record="P-2")) == "other_record"
    assert compare_partner_record(a, profile(agency="HEALTH", record="P-1")) == "missing"


def test_swapped_given_and_family_names_are_recognised():
    levels, swapped = compare(
        profile(given="Thornbury", family="Margaret"), profile(given="Margaret", family="Thornbury")
    )
    assert swapped
    named = dict(zip(FIELDS, levels, strict=True))
    assert (named["given_name"], named["family_name"]) == ("exact", "exact")


@pytest.mark.parametrize(
    ("first", "second", "level"),
    [
        (("Chelsea", "Van Groesen"), ("Van Groesen", "Chelsea"), "exact"),
        (("Eliza", "Nguyen"), ("Nguy En", "Elixa"), "typo"),
        (("Dante", "Davila Sanhdars"), ("Davila Sanhdars", "Dante"), "exact"),
    ],
)
def test_a_whole_name_written_in_the_other_order_is_recognised(first, second, level):
    """The words of a reversed name can fall differently between the fields (a given name
    of two words read as given and middle names)."""
    levels, swapped = compare(
        profile(given=first[0], family=first[1]), profile(given=second[0], family=second[1])
    )
    named = dict(zip(FIELDS, levels, strict=True))
    assert swapped
    assert (named["given_name"], named["family_name"]) == (level, level)


def test_two_different_names_are_not_taken_for_one_reversed():
    levels, swapped = compare(
        profile(given="Chelsea", family="Van Groesen"), profile(given="Imogen", family="Clarke")
    )
    assert not swapped
    assert levels[:2] == ("disagree", "disagree")


def test_a_street_in_one_postcode_is_the_dwelling_when_neither_record_gives_a_number():
    here = _at(address_id=None, line1="Alder Street")
    assert compare_residence(here, _at(address_id=None, line1="Aldre Street")) == "same_dwelling"
    # one record gives a number the other lacks: another house on the street may be meant
    assert compare_residence(here, _at(address_id=None)) == "same_postcode"


def test_one_name_written_in_the_other_field_counts_as_the_family_name_agreeing():
    levels, swapped = compare(
        profile(given="Jordan", family="Lavis"), profile(given="Lavis", family="Henry")
    )
    named = dict(zip(FIELDS, levels, strict=True))
    assert swapped
    assert (named["given_name"], named["family_name"]) == ("disagree", "typo")
