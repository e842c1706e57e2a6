"""Linkage owns the search keys: a record is filed under ``filed_keys`` and a search looks
up ``lookup_keys`` (and the surname-and-year prefix), so any record is found by a search
typed from its own details — whatever those details are."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mast_core.errors import InvalidEvent
from mast_core.linkage import Resolver
from mast_core.linkage.blocking import lookup_keys, surname_year_prefix
from mast_core.linkage.profile import query_profile
from tests.factories import person_event

names = st.one_of(
    st.none(),
    st.sampled_from(["Margaret", "Peggy", "Mohammed", "Ann", "O'Neill", "Smith-Jones", "Wren"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
)
dates = st.one_of(
    st.none(),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)
postcodes = st.one_of(
    st.none(), st.sampled_from(["WS1 2AB", "ws12ab", "DY9 9ZZ", "2250", "B1 1AA"])
)


def _searchable(wanted) -> bool:
    """What the API accepts as a search: a family name with a given name, a date of birth
    or a postcode (a date of birth that is not one is refused with 422)."""
    return bool(wanted.family and (wanted.given or wanted.dob or wanted.postcode_token))


@settings(max_examples=200, deadline=None)
@given(names, names, dates, postcodes)
def test_every_record_is_found_by_a_search_made_from_its_own_details(
    given_name, family_name, date_of_birth, postcode
):
    try:
        event = person_event(
            given=given_name, family=family_name, dob=date_of_birth, postcode=postcode, line1=None
        )
        wanted = query_profile(given_name, family_name, date_of_birth, postcode)
    except InvalidEvent:
        return  # nothing to link on: refused at the door, so never filed
    if not _searchable(wanted) or (date_of_birth and wanted.dob is None):
        return
    filed = set(Resolver(learning=None).resolve(event).keys)
    narrow, wide = lookup_keys(wanted)
    prefix = surname_year_prefix(wanted)
    found = filed & {*narrow, *wide} or (prefix and any(k.startswith(prefix) for k in filed))
    assert found, (filed, narrow, wide, prefix)
