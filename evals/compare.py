"""Compare two saved eval reports: did the candidate get better or worse, and where?

Five articles are a tiny sample, so a point delta alone says little. Per-field deltas
come with a paired bootstrap 95% interval: articles are resampled with replacement (the
same resample for both runs, fixed seed), micro P/R/F1 are recomputed from the summed
per-article credits and counts, and the 2.5th / 97.5th percentiles of the candidate-minus-
base F1 differences bound the delta.

The verdict is deliberately simple: a regression when the headline `field_f1` or
`event_f1` of the candidate is lower than the base's by more than `threshold`. The
intervals are reported so a reader can tell noise from a real change; they do not gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from evals.fields import FIELD_NAMES
from evals.scoring import prf_arrays

DEFAULT_THRESHOLD = 0.02
HEADLINES = ("field_f1", "event_f1")


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


def _counts(report: dict[str, Any], ids: list[str]) -> dict[str, np.ndarray]:
    """Per-article (credit, pred, gold) arrays, shape (3, n), for every metric we bootstrap."""
    arts = [report["articles"][i] for i in ids]
    out = {
        "event_f1": np.array(
            [[a["detection"]["all"][k] for a in arts] for k in ("matched", "pred", "gold")],
            dtype=float,
        )
    }
    for name in FIELD_NAMES:
        out[name] = np.array(
            [[a["fields"][name][k] for a in arts] for k in ("credit", "pred", "gold")],
            dtype=float,
        )
    out["field_f1"] = np.sum([out[name] for name in FIELD_NAMES], axis=0)
    return out


def _f1(counts: np.ndarray) -> np.ndarray:
    """F1 from counts summed over the last axis."""
    total = counts.sum(axis=-1)
    return prf_arrays(total[0], total[1], total[2])[2]


def _delta(base: np.ndarray, cand: np.ndarray, samples: np.ndarray) -> Delta:
    b, c = float(_f1(base)), float(_f1(cand))
    diffs = _f1(cand[:, samples]) - _f1(base[:, samples])
    low, high = np.percentile(diffs, [2.5, 97.5])
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
    """Deltas, bootstrap intervals, per-article diffs and the regression verdict."""
    ids = sorted(base["articles"].keys() & cand["articles"].keys())
    if not ids:
        raise ValueError("the two reports share no article")
    warnings = [
        f"article {i} is only in the {side} report and is left out"
        for side, report, other in (("base", base, cand), ("candidate", cand, base))
        for i in sorted(report["articles"].keys() - other["articles"].keys())
    ]
    samples = np.random.default_rng(seed).integers(0, len(ids), size=(n_boot, len(ids)))
    b_counts, c_counts = _counts(base, ids), _counts(cand, ids)
    deltas = {k: _delta(b_counts[k], c_counts[k], samples) for k in b_counts}
    articles = []
    for i in ids:
        if base["articles"][i]["gold_hash"] != cand["articles"][i]["gold_hash"]:
            warnings.append(f"article {i}: gold differs between the reports; events not diffed")
            continue
        articles.append(_article_diff(i, base["articles"][i], cand["articles"][i]))
    reasons = [
        f"{k} fell by {-deltas[k].delta:.3f} (more than {threshold})"
        for k in HEADLINES
        if deltas[k].delta < -threshold
    ]
    return Comparison(
        threshold=threshold,
        regression=bool(reasons),
        reasons=reasons,
        headline={k: deltas[k] for k in HEADLINES},
        fields={name: deltas[name] for name in FIELD_NAMES},
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
