"""`python -m service serve`: the HTTP API (see `service.front.http.app`) under uvicorn.

Binds 127.0.0.1 unless told otherwise. The bearer token is read from an
environment variable, never from the command line, where `ps` would show it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import uvicorn

from service.front.cli.options import build_settings, settings_options
from service.front.http.app import create_app
from service.front.http.models import DEFAULT_MAX_BODY_BYTES
from service.front.http.server import server_config

TOKEN_ENV = "NEWSEVENTS_TOKEN"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--token-env",
    default=TOKEN_ENV,
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the bearer token; when it is set, every route "
    "but /v1/health requires it.",
)
@click.option(
    "--max-body-bytes",
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    type=click.IntRange(1024),
    help="Larger request bodies get 413.",
)
@settings_options
def serve(
    host: str, port: int, token_env: str, max_body_bytes: int, no_cache: bool, **options: Any
) -> None:
    """Serve extraction over HTTP: POST /v1/extract, /v1/extract/batch; GET /v1/health, /v1/schema.

    The API key of a remote endpoint is read from NEWSEVENTS_API_KEY or OPENAI_API_KEY.
    """
    token = os.environ.get(token_env)
    if token is not None and not token.strip():
        raise click.UsageError(f"${token_env} is set but empty: unset it or give it a token")
    if token is None and host not in _LOOPBACK:
        click.echo(
            f"warning: serving on {host} without a token: anyone who can reach it can use "
            f"the model (set ${token_env})",
            err=True,
        )
    app = create_app(
        build_settings(no_cache, **options),
        token=token.strip() if token else None,
        max_body_bytes=max_body_bytes,
    )
    click.echo(f"auth: {'bearer token from $' + token_env if token else 'none'}", err=True)
    server = uvicorn.Server(server_config(app, host=host, port=port, log_level="info"))
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn raises the Ctrl-C again once it has shut down
        code = 130
    else:
        code = 0 if server.started else 1
    # After a shutdown (Ctrl-C), a worker thread may still wait on the model for minutes.
    # Its answer has no one to go to, and the cache and logs are written atomically: exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
