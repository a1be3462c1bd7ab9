"""`python -m service batch INPUT -o OUT.jsonl`: extract many articles, resumably.

Exit codes, so scripts can tell a finished batch from one to re-run:
0 every article in OUT is ok; 1 the batch finished but some articles failed
(their lines say why); 2 bad command line; 3 the batch stopped before the end
(re-run the same command to resume); 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler

from service.batch import run_batch
from service.cli_options import build_settings, settings_options
from service.errors import ExtractionError
from service.redact import protect

EXIT_FAILURES = 1
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130


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
        with _batch_logging(quiet, console):
            summary = run_batch(
                input_spec,
                output,
                settings=settings,
                concurrency=concurrency,
                quiet=quiet,
                retry_failed=retry_failed,
                console=console,
            )
    except ExtractionError as exc:
        click.echo(f"batch stopped: {exc}\nre-run the same command to resume", err=True)
        sys.exit(EXIT_STOPPED)
    except KeyboardInterrupt:
        click.echo(f"interrupted: re-run the same command to resume into {output}", err=True)
        sys.stderr.flush()
        # Workers may wait on the model for minutes; their results would be dropped anyway.
        # Every written line is already fsynced and cache writes are atomic, so exit now.
        os._exit(EXIT_INTERRUPTED)
    click.echo(summary.render(), err=True)
    if not summary.all_ok:
        click.echo(f'some articles failed: see the lines with "ok": false in {output}', err=True)
        sys.exit(EXIT_FAILURES)  # sys.exit, not ctx.exit: survives standalone_mode=False


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
    batch_log, instructor_log = logging.getLogger("service.batch"), logging.getLogger("instructor")
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


if __name__ == "__main__":
    batch()
