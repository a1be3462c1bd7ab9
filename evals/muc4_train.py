"""The MUC-4 training split (1,300 reports less the two that overlap the test split): the
split to tune on. Scored exactly as the dev split (`evals.muc4`); only the documents differ.

Rules, prompts, thresholds, lexicons and learned weights are chosen here; dev is only
checked. `--limit N` takes `muc4.subset`'s fixed, stratified sample (the same N gives the
same reports, and a smaller N's reports are among a larger one's); `--limit 300` is the
documented subset for a train run, `--limit 60` the quick one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals import muc4
from evals.muc4 import GoldDoc, render_html, render_markdown, subset
from schemas.events import ArticleEvents

NAME = "muc4-train"
ROOT = Path(__file__).resolve().parent / "sets" / NAME
# The README of the split: 1133 is a test-split report, 0974 shares a passage with one.
HELD_OUT = frozenset({"DEV-MUC3-1133", "DEV-MUC3-0974"})
METRICS = muc4.METRICS
__all__ = ["METRICS", "NAME", "load", "render_html", "render_markdown", "score", "subset"]


def load(path: Path = ROOT / "train.jsonl") -> list[GoldDoc]:
    """The 1,298 reports to tune on, sorted by docid."""
    return [d for d in muc4.load(path) if d.id not in HELD_OUT]


def score(docs: list[GoldDoc], predicted: dict[str, ArticleEvents]) -> dict[str, Any]:
    """The report of one run, as for dev, under this set's name."""
    return muc4.score(docs, predicted, NAME)
