"""What the scorers of the external gold sets (`evals.wikievents`, `evals.muc4`) share.

The string rule, the fixed hash order behind `--limit`, the report skeleton that
`evals compare` reads (metrics computed from summed per-document `Tally`s), and the
Markdown / HTML rendering. Article text and model output are untrusted: Jinja2
autoescapes everything, and evidence offsets outside the text are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from jinja2 import Environment, FileSystemLoader

from evals.fields import normalise
from evals.tally import Tally, sum_by_name
from schemas.events import ArticleEvents, Event

_TEMPLATES = Path(__file__).with_name("templates")

STRING_RULE = (
    "Both strings are normalised (evals.fields.normalise: lower-case, curly quotes to "
    "straight, apostrophes/periods/quotes dropped, other punctuation to spaces, one leading "
    "'the'/'a'/'an' dropped, spaces collapsed). exact: equal. contains: equal, or one is a "
    "whole-word contiguous part of the other ('the Taliban militants' ~ 'Taliban'). A string "
    "that normalises to '' never matches."
)


def same(pred: str, gold: str) -> bool:
    """Equal after normalisation (never two empty strings)."""
    p = normalise(pred)
    return bool(p) and p == normalise(gold)


def contains(pred: str, gold: str) -> bool:
    """Equal, or one a whole-word contiguous run of the other, after normalisation.

    `normalise` leaves single spaces between words, so padding with spaces makes substring
    search whole-word: "taliban" is in "the taliban militants", "tali" is not.
    """
    p, g = normalise(pred), normalise(gold)
    return bool(p and g) and (f" {p} " in f" {g} " or f" {g} " in f" {p} ")


def hash_order(ids: Iterable[str]) -> list[str]:
    """Ids sorted by the sha256 of their UTF-8 bytes: a fixed shuffle, the same on every run."""
    return sorted(ids, key=lambda i: hashlib.sha256(i.encode("utf-8")).hexdigest())


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Half-open character spans share at least one character."""
    return a[0] < b[1] and b[0] < a[1]


def evidence_spans(event: Event, text: str) -> list[tuple[int, int]]:
    """The located evidence spans of an event that lie inside the text."""
    return [
        (ev.start, ev.end)
        for ev in event.evidence
        if ev.start is not None and ev.end is not None and ev.start < ev.end <= len(text)
    ]


def text_mismatch(record: ArticleEvents, text: str) -> bool:
    """True when the record says its offsets index a different text than the gold one."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return record.text_sha256 is not None and record.text_sha256 != digest


@dataclass(frozen=True)
class MetricSpec:
    """A named headline number: one measure of one summed tally."""

    name: str
    tally: str
    measure: Literal["precision", "recall", "f1"]
    gate: bool = False
    better: Literal["higher", "lower"] = "higher"


class HasId(Protocol):
    @property
    def id(self) -> str: ...


D = TypeVar("D", bound=HasId)


def build_report(
    name: str,
    docs: Sequence[D],
    predicted: Mapping[str, ArticleEvents],
    score_doc: Callable[[D, ArticleEvents], tuple[dict[str, Tally], dict[str, Any]]],
    metrics: Sequence[MetricSpec],
    rules: dict[str, str],
) -> dict[str, Any]:
    """Score every document (a missing prediction as an empty one) and sum the tallies."""
    per_doc = {d.id: score_doc(d, predicted.get(d.id, ArticleEvents(id=d.id))) for d in docs}
    tallies = sum_by_name(t for t, _ in per_doc.values())
    return {
        "set": name,
        "metrics": metric_values(metrics, tallies),
        "tallies": {k: t.to_dict() for k, t in tallies.items()},
        "documents": {
            i: {"tallies": {k: t.to_dict() for k, t in doc_tallies.items()}, **detail}
            for i, (doc_tallies, detail) in per_doc.items()
        },
        "missing_predictions": [d.id for d in docs if d.id not in predicted],
        "rules": rules,
        "predicted": {
            d.id: predicted[d.id].model_dump(mode="json") for d in docs if d.id in predicted
        },
    }


def metric_values(metrics: Sequence[MetricSpec], tallies: Mapping[str, Tally]) -> dict[str, Any]:
    """The report's "metrics": each spec with its value on the summed tallies."""
    return {
        m.name: {
            "tally": m.tally,
            "measure": m.measure,
            "value": getattr(tallies.get(m.tally, Tally()), m.measure),
            "better": m.better,
            "gate": m.gate,
        }
        for m in metrics
    }


def pair(tally: dict[str, float], side: str) -> str:
    """'hits/total' of one side ("pred" or "gold") of a stored tally."""
    return f"{tally[f'tp_{side}']:g}/{tally[f'n_{side}']:g}"


def summary_rows(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Metric rows and tally rows, formatted for both renderers."""
    tallies = report["tallies"]
    metrics = [
        {
            "name": name,
            "value": f"{m['value']:.3f}",
            "of": f"{m['measure']} of {m['tally']}",
            "better": m["better"],
            "gate": "gate" if m["gate"] else "",
        }
        for name, m in report["metrics"].items()
    ]
    rows = [
        {
            "name": name,
            **{k: f"{t[k]:.3f}" for k in ("precision", "recall", "f1")},
            "pred": pair(t, "pred"),
            "gold": pair(t, "gold"),
        }
        for name, t in tallies.items()
    ]
    return metrics, rows


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table; a '|' inside a cell is escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def markdown_summary(report: dict[str, Any], title: str) -> list[str]:
    """Headline metrics, every tally with its counts, missing predictions and the rules."""
    metrics, tallies = summary_rows(report)
    keys = ("name", "value", "of", "better", "gate")
    lines = [f"# {title}", "", *md_table(keys, ([m[k] for k in keys] for m in metrics))]
    keys = ("name", "precision", "recall", "f1", "pred", "gold")
    lines += ["", "## Tallies (micro totals; pred = right/predicted, gold = found/gold)", ""]
    lines += md_table(keys, ([t[k] for k in keys] for t in tallies))
    if report["missing_predictions"]:
        lines += ["", "No prediction for: " + ", ".join(report["missing_predictions"])]
    mismatched = [i for i, d in report["documents"].items() if d["text_mismatch"]]
    if mismatched:
        lines += [
            "",
            "Predicted on a different text (offsets unreliable): " + ", ".join(mismatched),
        ]
    lines += ["", "## Rules", ""] + [f"- **{k}**: {v}" for k, v in report["rules"].items()]
    return lines


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # CSS class
    label: str  # tooltip


def segments(text: str, spans: Iterable[Span]) -> list[dict[str, str]]:
    """Cut the text at every span edge, so overlapping spans each keep their own class."""
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out = []
    for a, b in pairwise(cuts):
        cover = [s for s in spans if s.start <= a and b <= s.end]
        out.append(
            {
                "text": text[a:b],
                "cls": " ".join(sorted({s.kind for s in cover})),
                "title": "; ".join(dict.fromkeys(s.label for s in cover)),
            }
        )
    return out


def render(template: str, report: dict[str, Any], **context: Any) -> str:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    metrics, tallies = summary_rows(report)
    return env.get_template(template).render(
        set=report["set"],
        metrics=metrics,
        tallies=tallies,
        missing=report["missing_predictions"],
        rules=report["rules"],
        **context,
    )
