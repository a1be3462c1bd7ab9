"""Command-line pieces every command shares: the model options and typed-error handling."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from service.config import Backend, Settings
from service.errors import ExtractionError
from service.infra.redact import protect, redact

_SETTING_OPTIONS = ("model", "base_url", "backend", "gguf", "prompt", "cache_dir")


def settings_options(command: Any) -> Any:
    """Options shared by every command that runs a model; unset ones fall back to env/defaults."""
    options = [
        click.option("--model", help="Built-in model name, or the remote model name."),
        click.option("--base-url", help="OpenAI-compatible endpoint [default: embedded]."),
        click.option(
            "--backend",
            type=click.Choice([b.value for b in Backend]),
            help="Kind of endpoint, which picks the structured-output mode [default: from URL].",
        ),
        click.option("--gguf", type=click.Path(path_type=Path, dir_okay=False), help="Any GGUF."),
        click.option("--prompt", help="Prompt template as name@version."),
        click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False)),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the answer cache."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_settings(no_cache: bool = False, **values: Any) -> Settings:
    """Settings from the options a user gave; the rest come from the environment or defaults."""
    chosen = {k: v for k, v in values.items() if k in _SETTING_OPTIONS and v is not None}
    if no_cache:
        chosen["use_cache"] = False
    return Settings(**chosen)


def configure_logging(verbose: bool) -> None:
    """Quiet by default, so a failure is the one line `run_group` prints; -v shows retries.

    instructor logs every failed attempt at ERROR; our own retry policy says the same
    more usefully, so instructor's logger only speaks with -v. Whatever is logged,
    by us or a library, passes a filter that cuts out the API key and tokens.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(message)s")
    logging.getLogger("instructor").setLevel(logging.INFO if verbose else logging.CRITICAL)
    for handler in logging.getLogger().handlers:
        protect(handler)


def run_group(group: click.Group, *, failure_code: int = 1) -> None:
    """Run a click group: a typed failure is one line on stderr and an exit code, no traceback."""
    try:
        group(standalone_mode=False)
    except ExtractionError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(failure_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: one line here; the traceback only with -v
        logging.getLogger(__name__).info("unexpected error", exc_info=True)
        click.echo(f"internal error: {type(exc).__name__}: {redact(str(exc))[:300]}", err=True)
        sys.exit(failure_code)
