"""Gold annotations and the scorer for event extraction (see evals/GUIDELINES.md).

Typical use, with predictions from any extractor:

    gold = load_gold(Path("seeds"), Path("evals/gold"))
    report = score_run(gold, {article_id: record, ...})
    write_reports(report, Path("out"))
    comparison = compare_reports(old_report, report)
"""

from evals.compare import Comparison, compare_reports
from evals.report import render_html, render_markdown, write_reports
from evals.scoring import load_gold, score_article, score_run

__all__ = [
    "Comparison",
    "compare_reports",
    "load_gold",
    "render_html",
    "render_markdown",
    "score_article",
    "score_run",
    "write_reports",
]
