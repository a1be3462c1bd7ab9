"""`python -m service batch INPUT -o OUT.jsonl`: extract many articles, resumably.

Exit codes, so scripts can tell a finished batch from one to re-run:
0 every article in OUT is ok; 1 the batch finished but some articles failed
(their lines say why); 2 bad command line; 3 the batch stopped before the end
(re-run the same command to resume); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from service.errors import ExtractionError
from service.front.batch.run import BatchProgress, BatchSummary, run_batch
from service.front.cli.options import build_settings, settings_options
from service.front.results import BatchItemResult
from service.infra.redact import protect

EXIT_FAILURES = 1
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill PID`, how a background batch is stopped): the batch stops as on Ctrl-C."""


@click.command("batch")
@click.argument("input_spec", metavar="INPUT")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Results as JSONL, one line per article. An existing file is resumed.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Articles in flight [default: 1 on the embedded model (or NEWSEVENTS_N_PARALLEL), "
    "4 on a remote endpoint]. "
    "On the embedded model it is also the server's number of parallel slots.",
)
@click.option("--quiet", is_flag=True, help="No progress bar: one log line per article.")
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Remove the failed lines of earlier runs from OUTPUT and try those articles again.",
)
@settings_options
def batch(
    input_spec: str,
    output: Path,
    concurrency: int | None,
    quiet: bool,
    retry_failed: bool,
    **options: Any,
) -> None:
    """Extract every article of INPUT into OUTPUT, skipping those it already holds.

    INPUT is a directory of .txt/.html/.md files (id = file name), a JSONL file of
    {"id", "text", "url"?, "published"?} records, or '-' for JSONL on stdin.
    The API key of a remote endpoint is read from NEWSEVENTS_API_KEY or OPENAI_API_KEY.
    """
    if input_spec != "-" and not Path(input_spec).exists():
        raise click.BadParameter(f"{input_spec!r} does not exist", param_hint="INPUT")
    settings = build_settings(**options)
    console = Console(stderr=True)
    try:
        with (
            _sigterm_stops(),
            _batch_logging(quiet, console),
            progress_bar(quiet, console) as progress,
        ):
            summary = run_batch(
                input_spec,
                output,
                settings=settings,
                concurrency=concurrency,
                retry_failed=retry_failed,
                progress=progress,
            )
    except ExtractionError as exc:
        click.echo(f"batch stopped: {exc}\nre-run the same command to resume", err=True)
        sys.exit(EXIT_STOPPED)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        how = "terminated" if terminated else "interrupted"
        click.echo(f"{how}: re-run the same command to resume into {output}", err=True)
        sys.stderr.flush()
        # Workers may wait on the model for minutes; their results would be dropped anyway.
        # Every written line is already fsynced and cache writes are atomic, so exit now.
        os._exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    click.echo(summary.render(), err=True)
    if not summary.all_ok:
        click.echo(f'some articles failed: see the lines with "ok": false in {output}', err=True)
        sys.exit(EXIT_FAILURES)  # sys.exit, not ctx.exit: survives standalone_mode=False


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While the batch runs, SIGTERM raises `Terminated` in the main thread, as Ctrl-C raises
    KeyboardInterrupt: one message and exit 143 instead of a silent death.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _batch_logging(quiet: bool, console: Console) -> Iterator[None]:
    """Log through the bar's console (or plainly when quiet) for the batch, then restore.

    instructor logs every failed call at ERROR; the batch records each failure
    once in its output, so those lines would only repeat it.
    """
    root = logging.getLogger()
    handler: logging.Handler = (
        logging.StreamHandler(sys.stderr)
        if quiet
        else RichHandler(console=console, show_path=False, show_time=False)
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    protect(handler)
    saved = root.handlers[:]
    batch_log = logging.getLogger("service.front.batch")  # the parent of its modules' loggers
    instructor_log = logging.getLogger("instructor")
    levels = batch_log.level, instructor_log.level
    root.handlers[:] = [handler]
    batch_log.setLevel(logging.INFO if quiet else logging.WARNING)
    instructor_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        root.handlers[:] = saved
        batch_log.setLevel(levels[0])
        instructor_log.setLevel(levels[1])


class _RateColumn(ProgressColumn):
    """Articles per minute: the figure people plan batches with."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:.1f}/min" if speed else "-/min", style="progress.data.speed")


class RichProgress(BatchProgress):
    """A rich bar of the batch: done of total, rate, ok and failed counts, ETA."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._total: int | None = None

    def start(self, total: int | None) -> None:
        """Shown only now: a batch refused before it starts prints its one line alone."""
        self._total = total
        self._task = self._progress.add_task("batch", total=total, ok=0, failed=0)
        self._progress.start()

    def stop(self) -> None:
        if self._task is not None:
            self._progress.stop()

    def skip(self) -> None:
        """Entries done earlier leave the total, so rate and ETA are this run's."""
        if self._task is not None and self._total:
            self._total -= 1
            self._progress.update(self._task, total=self._total)

    def done(self, result: BatchItemResult, summary: BatchSummary) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=1, ok=summary.ok, failed=summary.failed)


@contextmanager
def progress_bar(quiet: bool, console: Console | None = None) -> Iterator[BatchProgress]:
    """The rich bar on stderr while the batch runs; nothing when quiet (log lines instead)."""
    if quiet:
        yield BatchProgress()
        return
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TextColumn("ok {task.fields[ok]} failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        speed_estimate_period=600,
    )
    bar = RichProgress(progress)
    try:
        yield bar
    finally:
        bar.stop()
