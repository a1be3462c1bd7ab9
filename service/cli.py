"""`python -m service ...`: a thin layer over the Python API."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from service.cli_serve import serve
from service.config import Settings
from service.errors import ExtractionError
from service.extractor import Extractor
from service.logs import CallLog

_SETTING_OPTIONS = ("model", "base_url", "gguf", "prompt", "cache_dir")


def settings_options(command: Any) -> Any:
    """Options shared by every command that runs a model; unset ones fall back to env/defaults."""
    options = [
        click.option("--model", help="Built-in model name, or the remote model name."),
        click.option(
            "--base-url", help="OpenAI-compatible endpoint (default: embedded llama.cpp)."
        ),
        click.option("--gguf", type=click.Path(path_type=Path, dir_okay=False), help="Any GGUF."),
        click.option("--prompt", help="Prompt template as name@version."),
        click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False)),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the cache."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_settings(no_cache: bool = False, **values: Any) -> Settings:
    chosen = {k: v for k, v in values.items() if k in _SETTING_OPTIONS and v is not None}
    if no_cache:
        chosen["use_cache"] = False
    return Settings(**chosen)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log retries and server start-up.")
def main(verbose: bool) -> None:
    """Typed event records from news articles."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


main.add_command(serve)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@settings_options
def extract(paths: tuple[Path, ...], **options: Any) -> None:
    """Extract events from article files ('-' reads stdin); prints JSON."""
    with Extractor(build_settings(**options)) as extractor:
        records = []
        for path in paths:
            data = sys.stdin.buffer.read() if str(path) == "-" else _read(path)
            records.append(extractor.extract(data, id=path.name if str(path) != "-" else None))
    dumped = [r.model_dump(mode="json") for r in records]
    click.echo(json.dumps(dumped[0] if len(dumped) == 1 else dumped, indent=2, ensure_ascii=False))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


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
    """Entry point: a typed failure becomes one line on stderr and exit code 1."""
    try:
        main(standalone_mode=False)
    except ExtractionError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
