from mast_core.linkage.quality import pair_agreement, pairwise_quality


def test_pairwise_precision_recall_f1_by_hand():
    truth = {"a": "1", "b": "1", "c": "1", "d": "2"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y"}
    quality = pairwise_quality(predicted, truth)
    # true pairs ab ac bc; predicted ab cd; correct ab
    assert (quality.true_pairs, quality.predicted_pairs, quality.correct_pairs) == (3, 2, 1)
    assert quality.precision == 0.5
    assert abs(quality.recall - 1 / 3) < 1e-12
    assert abs(quality.f1 - 0.4) < 1e-12


def test_perfect_and_empty():
    truth = {"a": "1", "b": "1"}
    assert pairwise_quality(truth, truth).f1 == 1.0
    assert pairwise_quality({"a": "x", "b": "y"}, truth).recall == 0.0
    assert pairwise_quality({}, truth).records == 0


def test_pair_agreement_counts_together_and_apart():
    a = {"p": "1", "q": "1", "r": "2", "s": "3"}
    b = {"p": "x", "q": "y", "r": "z", "s": "z"}
    # six pairs: pq together in a only; rs together in b only; the other four apart in both
    assert abs(pair_agreement(a, b) - 4 / 6) < 1e-12
    assert pair_agreement(a, a) == 1.0
