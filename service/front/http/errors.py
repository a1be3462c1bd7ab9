"""How every failure leaves the HTTP API: `{"error": {"code", "message"}}`, one line.

Typed errors map to statuses here (the caller's fault 422, the model's 502/503/504),
and the OpenAPI document lists each route's error responses from the same table. A
message leaves without a secret, and names files, never paths (`public`).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import JSONResponse

from service.errors import (
    DeadlineExceeded,
    EndpointError,
    ExtractionError,
    InputError,
    ModelOutputError,
    ModelUnavailableError,
    TemplateError,
)
from service.front.http.models import ErrorResponse
from service.front.results import ErrorInfo
from service.infra.redact import redact

_PATH = re.compile(r"(?<![\w:/.~])~?(?:/[^/\s'\"`:,;]+)*/([^/\s'\"`:,;]+)")

_STATUS: dict[type[ExtractionError], int] = {
    InputError: 422,
    TemplateError: 422,
    DeadlineExceeded: 504,
    EndpointError: 502,
    ModelOutputError: 502,
    ModelUnavailableError: 503,
}
#: Seconds a client is asked to wait after a 503 (busy, or the server shutting down).
RETRY_AFTER = 10
_ERROR_TEXTS = {
    401: "Missing or wrong bearer token (only when the server has one).",
    413: "Request body over the server's limit.",
    422: "Invalid request, or an article that cannot be read (empty, binary, too long).",
    500: "Unexpected server error; details are only in the server log.",
    502: "The model endpoint failed, or its answer never fit the schema.",
    503: "The model cannot be loaded or started, too many requests are waiting (busy), "
    "or the server is shutting down.",
    504: "The article took longer than the server's deadline setting.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
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
    body = ErrorResponse(error=ErrorInfo(code=code, message=public(message)))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def shutting_down() -> JSONResponse:
    """The answer to an extraction the server will not finish: it is stopping."""
    return error_response(
        503,
        "shutting_down",
        "the server is shutting down; retry later",
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def public(message: str) -> str:
    """A message fit for any client: no secret, and file names instead of paths.

    Health is open to anyone, and any client reads error bodies; the server's file
    system is none of their business.
    """
    return _PATH.sub(lambda m: m.group(1), redact(message))


def validation_message(errors: Any) -> str:
    """'items.2.text: String should have at least 1 character': the field first, in one line."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        field = ".".join(loc[1:] if loc[:1] == ["body"] else loc) or "body"
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)
