import pytest

from mast_core.normalise.names import (
    clean_name,
    name_groups,
    name_parts,
    normalise_person_name,
    phonetic,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  MARGARET ", "margaret"),
        ("Zoë", "zoe"),
        ("O'Neill", "oneill"),
        ("O’Neill", "oneill"),
        ("Smith-Jones", "smith jones"),
        ("Mrs Anne  Marie", "anne marie"),
        ("J.", "j"),
        ("", None),
        (None, None),
        ("---", None),
    ],
)
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


def test_double_barrelled_family_names_keep_their_parts():
    name = normalise_person_name("Anne-Marie", "Thornbury-Kaye")
    assert name.given == "anne"
    assert name.middle == "marie"
    assert name.family == "thornbury kaye"
    assert name.family_parts == ("thornbury", "kaye")


def test_a_whole_name_in_the_given_field_is_split():
    name = normalise_person_name("Jo Bloggs", None)
    assert (name.given, name.family) == ("jo", "bloggs")


def test_titles_are_dropped():
    assert name_parts("Dr John Smith") == ("john", "smith")


@pytest.mark.parametrize(
    ("a", "b"), [("peggy", "margaret"), ("bill", "william"), ("jon", "john"), ("liz", "beth")]
)
def test_nicknames_share_a_group(a, b):
    assert name_groups(a) & name_groups(b)


def test_different_names_share_no_group():
    assert not name_groups("john") & name_groups("margaret")
    assert name_groups("zebedee") == frozenset()
    assert name_groups(None) == frozenset()


def test_phonetic_keys_group_sound_alikes():
    assert phonetic("thornbury") == phonetic("thornberry")
    assert phonetic("smith") != phonetic("jones")
    assert phonetic(None) == ""
