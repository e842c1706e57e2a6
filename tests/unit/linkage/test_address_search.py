"""Address search keys and fit: a partial or misspelt query reaches the address it means and
ranks it above its neighbours."""

from __future__ import annotations

from mast_core.linkage.address_search import address_search_keys, address_similarity
from mast_core.normalise.addresses import normalise_address


def _n(line1=None, town=None, postcode=None):
    address = normalise_address(line1, None, town, postcode)
    assert address is not None
    return address


def test_a_stored_address_is_filed_under_postcode_dwelling_and_street_in_town():
    keys = address_search_keys(_n("12 Oak Rd", "Dudley", "DY1 1AA"))
    assert keys[0] == "pc:DY1 1AA"
    assert any(k.startswith("sd:") and k.endswith(":/12") for k in keys)
    assert any(k.startswith("st:") and k.endswith("@dudley") for k in keys)


def test_partial_queries_share_a_key_with_the_stored_address():
    stored = set(address_search_keys(_n("12 Oak Road", "Dudley", "DY1 1AA")))
    for query in (_n(postcode="dy11aa"), _n("12 oak rd"), _n("oak road", "DUDLEY")):
        assert stored & set(address_search_keys(query))


def test_the_right_house_outranks_its_neighbours():
    query = _n("12 Oak Rd", postcode="DY1 1AA")
    right = address_similarity(query, _n("12 Oak Road", "Dudley", "DY1 1AA"))
    next_door = address_similarity(query, _n("14 Oak Road", "Dudley", "DY1 1AA"))
    other_street = address_similarity(query, _n("12 Elm Road", "Dudley", "DY1 1AB"))
    elsewhere = address_similarity(query, _n("3 Elm Road", "Walsall", "WS3 1EE"))
    assert right == 1.0
    assert right > max(next_door, other_street) > elsewhere
    assert elsewhere < 0.3


def test_a_flat_is_not_the_house_with_its_number():
    query = _n("Flat 2, 12 Oak Road", postcode="DY1 1AA")
    assert address_similarity(query, _n("12 Oak Road", postcode="DY1 1AA")) < 0.8
    assert address_similarity(query, _n("2/12 Oak Road", postcode="DY1 1AA")) == 1.0


def test_parts_the_query_left_out_neither_help_nor_hurt():
    assert address_similarity(_n(postcode="DY1 1AA"), _n("3 Elm Road", "Dudley", "DY1 1AA")) == 1.0
    assert address_similarity(_n(postcode="DY1 1AA"), _n("3 Elm Road", "Dudley", "B1 1AA")) == 0.0
