from dataclasses import replace

import pytest

from mast_core.linkage.parameters import Parameters
from mast_core.linkage.scoring import TWIN_CHECK, Scorer
from tests.factories import profile


def test_agreeing_on_a_common_name_counts_for_less_than_on_a_rare_one():
    scorer = Scorer(Parameters.default())
    for _ in range(300):
        scorer.observe(profile(family="Smith"))
    scorer.observe(profile(family="Quarmby"))
    common = scorer.score(
        profile(family="Smith"), profile(address_id="A2", family="Smith", line1="9 Elm Way")
    )
    rare = scorer.score(
        profile(family="Quarmby"), profile(address_id="A2", family="Quarmby", line1="9 Elm Way")
    )
    assert rare.weight > common.weight + 3


def test_weight_is_prior_plus_contributions_and_explains_itself():
    scorer = Scorer(Parameters.default())
    score = scorer.score(profile(), profile(given="Peggy"))
    total = scorer.parameters.prior_weight + sum(c.weight for c in score.contributions)
    assert abs(score.weight - total) < 0.01
    levels = {c.field: c.level for c in score.contributions}
    assert levels["given_name"] == "nickname"
    assert levels["date_of_birth"] == "exact"
    assert "given name nickname" in score.reason()


def test_twins_are_not_one_person():
    scorer = Scorer(Parameters.default())
    first = profile(given="Oliver", gender="M", dob="2015-06-01")
    second = profile(given="Harriet", gender="M", dob="2015-06-01")
    score = scorer.score(first, second)
    assert any(c.field == TWIN_CHECK for c in score.contributions)
    assert score.weight < scorer.parameters.review_threshold


def test_disagreement_lowers_the_weight():
    scorer = Scorer(Parameters.default())
    same = scorer.score(profile(), profile())
    other_birthday = scorer.score(profile(), profile(dob="1983-11-30"))
    assert same.weight - other_birthday.weight > 15


def test_parameters_round_trip_through_a_file(tmp_path):
    parameters = Parameters.default()
    path = tmp_path / "p.json"
    parameters.save(path)
    loaded = Parameters.load(path)
    assert loaded.weights == parameters.weights
    assert loaded.match_threshold == parameters.match_threshold


def test_the_twin_check_is_for_children():
    """Twins share a home as children; two adults of one family name and birth date at one
    address with different given names are more often one person under another name."""
    scorer = Scorer(Parameters.default())
    children = scorer.score(
        profile(given="Oliver", dob="2015-06-01"), profile(given="Harriet", dob="2015-06-01")
    )
    adults = scorer.score(
        profile(given="Oliver", dob="1975-06-01"), profile(given="Harriet", dob="1975-06-01")
    )
    assert any(c.field == TWIN_CHECK for c in children.contributions)
    assert not any(c.field == TWIN_CHECK for c in adults.contributions)
    assert adults.weight - children.weight == pytest.approx(-scorer.parameters.twin_penalty)


def _family_weight(scorer: Scorer, a_address: str, b_address: str) -> float:
    score = scorer.score(
        profile(address_id=a_address, given="Margaret", dob="1957-02-13"),
        profile(address_id=b_address, given="Oliver", dob="1990-07-30", line1="9 Elm Way"),
    )
    return next(c.weight for c in score.contributions if c.field == "family_name")


def test_a_shared_family_name_says_less_at_one_address_where_households_are_learnt():
    plain = Scorer(replace(Parameters.default(), household_weight=0.0))
    households = Scorer(replace(Parameters.default(), household_weight=5.0))
    at_home = _family_weight(plain, "A1", "A1") - _family_weight(households, "A1", "A1")
    assert at_home == pytest.approx(5.0)
    # elsewhere the name keeps its whole weight
    assert _family_weight(plain, "A1", "A2") == _family_weight(households, "A1", "A2")
