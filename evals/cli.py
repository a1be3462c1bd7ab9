"""`python -m evals run | compare | sweep`: score a prompt/model against the gold, compare
two runs, or re-score a staged run at stricter attack thresholds.

Run `compare` before changing a prompt: it exits 1 when the candidate regresses.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from evals import calibrate
from evals.compare import DEFAULT_THRESHOLD, compare_reports
from evals.runner import SETS, RunFolderError, run_eval
from service.front.cli.options import build_settings, configure_logging, run_group, settings_options

_PROMPT_REF = re.compile(r"^[a-z0-9_]+@v[0-9][a-z0-9_.-]*$")
_SET = click.option(
    "--set",
    "set_name",
    type=click.Choice(sorted(SETS)),
    default="seeds",
    show_default=True,
    help="Gold set: the five seeds, WikiEvents (23 documents), MUC-4 dev (200 reports) or "
    "MUC-4 train (1,298 reports: the split to tune on).",
)
_LIMIT = click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Score a fixed subset of N documents (the same N every time; see the set's subset()).",
)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log retries and server start-up.")
def main(verbose: bool) -> None:
    """Score extractions against gold: the seeds (ours), WikiEvents and MUC-4 (others')."""
    configure_logging(verbose)


@main.command()
@_SET
@_LIMIT
@settings_options
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Report folder.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(set_name: str, limit: int | None, out: Path | None, quiet: bool, **options: Any) -> None:
    """Extract every document of a gold set, score it, and print a Markdown summary."""
    try:
        report = run_eval(set_name, build_settings(**options), out, limit, quiet)
    except RunFolderError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(SETS[set_name].render_markdown(report))
    paths = report["run"]["paths"]
    click.echo(f"\nreports: {paths['json']}  {paths['html']}", err=True)
    if report["run"]["failures"]:
        for article_id, message in report["run"]["failures"].items():
            click.echo(f"failed: {article_id}: {message}", err=True)


@main.command()
@click.argument("baseline")
@click.argument("candidate")
@_SET
@_LIMIT
@click.option("--threshold", default=DEFAULT_THRESHOLD, show_default=True, type=float)
@settings_options
@click.option("--json-out", type=click.Path(path_type=Path, dir_okay=False))
def compare(
    baseline: str,
    candidate: str,
    set_name: str,
    limit: int | None,
    threshold: float,
    json_out: Path | None,
    **options: Any,
) -> None:
    """Compare two prompt versions (name@vN) or two saved runs (report.json or its folder).

    Exit code 1 when the candidate regresses by more than the threshold on a gated metric.
    """
    base = _report(baseline, set_name, limit, options)
    cand = _report(candidate, set_name, limit, options)
    result = compare_reports(base, cand, threshold=threshold)
    click.echo(result.markdown)
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2))
    sys.exit(1 if result.regression else 0)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@_SET
@click.option(
    "--thresholds",
    default="0.5,0.6,0.7,0.8,0.9,0.95",
    show_default=True,
    help="Comma-separated attack thresholds to try.",
)
@click.option(
    "--fields",
    is_flag=True,
    help="Sweep the field threshold instead: null the fields the model was less sure of.",
)
def sweep(run_dir: Path, set_name: str, thresholds: str, fields: bool) -> None:
    """Re-score a staged run at stricter attack (or field) thresholds (no model calls)."""
    values = [float(t) for t in thresholds.split(",")]
    click.echo(calibrate.markdown(calibrate.sweep(run_dir, set_name, values, fields)))


@main.command("fit-accept")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="A MUC-4 run (made with NEWSEVENTS_ACCEPT=0) to report calibration on; repeatable.",
)
@click.option("--model", default="qwen2.5-coder-1.5b", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the fit; write no weights.")
def fit_accept(runs: tuple[Path, ...], checks: tuple[Path, ...], model: str, dry_run: bool) -> None:
    """Fit the event acceptor on MUC-4 train runs made with NEWSEVENTS_ACCEPT=0."""
    from evals import accept

    if any(json.loads((r / "run.json").read_text())["set"] != "muc4-train" for r in runs):
        raise click.UsageError("fit on muc4-train runs only: dev is only checked")
    fitted, summary = accept.fit(list(runs), model)
    summary["check"] = accept.calibration(fitted, checks) if checks else None
    command = "python -m evals fit-accept " + " ".join(
        [*(str(r) for r in runs), *(f"--check {c}" for c in checks)]
    )
    click.echo(json.dumps(summary, indent=1))
    if not dry_run:
        click.echo(f"wrote {accept.write(fitted, summary, command)}", err=True)


def _report(
    which: str, set_name: str, limit: int | None, options: dict[str, Any]
) -> dict[str, Any]:
    """A saved report, or a fresh run of a prompt version (cached answers make it quick)."""
    if _PROMPT_REF.match(which):
        settings = build_settings(**{**options, "prompt": which})
        return run_eval(set_name, settings, None, limit, quiet=True)
    path = Path(which)
    path = path / "report.json" if path.is_dir() else path
    if not path.is_file():
        raise click.BadParameter(f"{which!r} is neither a prompt name@vN nor a report.json")
    return json.loads(path.read_text(encoding="utf-8"))


def entry() -> None:
    """Entry point of `python -m evals`; a model failure exits 2, a regression 1."""
    run_group(main, failure_code=2)
