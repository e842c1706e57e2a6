from mast_core.linkage.parameters import Parameters
from mast_core.linkage.scoring import TWIN_CHECK, Scorer
from tests.unit.linkage.conftest import profile


def test_agreeing_on_a_common_name_counts_for_less_than_on_a_rare_one():
    scorer = Scorer(Parameters.default())
    for _ in range(300):
        scorer.observe(profile(family="Smith"))
    scorer.observe(profile(family="Quarmby"))
    common = scorer.score(profile(family="Smith"), profile(family="Smith"))
    rare = scorer.score(profile(family="Quarmby"), profile(family="Quarmby"))
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
