"""The HTTP API: `create_app(settings)` serves one shared Extractor over FastAPI.

Extraction routes are plain `def` functions, so FastAPI runs them in its threadpool
and concurrent requests share one model, one answer cache and one call log (the
Extractor is thread-safe). Every failure leaves as `{"error": {"code", "message"}}`
with one line of text: never a stack trace, never the token or an API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import logging
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.events import ArticleEvents
from service.config import Settings
from service.errors import (
    DeadlineExceeded,
    EndpointError,
    ExtractionError,
    InputError,
    ModelOutputError,
    ModelUnavailableError,
    TemplateError,
)
from service.extractor import Extractor
from service.http_models import (
    DEFAULT_MAX_BODY_BYTES,
    BatchItemResult,
    BatchRequest,
    BatchResponse,
    ErrorInfo,
    ErrorResponse,
    ExtractRequest,
    Health,
    LinkRequest,
    LinkResponse,
)
from service.link import link_records
from service.redact import redact, register
from service.templates import available_templates

log = logging.getLogger(__name__)

HEALTH_PATH = "/v1/health"
_PATH = re.compile(r"(?<![\w:/.~])~?(?:/[^/\s'\"`:,;]+)*/([^/\s'\"`:,;]+)")
BUSY_RETRY_AFTER = 10  # seconds a client is asked to wait when the queue is full
#: A refused body is read and dropped up to this size, so the client reads the refusal.
DRAIN_BYTES = 128 * 1024 * 1024

_STATUS: dict[type[ExtractionError], int] = {
    InputError: 422,
    TemplateError: 422,
    DeadlineExceeded: 504,
    EndpointError: 502,
    ModelOutputError: 502,
    ModelUnavailableError: 503,
}
_ERROR_TEXTS = {
    401: "Missing or wrong bearer token (only when the server has one).",
    413: "Request body over the server's limit.",
    422: "Invalid request, or an article that cannot be read (empty, binary, too long).",
    500: "Unexpected server error; details are only in the server log.",
    502: "The model endpoint failed, or its answer never fit the schema.",
    503: "The model cannot be loaded or started, or too many requests are waiting (busy).",
    504: "The article took longer than the server's deadline setting.",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route can give, for the OpenAPI document."""
    return {s: {"model": ErrorResponse, "description": _ERROR_TEXTS[s]} for s in statuses}


def status_for(exc: ExtractionError) -> int:
    """HTTP status of a typed error: the caller's fault 422, the model's 502/503."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=ErrorInfo(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


class _Guard:
    """Bearer token, body size, body time and load, checked before FastAPI reads anything.

    The body is read here up to the limit and replayed to the app, so a lying or
    missing Content-Length cannot get more than `max_body_bytes` into memory, and a
    body must arrive within `client_timeout` seconds (else 408). A refused body is
    read and dropped (within bounds) before the answer, so the client, still
    sending, reads the 401 or 413 instead of a reset connection. At most
    `max_pending` extraction requests run or wait at once; more get 503 with
    Retry-After, so a queue never grows without bound behind a slow model.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        max_body_bytes: int,
        max_pending: int,
        client_timeout: float,
    ) -> None:
        self.app = app
        self._token = token.encode() if token is not None else None
        self._max = max_body_bytes
        self._max_pending = max_pending
        self._timeout = client_timeout
        self._pending = 0  # only touched on the event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _Body(receive, self._timeout)
        token = self._token
        if token is not None and scope["path"] != HEALTH_PATH and not _authorized(scope, token):
            await body.drop()
            response = error_response(
                401,
                "unauthorized",
                "missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        too_large = error_response(
            413, "too_large", f"request body over the limit of {self._max:,} bytes"
        )
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self._max:
            await body.drop()
            await too_large(scope, receive, send)
            return
        try:
            data = await body.read(self._max)
        except TimeoutError:
            late = error_response(
                408, "timeout", f"the request body did not arrive within {self._timeout:g} s"
            )
            await late(scope, receive, send)
            return
        if data is None:  # the client went away
            return
        if len(data) > self._max:
            await body.drop()
            await too_large(scope, receive, send)
            return
        request: Message | None = {"type": "http.request", "body": data, "more_body": False}

        async def replay() -> Message:
            nonlocal request
            if request is None:
                return await receive()  # after the body: wait for the disconnect
            message, request = request, None
            return message

        extraction = scope["method"] == "POST" and scope["path"].startswith("/v1/extract")
        if extraction and self._pending >= self._max_pending:
            busy = error_response(
                503,
                "busy",
                f"{self._pending} extraction requests are already in progress or waiting "
                "(setting max_pending); retry later",
                headers={"Retry-After": str(BUSY_RETRY_AFTER)},
            )
            await busy(scope, replay, send)
            return
        counted = int(extraction)
        self._pending += counted
        try:
            await _answer_even_a_bug(self.app, scope, replay, send)
        finally:
            self._pending -= counted


class _Body:
    """A request body read under one deadline: kept up to a limit, or dropped."""

    def __init__(self, receive: Receive, seconds: float) -> None:
        self._receive = receive
        self._end = asyncio.get_running_loop().time() + seconds
        self._done = False

    async def _next(self) -> Message:
        left = self._end - asyncio.get_running_loop().time()
        message = await asyncio.wait_for(self._receive(), timeout=max(left, 0))
        self._done = message["type"] == "http.disconnect" or not message.get("more_body", False)
        return message

    async def read(self, limit: int) -> bytes | None:
        """The body, or its first `limit` + 1 bytes if longer; None if the client left.

        Raises TimeoutError when it does not arrive in time.
        """
        chunks, size = [], 0
        while not self._done and size <= limit:
            message = await self._next()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
        return b"".join(chunks)

    async def drop(self) -> None:
        """Read and discard the rest, up to DRAIN_BYTES and the deadline."""
        size = 0
        with contextlib.suppress(TimeoutError):
            while not self._done and size <= DRAIN_BYTES:
                size += len((await self._next()).get("body", b""))


async def _answer_even_a_bug(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the app; an unexpected exception becomes a 500 here and goes no further.

    Starlette re-raises after its own 500, and uvicorn then drops the connection,
    which breaks the client's next request on that kept-alive connection.
    """
    started = False

    async def tracked(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, receive, tracked)
    except Exception:
        log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
        if not started:
            response = error_response(500, "internal_error", "internal error (see the server log)")
            await response(scope, receive, send)


def _authorized(scope: Scope, token: bytes) -> bool:
    value = dict(scope["headers"]).get(b"authorization", b"")
    scheme, _, given = value.partition(b" ")
    return scheme.lower() == b"bearer" and secrets.compare_digest(given.strip(), token)


class _Extractors:
    """One Extractor per prompt version, all on the default one's model endpoint.

    Only the prompt differs between them, so they share the endpoint manager and
    with it the one embedded llama.cpp server. Also tracks whether the model loaded.
    """

    def __init__(self, default: Extractor, *, owned: bool) -> None:
        self.default = default
        self._owned = owned
        self._by_prompt = {default.template.ref: default}
        self._lock = threading.Lock()
        self.warmed = threading.Event()
        self.load_error: str | None = None

    def get(self, prompt: str | None) -> Extractor:
        if prompt is None:
            return self.default
        with self._lock:
            extractor = self._by_prompt.get(prompt)
            if extractor is None:
                extractor = self._by_prompt[prompt] = self.default.with_prompt(prompt)
            return extractor

    def warm(self) -> None:
        """Load the model at start-up rather than in the first request; health shows progress."""
        try:
            self.default.endpoints.endpoint()
        except ExtractionError as exc:
            self.load_error = str(exc)
        except Exception:
            log.exception("loading the model failed")
            self.load_error = "unexpected error while loading the model (see the server log)"
        finally:
            self.warmed.set()

    def status(self) -> Literal["ok", "loading", "error"]:
        if not self.warmed.is_set():
            return "loading"
        return "error" if self.load_error else "ok"

    def close(self) -> None:
        with self._lock:
            if self._owned:  # the prompt variants share the default's model, cache and log
                self.default.close()


class _Flight:
    """One extraction in progress, and the identical requests waiting for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: ExtractionError | None = None
        self.waiters = 0


class _Coalescer:
    """Identical concurrent requests share one extraction: its answer or its failure.

    The first runs; the others wait. When it succeeds they read its answer from the
    cache at once; when it fails they get the same typed error at once, instead of
    each retrying an endpoint that is down, one after another.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    def run(self, key: str, extract: Callable[[], ArticleEvents]) -> ArticleEvents:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                flight.waiters += 1
            else:
                self._flights[key] = _Flight()
        if flight is not None:
            flight.done.wait()
            if flight.error is not None:
                raise copy.copy(flight.error)
            return extract()  # from the cache now
        flight = self._flights[key]
        try:
            return extract()
        except ExtractionError as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def waiting(self) -> int:
        """Requests waiting for an identical one (for tests and diagnostics)."""
        with self._lock:
            return sum(f.waiters for f in self._flights.values())


def create_app(
    settings: Settings | None = None,
    extractor: Extractor | None = None,
    *,
    token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The API over `extractor`, or over a new Extractor for `settings` that the app owns.

    With `token` set, every route but health needs `Authorization: Bearer <token>`.
    A given extractor stays open at shutdown: its creator closes it.
    """
    if token is not None and not token:
        raise ValueError("the token must not be empty")
    pool = _Extractors(extractor or Extractor(settings), owned=extractor is None)
    settings = pool.default.settings
    coalescer = _Coalescer()
    register(token)  # the extractor registered the API key
    article_schema = ArticleEvents.model_json_schema()

    def run(request: ExtractRequest) -> ArticleEvents:
        chosen = pool.get(request.prompt)
        key = f"{chosen.template.ref}:{hashlib.sha256(request.text.encode()).hexdigest()}"

        def extract() -> ArticleEvents:
            return chosen.extract(
                request.text, id=request.id or request.url, published=request.published
            )

        record = coalescer.run(key, extract) if chosen.settings.use_cache else extract()
        pool.load_error = None  # the model answered, whatever warm-up said
        return record

    def batch_item(item: ExtractRequest) -> BatchItemResult:
        try:
            record = run(item)
        except ModelUnavailableError:
            raise  # no article can succeed: the whole request is 503
        except ExtractionError as exc:
            error = ErrorInfo(code=exc.code, message=redact(str(exc)))
        except Exception:  # a bug costs this item, not the batch
            log.exception("unexpected error on batch item %r", item.id)
            error = ErrorInfo(code="internal_error", message="internal error (see the server log)")
        else:
            return BatchItemResult(id=record.id, ok=True, record=record)
        return BatchItemResult(id=item.id or item.url, ok=False, error=error)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=pool.warm, name="newsevents-warm-up", daemon=True).start()
        yield
        pool.close()

    app = FastAPI(
        title="newsevents",
        summary="Typed, evidence-grounded event records from news articles.",
        lifespan=lifespan,
    )
    app.add_middleware(
        _Guard,
        token=token,
        max_body_bytes=max_body_bytes,
        max_pending=settings.max_pending,
        client_timeout=settings.client_timeout,
    )
    app.state.settings = settings  # the server's timeouts come from here
    app.state.coalescer = coalescer  # for diagnostics: how many requests wait on another

    @app.exception_handler(ExtractionError)
    async def _typed_error(_: Request, exc: ExtractionError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.warning("extraction failed: %s: %s", exc.code, redact(str(exc)))
        return error_response(status, exc.code, redact(str(exc)))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    extraction_errors = _errors(401, 413, 422, 500, 502, 503, 504)

    @app.post("/v1/extract", response_model=ArticleEvents, responses=extraction_errors)
    def extract(request: ExtractRequest) -> ArticleEvents:
        """Events of one article, with usage and whether the answer came from the cache."""
        return run(request)

    @app.post("/v1/extract/batch", response_model=BatchResponse, responses=extraction_errors)
    def extract_batch(batch: BatchRequest) -> BatchResponse:
        """Each article in turn; one article's failure is its own result, not the batch's."""
        return BatchResponse(results=[batch_item(item) for item in batch.items])

    @app.post("/v1/link", response_model=LinkResponse, responses=_errors(401, 413, 422, 500))
    def link(request: LinkRequest) -> LinkResponse:
        """Link records across articles, as `python -m service link` does; no model call."""
        result = link_records(request.records)
        return LinkResponse(events=result.events, stats=result.stats.to_dict())

    @app.get(HEALTH_PATH, response_model=Health, responses={503: {"model": Health}})
    async def health(response: Response) -> Health:
        """Open without a token, for probes; 503 until the model is loaded. Never blocks.

        It names the model, never a path on the server.
        """
        status = pool.status()
        response.status_code = 200 if status == "ok" else 503
        return Health(
            status=status,
            model_loaded=status == "ok",
            backend=settings.resolved_backend().value,
            model=settings.model if settings.gguf is None else settings.gguf.name,
            prompt=pool.default.template.ref,
            prompts=available_templates(),
            error=without_paths(pool.load_error) if pool.load_error else None,
        )

    @app.get("/v1/schema", responses=_errors(401, 500))
    async def schema() -> dict[str, Any]:
        """JSON Schema of the record that /v1/extract returns."""
        return article_schema

    return app


def without_paths(message: str) -> str:
    """File names instead of paths: health is open to anyone, the file system is not."""
    return _PATH.sub(lambda m: m.group(1), message)


def validation_message(errors: Any) -> str:
    """'items.2.text: String should have at least 1 character': the field first, in one line."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        field = ".".join(loc[1:] if loc[:1] == ["body"] else loc) or "body"
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)
