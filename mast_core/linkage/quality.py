"""Pairwise linkage quality against ground truth.

Two records form a predicted pair when the resolver gave them the same person, a true pair
when they are the same person. Precision is the share of predicted pairs that are true,
recall the share of true pairs that were predicted. Counting goes through the contingency
table of (predicted, true) clusters, so a million records cost a million steps, not a
million squared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass(frozen=True)
class PairwiseQuality:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pairwise_quality(predicted: Mapping[str, str], truth: Mapping[str, str]) -> PairwiseQuality:
    """``predicted`` and ``truth`` map record id → cluster id; records in only one are ignored."""
    common = [key for key in predicted if key in truth]
    return _quality(((predicted[key], truth[key]) for key in common), len(common))


def _quality(labels: Iterable[tuple[str, str]], records: int) -> PairwiseQuality:
    joint: Counter[tuple[str, str]] = Counter(labels)
    by_predicted: Counter[str] = Counter()
    by_true: Counter[str] = Counter()
    for (p, t), n in joint.items():
        by_predicted[p] += n
        by_true[t] += n
    return PairwiseQuality(
        records=records,
        true_pairs=sum(_pairs(n) for n in by_true.values()),
        predicted_pairs=sum(_pairs(n) for n in by_predicted.values()),
        correct_pairs=sum(_pairs(n) for n in joint.values()),
    )


def pair_agreement(a: Mapping[str, str], b: Mapping[str, str]) -> float:
    """Share of record pairs on which two clusterings agree (Rand index), computed from the
    contingency table: pairs together in both, plus pairs apart in both, over all pairs."""
    common = [key for key in a if key in b]
    quality = _quality(((a[k], b[k]) for k in common), len(common))
    total = _pairs(len(common))
    if total == 0:
        return 1.0
    together_both = quality.correct_pairs
    apart_both = total - quality.true_pairs - quality.predicted_pairs + together_both
    return (together_both + apart_both) / total
