"""Compare two saved eval reports: did the candidate get better or worse, and where?

Any gold set's two reports compare the same way: every metric is one measure of a named
`Tally` (`evals.tally`), and every delta comes with a paired bootstrap 95% interval
(`scipy.stats.bootstrap`, paired, percentile): documents are resampled with replacement
(the same resample for both runs, fixed seed), the tallies are summed over each resample
and the measure recomputed, and the 2.5th / 97.5th percentiles of the
candidate-minus-base differences bound the delta.

The verdict is deliberately simple: a regression when a gated metric of the set (seeds:
`event_f1`, `field_f1`; WikiEvents: `attack_recall`, `event_precision`; MUC-4:
`role_f1`, `false_event_rate`) moves the wrong way by more than `threshold`. The intervals
are reported so a reader can tell noise from a real change; they do not gate. For the
seeds the comparison also lists what each article gained and lost, event by event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from evals.fields import FIELD_NAMES

DEFAULT_THRESHOLD = 0.02


@dataclass(frozen=True)
class Delta:
    """F1 of base and candidate on the shared articles, and the bootstrap 95% interval."""

    base: float
    cand: float
    delta: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class FieldChange:
    event: str  # gold event label
    field: str
    base: float | None  # None: neither side stated the field
    cand: float | None


@dataclass(frozen=True)
class ArticleDiff:
    """What one article gained and lost: gold events newly matched or missed, field credits."""

    id: str
    gained: list[str]
    lost: list[str]
    changed: list[FieldChange]
    extra_base: int  # predicted events with no gold match
    extra_cand: int


@dataclass(frozen=True)
class Comparison:
    threshold: float
    regression: bool
    reasons: list[str]
    headline: dict[str, Delta]
    fields: dict[str, Delta]
    articles: list[ArticleDiff]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "markdown": self.markdown}

    @property
    def markdown(self) -> str:
        return render_comparison(self)


def _tallies(report: dict[str, Any], ids: list[str], name: str) -> np.ndarray:
    """Per-document counts of one named tally, shape (4, n): tp_pred, n_pred, tp_gold, n_gold."""
    empty = {"tp_pred": 0.0, "n_pred": 0.0, "tp_gold": 0.0, "n_gold": 0.0}
    rows = [report["documents"][i]["tallies"].get(name, empty) for i in ids]
    return np.array([[r[k] for r in rows] for k in empty], dtype=float)


def _measure(counts: np.ndarray, measure: str) -> np.ndarray:
    """A measure of the tally summed over the last axis (one value per bootstrap sample)."""
    tp_pred, n_pred, tp_gold, n_gold = counts.sum(axis=-1)
    precision = np.where(n_pred > 0, tp_pred / np.maximum(n_pred, 1), np.where(n_gold > 0, 0, 1))
    recall = np.where(n_gold > 0, tp_gold / np.maximum(n_gold, 1), np.where(n_pred > 0, 0, 1))
    if measure == "precision":
        return precision
    if measure == "recall":
        return recall
    total = precision + recall
    return np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)


def _delta(base: np.ndarray, cand: np.ndarray, measure: str, n_boot: int, seed: int) -> Delta:
    """The change of one measure, with scipy's paired percentile bootstrap interval.

    Both runs are resampled by the same documents (`paired=True`); a measure is of the
    tallies summed over a resample, so a document counts by its events, not once.
    """
    b, c = float(_measure(base, measure)), float(_measure(cand, measure))
    if base.shape[-1] < 2:  # one document: every resample is the same, so is the delta
        low = high = c - b
    else:
        result = stats.bootstrap(
            (base, cand),
            lambda x, y, axis: _measure(y, measure) - _measure(x, measure),
            paired=True,
            vectorized=True,
            axis=-1,
            n_resamples=n_boot,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        low, high = result.confidence_interval
    return Delta(base=b, cand=c, delta=round(c - b, 12), ci_low=float(low), ci_high=float(high))


def _article_diff(article_id: str, base: dict[str, Any], cand: dict[str, Any]) -> ArticleDiff:
    labels = base["gold_labels"]
    b_pairs = {p["gold"]: p["credits"] for p in base["pairs"]}
    c_pairs = {p["gold"]: p["credits"] for p in cand["pairs"]}
    changed = [
        FieldChange(labels[g], name, b_pairs[g][name], c_pairs[g][name])
        for g in sorted(b_pairs.keys() & c_pairs.keys())
        for name in FIELD_NAMES
        if b_pairs[g][name] != c_pairs[g][name]
    ]
    return ArticleDiff(
        id=article_id,
        gained=[labels[g] for g in sorted(c_pairs.keys() - b_pairs.keys())],
        lost=[labels[g] for g in sorted(b_pairs.keys() - c_pairs.keys())],
        changed=changed,
        extra_base=len(base["unmatched_pred"]),
        extra_cand=len(cand["unmatched_pred"]),
    )


def compare_reports(
    base: dict[str, Any],
    cand: dict[str, Any],
    threshold: float = DEFAULT_THRESHOLD,
    n_boot: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Deltas of every metric with bootstrap intervals, per-article diffs, and the verdict.

    Works on any gold set's report: each metric is a measure of a named tally, recomputed
    from per-document tallies for each resample. A gated metric that moves the wrong way
    by more than `threshold` (down, or up for a lower-is-better rate) is a regression.
    """
    if base.get("set", "seeds") != cand.get("set", "seeds"):
        raise ValueError(f"reports of different gold sets: {base.get('set')} vs {cand.get('set')}")
    ids = sorted(base["documents"].keys() & cand["documents"].keys())
    if not ids:
        raise ValueError("the two reports share no article")
    warnings = [
        f"article {i} is only in the {side} report and is left out"
        for side, report, other in (("base", base, cand), ("candidate", cand, base))
        for i in sorted(report["documents"].keys() - other["documents"].keys())
    ]
    deltas = {
        name: _delta(
            _tallies(base, ids, spec["tally"]),
            _tallies(cand, ids, spec["tally"]),
            spec["measure"],
            n_boot,
            seed,
        )
        for name, spec in cand["metrics"].items()
        if name in base["metrics"]
    }
    specs = cand["metrics"]
    reasons = []
    for name, d in deltas.items():
        worse = -d.delta if specs[name]["better"] == "higher" else d.delta
        if specs[name]["gate"] and worse > threshold:
            reasons.append(f"{name} got worse by {worse:.3f} (more than {threshold})")
    articles = []
    for i in ids if "articles" in base and "articles" in cand else []:
        if base["articles"][i]["gold_hash"] != cand["articles"][i]["gold_hash"]:
            warnings.append(f"article {i}: gold differs between the reports; events not diffed")
            continue
        articles.append(_article_diff(i, base["articles"][i], cand["articles"][i]))
    return Comparison(
        threshold=threshold,
        regression=bool(reasons),
        reasons=reasons,
        headline={k: d for k, d in deltas.items() if specs[k]["gate"]},
        fields={k: d for k, d in deltas.items() if not specs[k]["gate"]},
        articles=articles,
        warnings=warnings,
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_comparison(c: Comparison) -> str:
    """Markdown for a pull request comment or a terminal."""
    verdict = "REGRESSION" if c.regression else "no regression"
    lines = [f"# Eval comparison: {verdict}", ""]
    lines += [f"- {r}" for r in c.reasons] + [f"- warning: {w}" for w in c.warnings]
    lines += [
        "",
        f"Regression threshold: a headline F1 drop of more than {c.threshold}.",
        "",
        "| metric | base | candidate | delta | 95% CI |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, d in (*c.headline.items(), *c.fields.items()):
        lines.append(
            f"| {name} | {d.base:.3f} | {d.cand:.3f} | {d.delta:+.3f} "
            f"| [{d.ci_low:+.3f}, {d.ci_high:+.3f}] |"
        )
    for a in c.articles:
        if not (a.gained or a.lost or a.changed or a.extra_base != a.extra_cand):
            continue
        lines += ["", f"## {a.id}", ""]
        lines += [f"- gained: {label}" for label in a.gained]
        lines += [f"- lost: {label}" for label in a.lost]
        if a.extra_base != a.extra_cand:
            lines.append(f"- unmatched predictions: {a.extra_base} -> {a.extra_cand}")
        lines += [
            f"- {ch.field} {_fmt(ch.base)} -> {_fmt(ch.cand)}: {ch.event}" for ch in a.changed
        ]
    return "\n".join(lines) + "\n"
