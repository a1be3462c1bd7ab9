"""`python -m service ...`: a thin layer over the Python API."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from service.core.text import read_limited
from service.errors import ExtractionError, InputError, ModelUnavailableError
from service.extractor import Extractor
from service.front.cli.options import build_settings, configure_logging, run_group, settings_options
from service.infra.logs import CallLog

#: command -> (its module, the extra that installs what it imports, or None)
_LAZY_COMMANDS: dict[str, tuple[str, str | None]] = {
    "batch": ("service.front.cli.batch", None),
    "link": ("service.front.cli.link", "link"),
    "serve": ("service.front.cli.serve", "serve"),
}


class _LazyGroup(click.Group):
    """Commands in their own modules, imported when named: `serve` and `link` need extras.

    A command whose extra is not installed still lists, and says which extra to install.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _LAZY_COMMANDS:
            return super().get_command(ctx, name)
        module, extra = _LAZY_COMMANDS[name]
        try:
            command = getattr(importlib.import_module(module), name)
        except ModuleNotFoundError as exc:
            if extra is None or (exc.name or "").startswith(("service", "schemas")):
                raise
            return _missing_extra(name, extra, exc.name)
        assert isinstance(command, click.Command)
        return command


def _missing_extra(name: str, extra: str, module: str | None) -> click.Command:
    def refuse() -> None:
        raise click.UsageError(
            f"'{name}' needs {module}: pip install 'newsevents[{extra}]'", ctx=None
        )

    return click.Command(name, callback=refuse, help=f"(needs the '{extra}' extra)")


@click.group(cls=_LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log retries and server start-up.")
def main(verbose: bool) -> None:
    """Typed event records from news articles."""
    configure_logging(verbose)


@main.command()
# readable=False: click's check would refuse the whole command (usage text, exit 2) for one
# unreadable file; `_read` gives that file its own error line and the others are extracted.
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
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
    """Show the latest model calls as JSON: prompt, answer, each attempt's tokens and seconds."""
    settings = build_settings(cache_dir=cache_dir)
    for row in CallLog(settings.cache_dir / "logs.db").latest(count):
        click.echo(json.dumps(row, indent=2, ensure_ascii=False))


def run() -> None:
    """Entry point of `python -m service` and the `newsevents` script."""
    run_group(main)
