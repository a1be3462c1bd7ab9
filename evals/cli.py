"""`python -m evals run | compare`: score a prompt/model against the gold, or two runs.

Run `compare` before changing a prompt: it exits 1 when the candidate regresses.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from evals.compare import DEFAULT_THRESHOLD, compare_reports
from evals.report import render_markdown, write_reports
from evals.scoring import load_gold, score_run
from schemas.events import ArticleEvents
from service.cli_options import build_settings, configure_logging, run_group, settings_options
from service.errors import ExtractionError
from service.extractor import Extractor

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = Path(__file__).resolve().parent / "gold"
_PROMPT_REF = re.compile(r"^[a-z0-9_]+@v[0-9][a-z0-9_.-]*$")


def run_eval(options: dict[str, Any], out: Path | None, quiet: bool = False) -> dict[str, Any]:
    """Extract every gold article with the given settings, score, and write the reports."""
    settings = build_settings(**options)
    gold = load_gold(SEEDS, GOLD)
    predicted: dict[str, ArticleEvents] = {}
    failures: dict[str, str] = {}
    with Extractor(settings) as extractor, _progress(quiet) as progress:
        task = progress.add_task("extracting", total=len(gold))
        for article_id, (text, _) in sorted(gold.items()):
            progress.update(task, description=article_id)
            try:
                predicted[article_id] = extractor.extract(text, id=article_id)
            except ExtractionError as exc:  # scored as an empty prediction, and said so
                failures[article_id] = f"{exc.code}: {exc}"
            progress.advance(task)
        cache = extractor.cache.stats()
    report = score_run(gold, predicted)
    report["run"] = {
        "prompt": settings.prompt,
        "model": settings.model if settings.gguf is None else str(settings.gguf),
        "base_url": settings.base_url,
        "failures": failures,
        "cache": cache,
        "tokens": {
            "prompt": sum(r.usage.prompt_tokens for r in predicted.values() if r.usage),
            "completion": sum(r.usage.completion_tokens for r in predicted.values() if r.usage),
        },
    }
    out = out or ROOT / "runs" / _slug(f"{settings.prompt}-{report['run']['model']}")
    report["run"]["paths"] = {k: str(v) for k, v in write_reports(report, out).items()}
    return report


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        disable=quiet,
        transient=True,
    )


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", Path(value).name if "/" in value else value)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log retries and server start-up.")
def main(verbose: bool) -> None:
    """Score extractions against the hand-labelled gold of the seed articles."""
    configure_logging(verbose)


@main.command()
@settings_options
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Report folder.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(out: Path | None, quiet: bool, **options: Any) -> None:
    """Run the extractor on every seed and print a Markdown summary."""
    report = run_eval(options, out, quiet)
    click.echo(render_markdown(report))
    paths = report["run"]["paths"]
    click.echo(f"\nreports: {paths.get('json')}  {paths.get('html')}", err=True)
    if report["run"]["failures"]:
        for article_id, message in report["run"]["failures"].items():
            click.echo(f"failed: {article_id}: {message}", err=True)


@main.command()
@click.argument("baseline")
@click.argument("candidate")
@click.option("--threshold", default=DEFAULT_THRESHOLD, show_default=True, type=float)
@settings_options
@click.option("--json-out", type=click.Path(path_type=Path, dir_okay=False))
def compare(
    baseline: str, candidate: str, threshold: float, json_out: Path | None, **options: Any
) -> None:
    """Compare two prompt versions (name@vN) or two saved runs (report.json or its folder).

    Exit code 1 when the candidate regresses by more than the threshold.
    """
    base = _report(baseline, options)
    cand = _report(candidate, options)
    result = compare_reports(base, cand, threshold=threshold)
    click.echo(result.markdown)
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2))
    sys.exit(1 if result.regression else 0)


def _report(which: str, options: dict[str, Any]) -> dict[str, Any]:
    """A saved report, or a fresh run of a prompt version (cached answers make it quick)."""
    if _PROMPT_REF.match(which):
        return run_eval({**options, "prompt": which}, None, quiet=True)
    path = Path(which)
    path = path / "report.json" if path.is_dir() else path
    if not path.is_file():
        raise click.BadParameter(f"{which!r} is neither a prompt name@vN nor a report.json")
    return json.loads(path.read_text(encoding="utf-8"))


def entry() -> None:
    """Entry point of `python -m evals`; a model failure exits 2, a regression 1."""
    run_group(main, failure_code=2)
