"""The routes of the HTTP API, and the dependencies that hand them what they share.

Extraction routes run the extraction in a worker thread (`in_thread`), so concurrent
requests share one model, one answer cache and one call log (the Extractor is
thread-safe), and a shutdown can abandon a thread that waits on the model.
`create_app` puts the shared state on `app.state`; the dependencies here read it
from there, so a route names what it needs.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.events import ArticleEvents
from service.errors import Cancelled, ExtractionError, ModelUnavailableError
from service.front.http.errors import documented, public
from service.front.http.models import (
    BatchRequest,
    BatchResponse,
    ExtractRequest,
    Health,
    LinkRequest,
    LinkResponse,
)
from service.front.http.state import Coalescer, Extractors
from service.front.results import BatchItemResult, ErrorInfo
from service.link import link_records

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

HEALTH_PATH = "/v1/health"
OPENAPI_PATH = "/openapi.json"

_bearer = HTTPBearer(
    auto_error=False, description="Only when the server has a token ($NEWSEVENTS_TOKEN)."
)


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """`Authorization: Bearer <token>` with the server's token, compared in constant time."""
    token: str = request.app.state.token
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
        )


def extractors(request: Request) -> Extractors:
    return request.app.state.extractors


def coalescer(request: Request) -> Coalescer:
    return request.app.state.coalescer


Pool = Annotated[Extractors, Depends(extractors)]
Flights = Annotated[Coalescer, Depends(coalescer)]

#: Routes that need the token when the server has one.
guarded = APIRouter()
#: Routes open to anyone: probes must not need a secret.
open_routes = APIRouter()


def _check_prompts(
    pool: Extractors, requests: list[tuple[tuple[str | int, ...], str | None]]
) -> None:
    """A 422 naming each request whose prompt this server does not have."""
    errors = [
        {
            "loc": ("body", *loc, "prompt"),
            "msg": f"unknown prompt {prompt!r}; available: " + ", ".join(pool.prompts),
            "type": "value_error",
        }
        for loc, prompt in requests
        if prompt is not None and prompt not in pool.prompts
    ]
    if errors:
        raise RequestValidationError(errors)


async def in_thread(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Blocking work in a worker thread that a cancelled request abandons.

    FastAPI's own threadpool waits for the thread, and a request in flight to a remote
    endpoint cannot be woken: a shutdown would wait for the model's answer.
    """
    call = functools.partial(work, *args, **kwargs)
    return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)


def _run(request: ExtractRequest, pool: Extractors, flights: Coalescer) -> ArticleEvents:
    """One extraction; identical concurrent ones share it when answers are cached."""
    chosen = pool.get(request.prompt)
    key = f"{chosen.template.ref}:{hashlib.sha256(request.text.encode()).hexdigest()}"

    def extract() -> ArticleEvents:
        return chosen.extract(
            request.text, id=request.id or request.url, published=request.published
        )

    record = flights.run(key, extract) if chosen.settings.use_cache else extract()
    pool.load_error = None  # the model answered, whatever warm-up said
    return record


def _batch_item(item: ExtractRequest, pool: Extractors, flights: Coalescer) -> BatchItemResult:
    """One item's record, or its own error: only an unusable model fails the whole batch."""
    try:
        record = _run(item, pool, flights)
    except (ModelUnavailableError, Cancelled):
        raise  # no article can succeed: the whole request is 503
    except ExtractionError as exc:
        error = ErrorInfo(code=exc.code, message=public(str(exc)))
    except Exception:  # a bug costs this item, not the batch
        log.exception("unexpected error on batch item %r", item.id)
        error = ErrorInfo(code="internal_error", message="internal error (see the server log)")
    else:
        return BatchItemResult(id=record.id, ok=True, record=record)
    return BatchItemResult(id=item.id or item.url, ok=False, error=error)


_EXTRACTION_ERRORS = documented(401, 413, 422, 500, 502, 503, 504)


@guarded.post("/v1/extract", response_model=ArticleEvents, responses=_EXTRACTION_ERRORS)
async def extract(request: ExtractRequest, pool: Pool, flights: Flights) -> ArticleEvents:
    """Events of one article, with usage and whether the answer came from the cache."""
    _check_prompts(pool, [((), request.prompt)])
    return await in_thread(_run, request, pool, flights)


@guarded.post("/v1/extract/batch", response_model=BatchResponse, responses=_EXTRACTION_ERRORS)
async def extract_batch(batch: BatchRequest, pool: Pool, flights: Flights) -> BatchResponse:
    """Each article in turn; one article's failure is its own result, not the batch's."""
    _check_prompts(pool, [(("items", i), item.prompt) for i, item in enumerate(batch.items)])
    results = [await in_thread(_batch_item, item, pool, flights) for item in batch.items]
    return BatchResponse(results=results)


@guarded.post("/v1/link", response_model=LinkResponse, responses=documented(401, 413, 422, 500))
def link(request: LinkRequest) -> LinkResponse:
    """Link records across articles, as `python -m service link` does; no model call."""
    result = link_records(request.records)
    return LinkResponse(events=result.events, stats=result.stats.to_dict())


@guarded.get("/v1/schema", responses=documented(401, 500))
async def schema() -> dict[str, Any]:
    """JSON Schema of the record that /v1/extract returns."""
    return ArticleEvents.model_json_schema()


@guarded.get(OPENAPI_PATH, include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    return request.app.openapi()


@guarded.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title=f"{request.app.title} - docs")


@guarded.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url=OPENAPI_PATH, title=f"{request.app.title} - ReDoc")


@open_routes.get(HEALTH_PATH, response_model=Health, responses={503: {"model": Health}})
async def health(request: Request, response: Response, pool: Pool) -> Health:
    """Open without a token, for probes; 503 until the model is loaded. Never blocks.

    It names the model, never a path on the server.
    """
    settings = pool.default.settings
    status = pool.status()
    response.status_code = 200 if status == "ok" else 503
    return Health(
        status=status,
        model_loaded=status == "ok",
        backend=settings.resolved_backend().value,
        model=settings.model if settings.gguf is None else settings.gguf.name,
        prompt=pool.default.template.ref,
        prompts=pool.prompts,
        error=public(pool.load_error) if pool.load_error else None,
    )
