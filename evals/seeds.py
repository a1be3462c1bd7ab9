"""The five seed articles with our own gold (`evals/gold/`), as one gold set among three.

Same interface as `evals.wikievents` and `evals.muc4`; the scoring itself is
`evals.scoring` (event alignment and field credits, rules in evals/GUIDELINES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.links import load_link_gold, score_links
from evals.report import render_html as _html
from evals.report import render_markdown as _markdown
from evals.scoring import load_gold, score_run
from schemas.events import ArticleEvents

NAME = "seeds"
ROOT = Path(__file__).resolve().parent.parent / "seeds"
GOLD = Path(__file__).resolve().parent / "gold"


@dataclass(frozen=True)
class GoldDoc:
    id: str
    text: str
    record: ArticleEvents


def load(root: Path = ROOT, gold_dir: Path = GOLD) -> list[GoldDoc]:
    """Gold records with their texts, refusing a gold file whose seed text changed."""
    return [
        GoldDoc(i, text, record) for i, (text, record) in sorted(load_gold(root, gold_dir).items())
    ]


def subset(docs: list[GoldDoc], limit: int) -> list[GoldDoc]:
    """The first `limit` seeds by id (there are only five)."""
    if limit < 0:
        raise ValueError("--limit must not be negative")
    return docs[:limit]


def score(docs: list[GoldDoc], predicted: dict[str, ArticleEvents]) -> dict[str, Any]:
    """Per-article event and field scores, plus cross-article links (`evals.links`).

    Links are whole-set figures (a pair spans two articles), so they sit beside the
    per-document tallies rather than in them, and the bootstrap does not resample them.
    """
    report = score_run({d.id: (d.text, d.record) for d in docs}, predicted)
    report["links"] = score_links(predicted, load_link_gold())
    return report


def render_markdown(report: dict[str, Any]) -> str:
    return _markdown(report)


def render_html(report: dict[str, Any]) -> str:
    return _html(report)
