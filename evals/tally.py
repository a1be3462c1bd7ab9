"""Precision and recall as a small value type that adds up (after spaCy's `PRFScore`).

Every metric of every gold set is a `Tally`: four counts summed over documents, from
which precision, recall and F1 follow. Precision and recall keep their own numerators
because the gold sets count hits differently on each side: a WikiEvents gold mention is
found when any of our events covers it, while one of our events is right when it
overlaps any gold mention; a MUC-4 entity is found once, however many of our fillers
name it. Where both sides count the same hits (seed fields), `tp_pred == tp_gold`.

Adding per-document tallies and then dividing gives micro averages, and it is what the
paired bootstrap in `evals.compare` resamples.

A ratio whose denominator is 0 is 1.0 when the other side is empty too (nothing to
find, nothing claimed) and 0.0 otherwise; F1 is 0 when precision + recall is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Tally:
    """Hits and totals on the predicted side and on the gold side."""

    tp_pred: float = 0.0  # predictions that are right (or credit they earned)
    n_pred: float = 0.0  # predictions made
    tp_gold: float = 0.0  # gold items found (or credit they earned)
    n_gold: float = 0.0  # gold items there are

    @classmethod
    def of(cls, hits: float, n_pred: float, n_gold: float) -> Tally:
        """The common case: one count of hits serves both sides."""
        return cls(hits, n_pred, hits, n_gold)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.tp_pred + other.tp_pred,
            self.n_pred + other.n_pred,
            self.tp_gold + other.tp_gold,
            self.n_gold + other.n_gold,
        )

    @property
    def precision(self) -> float:
        return ratio(self.tp_pred, self.n_pred, other_empty=self.n_gold == 0)

    @property
    def recall(self) -> float:
        return ratio(self.tp_gold, self.n_gold, other_empty=self.n_pred == 0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def to_dict(self) -> dict[str, float]:
        """Counts and the three ratios, as stored in report.json."""
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tally:
        return cls(data["tp_pred"], data["n_pred"], data["tp_gold"], data["n_gold"])


def ratio(hits: float, total: float, *, other_empty: bool) -> float:
    if total > 0:
        return hits / total
    return 1.0 if other_empty else 0.0


def total(tallies: Iterable[Tally]) -> Tally:
    return sum(tallies, Tally())


def sum_by_name(per_document: Iterable[Mapping[str, Tally]]) -> dict[str, Tally]:
    """Micro totals: each named tally summed over documents (names in first-seen order)."""
    out: dict[str, Tally] = {}
    for tallies in per_document:
        for name, tally in tallies.items():
            out[name] = out.get(name, Tally()) + tally
    return out
