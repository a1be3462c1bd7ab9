"""`python -m service ...`: a thin layer over the Python API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from service.cli_batch import batch
from service.cli_link import link
from service.cli_options import build_settings, configure_logging, run_group, settings_options
from service.cli_serve import serve
from service.errors import ExtractionError, InputError, ModelUnavailableError
from service.extractor import Extractor
from service.logs import CallLog
from service.text import read_limited


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log retries and server start-up.")
def main(verbose: bool) -> None:
    """Typed event records from news articles."""
    configure_logging(verbose)


main.add_command(batch)
main.add_command(link)
main.add_command(serve)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@settings_options
def extract(paths: tuple[Path, ...], **options: Any) -> None:
    """Extract events from article files ('-' reads stdin); prints JSON.

    With several files, each one that fails gets its own error line and the others
    are still printed (exit 1 if any failed).
    """
    records, failures = [], 0
    with Extractor(build_settings(**options)) as extractor:
        for path in paths:
            stdin = str(path) == "-"
            try:
                data = read_limited(sys.stdin.buffer, "standard input") if stdin else _read(path)
                records.append(extractor.extract(data, id=None if stdin else path.name))
            except ModelUnavailableError:
                raise  # every other file would fail the same way
            except ExtractionError as exc:
                if len(paths) == 1:
                    raise
                failures += 1
                click.echo(f"error: {path}: {exc}", err=True)
    dumped = [r.model_dump(mode="json") for r in records]
    if dumped:
        output = dumped[0] if len(paths) == 1 else dumped
        click.echo(json.dumps(output, indent=2, ensure_ascii=False))
    if failures:
        sys.exit(1)


def _read(path: Path) -> bytes:
    """A file's bytes, up to the input limit: /dev/zero or a huge file is refused, not read."""
    try:
        with path.open("rb") as stream:
            return read_limited(stream, str(path))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


@main.command()
@click.option("-n", "--count", default=3, show_default=True, help="How many of the latest calls.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False))
def logs(count: int, cache_dir: Path | None) -> None:
    """Show the latest logged model calls (prompts and responses) as JSON."""
    settings = build_settings(cache_dir=cache_dir)
    for row in CallLog(settings.cache_dir / "logs.db").latest(count):
        row["messages"] = json.loads(row["messages"])
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))


def run() -> None:
    """Entry point of `python -m service` and the `newsevents` script."""
    run_group(main)
