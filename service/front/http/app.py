"""The HTTP API: `create_app(settings)` serves one shared Extractor over FastAPI.

The routes and their dependencies are in `routes`, the shared state in
`state`, the body and load limits in `guard`. Every failure leaves as
`{"error": {"code", "message"}}` with one line of text (`errors`): never a stack
trace, never the token or an API key. `stop` is the server's word that it is shutting
down: extractions in progress are answered 503 at once instead of awaited.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.config import Settings
from service.core.templates import PromptTemplate, available_templates, load_template
from service.errors import Cancelled, ExtractionError
from service.extractor import Extractor
from service.front.http.errors import (
    error_response,
    shutting_down,
    status_for,
    validation_message,
)
from service.front.http.guard import BodyGuard
from service.front.http.models import DEFAULT_MAX_BODY_BYTES
from service.front.http.routes import guarded, open_routes, require_token
from service.front.http.state import Coalescer, Extractors
from service.infra.redact import redact, register

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    extractor: Extractor | None = None,
    *,
    token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    prompts: Sequence[PromptTemplate] | None = None,
) -> FastAPI:
    """The API over `extractor`, or over a new Extractor for `settings` that the app owns.

    With `token` set, every route but health needs `Authorization: Bearer <token>`,
    and the OpenAPI document says so. A request may choose any of `prompts` (default:
    every template shipped). A given extractor stays open at shutdown: its creator
    closes it.
    """
    if token is not None and not token:
        raise ValueError("the token must not be empty")
    templates = prompts if prompts is not None else map(load_template, available_templates())
    pool = Extractors(extractor or Extractor(settings), templates, owned=extractor is None)
    settings = pool.default.settings
    register(token)  # the extractor registered the API key

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=pool.warm, name="newsevents-warm-up", daemon=True).start()
        yield
        pool.close()

    app = FastAPI(
        title="newsevents",
        summary="Typed, evidence-grounded event records from news articles.",
        lifespan=lifespan,
        openapi_url=None,  # served by `routes`, behind the token like every route
        docs_url=None,
        redoc_url=None,
    )
    stopping = asyncio.Event()
    app.add_middleware(
        BodyGuard,
        max_body_bytes=max_body_bytes,
        max_pending=settings.max_pending,
        client_timeout=settings.client_timeout,
        stopping=stopping,
    )
    app.state.settings = settings  # the server's timeouts come from here
    app.state.stopping = stopping
    app.state.token = token
    app.state.extractors = pool
    app.state.coalescer = Coalescer()  # also for diagnostics: how many wait on another
    app.include_router(guarded, dependencies=[Depends(require_token)] if token else [])
    app.include_router(open_routes)
    _handle_errors(app)
    return app


def stop(app: FastAPI) -> None:
    """The server is shutting down: answer the extractions in progress 503 now.

    Their threads are abandoned (a request in flight to a remote endpoint cannot be
    woken) and start no further model request. Call it on the event loop.
    """
    app.state.extractors.cancel()
    app.state.stopping.set()


def _handle_errors(app: FastAPI) -> None:
    """Typed errors, invalid requests and HTTP errors all leave as one `ErrorResponse`."""

    @app.exception_handler(ExtractionError)
    async def _typed_error(_: Request, exc: ExtractionError) -> JSONResponse:
        if isinstance(exc, Cancelled):  # extractors are only cancelled when the server stops
            return shutting_down()
        status = status_for(exc)
        if status >= 500:
            log.warning("extraction failed: %s: %s", exc.code, redact(str(exc)))
        return error_response(status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)
