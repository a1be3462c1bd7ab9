"""Python client of the HTTP API: the in-process call shape, the same pydantic records.

    >>> from service.client import Client
    >>> with Client("http://127.0.0.1:8000", token=os.environ.get("NEWSEVENTS_TOKEN")) as c:
    ...     record = c.extract(text, id="a1")    # an ArticleEvents, as Extractor.extract gives

Failures raise `ServiceError`, an `ExtractionError` whose `code` is the server's
("bad_input", "endpoint_error", "unauthorized"...), so code that handles the
in-process errors by `code` handles these too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from schemas.events import ArticleEvents
from service.errors import InputError, ServiceError
from service.front.http.models import (
    BatchItemResult,
    BatchResponse,
    ErrorResponse,
    Health,
    LinkRequest,
    LinkResponse,
)

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = 600.0  # one extraction on a small CPU model can take minutes


class Client:
    """A connection pool to one server; thread-safe, so threads can share one Client."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        connect_timeout: float = 10.0,
    ) -> None:
        """`timeout` bounds each read and write (a whole extraction is one read)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
        )

    def extract(
        self,
        text: str | bytes,
        *,
        id: str | None = None,
        published: dt.date | None = None,
        url: str | None = None,
        prompt: str | None = None,
    ) -> ArticleEvents:
        """Events of one article (str, or UTF-8 bytes; plain text or HTML)."""
        payload = _item(text, id=id, published=published, url=url, prompt=prompt)
        return self._parse(ArticleEvents, self._send("POST", "/v1/extract", json=payload))

    def extract_batch(
        self,
        items: Sequence[str | bytes | Mapping[str, Any]],
        *,
        prompt: str | None = None,
    ) -> list[BatchItemResult]:
        """Up to 16 articles in one request: texts, or dicts with `extract`'s arguments.

        One article's failure is its result's `error`, not an exception; `prompt`
        applies to the items that do not choose their own.
        """
        payload = []
        for item in items:
            given = {"text": item} if isinstance(item, str | bytes) else dict(item)
            given.setdefault("prompt", prompt)
            payload.append(_item(**given))
        response = self._send("POST", "/v1/extract/batch", json={"items": payload})
        return self._parse(BatchResponse, response).results

    def link(self, records: Sequence[ArticleEvents]) -> LinkResponse:
        """Linked events of these records (`service.link.link_records`, run by the server)."""
        body = LinkRequest(records=list(records)).model_dump(mode="json")
        return self._parse(LinkResponse, self._send("POST", "/v1/link", json=body))

    def health(self) -> Health:
        """Status even while the model loads (the server answers 503 then)."""
        response = self._send("GET", "/v1/health", ok=(200, 503))
        return self._parse(Health, response)

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the records `extract` returns."""
        return self._send("GET", "/v1/schema").json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServiceError(
                None, "timeout", f"no answer from {self.base_url} within {self.timeout:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise ServiceError(
                None, "unreachable", f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code not in ok:
            raise _error(response)
        return response

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise ServiceError(
                response.status_code,
                "invalid_response",
                f"the server's answer is not a {model.__name__} (client and server versions "
                f"differ?): {exc.error_count()} error(s), first: {exc.errors()[0]['msg']}",
            ) from exc


def _item(
    text: str | bytes,
    *,
    id: str | None = None,
    published: dt.date | None = None,
    url: str | None = None,
    prompt: str | None = None,
) -> dict[str, Any]:
    """One request item as JSON, leaving out what the caller did not give."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not UTF-8 text: byte 0x{text[exc.start]:02x} at offset {exc.start} "
                "(convert the file to UTF-8 first)"
            ) from None
    values = {"text": text, "id": id, "url": url, "prompt": prompt}
    values["published"] = published.isoformat() if published is not None else None
    return {k: v for k, v in values.items() if v is not None}


def _error(response: httpx.Response) -> ServiceError:
    """The server's `{"error": {code, message}}`, or a summary of whatever else came back."""
    try:
        info = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        text = " ".join(response.text.split())[:200] or response.reason_phrase
        return ServiceError(response.status_code, "http_error", text)
    return ServiceError(response.status_code, info.code, info.message)
