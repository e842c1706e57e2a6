"""Properties that must hold for any input a partner can send: the normalisers and the
validation never raise anything but the errors they document, and normalising twice changes
nothing. Hypothesis generates the inputs (including lone surrogates, control characters and
absurd dates), bounded so the suite stays quick."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mast_core.errors import InvalidEvent
from mast_core.events import parse_event
from mast_core.linkage import Resolver
from mast_core.normalise.addresses import normalise_address
from mast_core.normalise.dates import is_placeholder_birth_date, parse_birth_date
from mast_core.normalise.identifiers import normalise_nhs_number, normalise_uprn
from mast_core.normalise.names import normalise_person_name, phonetic
from mast_core.normalise.postcodes import normalise_postcode

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.one_of(st.none(), st.text(max_size=40))
date_like = st.one_of(
    text,
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.from_regex(r"\A\d{1,4}[-/. ]\d{1,2}[-/. ]\d{1,4}\Z"),
)
postcode_like = st.one_of(
    text, st.from_regex(r"\A[A-Za-z]{1,2}[0-9OoIi][A-Za-z0-9]? ?[0-9OoIi][A-Za-z]{2}\Z")
)


@BOUNDED
@given(text)
def test_a_postcode_normalises_once_and_for_all(value):
    first = normalise_postcode(value)
    if first is not None:
        again = normalise_postcode(first.text)
        assert again is not None
        assert (again.text, again.valid) == (first.text, first.valid)


@BOUNDED
@given(postcode_like)
def test_a_valid_postcode_stays_valid_and_unchanged(value):
    first = normalise_postcode(value)
    if first is not None and first.valid:
        assert first.sector is not None and first.outward is not None
        assert normalise_postcode(first.text.lower()) == first


@BOUNDED
@given(date_like)
def test_birth_dates_never_raise_and_placeholders_are_never_evidence(value):
    parsed = parse_birth_date(value)
    if is_placeholder_birth_date(value):
        assert parsed is None
    if parsed is not None:
        assert 1 <= parsed.month <= 12 and 1 <= parsed.day <= 31
        assert parse_birth_date(parsed.digits) == parsed  # its own digits read back the same


@BOUNDED
@given(text, text, text, postcode_like)
def test_addresses_never_raise(line1, line2, town, postcode):
    normalise_address(line1, line2, town, postcode)


@BOUNDED
@given(text, text, text)
def test_names_and_identifiers_never_raise(given_name, family_name, identifier):
    name = normalise_person_name(given_name, family_name)
    assert normalise_person_name(name.given, name.family).family == name.family
    phonetic(name.family)
    normalise_nhs_number(identifier)
    normalise_uprn(identifier)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
subject = st.fixed_dictionaries(
    {},
    optional={
        "given_name": json_value,
        "family_name": json_value,
        "date_of_birth": st.one_of(date_like, json_value),
        "gender": json_value,
        "address": st.one_of(
            json_value,
            st.fixed_dictionaries(
                {}, optional={"line1": text, "town": text, "postcode": postcode_like}
            ),
        ),
        "nhs_number": json_value,
    },
)
event = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.one_of(st.text(max_size=20), json_value),
        "agency": st.one_of(st.sampled_from(["POLICE", "fire", "Health", "NOPE"]), json_value),
        "occurred_at": st.one_of(
            st.datetimes().map(lambda t: t.isoformat()), st.text(max_size=30), json_value
        ),
        "subject": st.one_of(subject, json_value),
        "case_status": json_value,
        "contact": json_value,
    },
)


@BOUNDED
@given(event)
def test_validation_refuses_only_with_invalid_event_and_what_it_accepts_resolves(
    data: dict[str, Any],
):
    try:
        accepted = parse_event(data)
    except InvalidEvent as refused:
        assert refused.problems
        return
    # anything validation lets in can be resolved without error
    Resolver(learning=None).resolve(accepted)
