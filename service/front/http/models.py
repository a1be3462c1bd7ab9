"""Request and response bodies of the HTTP API, shared by the server and the client.

One set of pydantic models is the single source of the OpenAPI document, of the
server's validation and of the client's parsing, so the three cannot drift apart.
This module needs only pydantic: the client imports it without FastAPI.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import ArticleEvents
from schemas.linked import LinkedEvent
from service.front.results import BatchItemResult, ErrorInfo

#: Items per batch request: a batch runs inside one HTTP request, so it must end in
#: minutes on a small model; larger jobs belong to `python -m service batch`.
MAX_BATCH = 16
#: Default request body limit. An article is a few KB; 1 MiB leaves room for HTML pages.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class ExtractRequest(BaseModel):
    """One article, with what the caller already knows about it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The article: plain text or an HTML page.")
    id: str | None = Field(default=None, max_length=1000, description="Echoed in the record.")
    url: str | None = Field(
        default=None, max_length=4000, description="Where the article is from; the id if none."
    )
    published: dt.date | None = Field(
        default=None, description="Publication date; resolves relative dates like 'on Tuesday'."
    )
    prompt: str | None = Field(
        default=None,
        description="Prompt template as 'name@version', one of the server's (see health); "
        "the server's default when unset.",
        examples=["extract_events@v1"],
    )


class BatchRequest(BaseModel):
    """A few articles in one round trip."""

    model_config = ConfigDict(extra="forbid")

    items: list[ExtractRequest] = Field(min_length=1, max_length=MAX_BATCH)


class ErrorResponse(BaseModel):
    """The body of every non-2xx response."""

    error: ErrorInfo


class BatchResponse(BaseModel):
    results: list[BatchItemResult] = Field(description="One per item, in request order.")


class Health(BaseModel):
    """Whether the service can extract now, and with what."""

    status: Literal["ok", "loading", "error"]
    model_loaded: bool = Field(
        description="The model endpoint is resolved (the embedded server is running). "
        "For a remote endpoint this does not prove it is reachable."
    )
    backend: str
    model: str
    prompt: str = Field(description="Default prompt template.")
    prompts: list[str] = Field(description="Every prompt template a request may choose.")
    error: str | None = Field(default=None, description="Why the model could not be loaded.")


class LinkRequest(BaseModel):
    """Per-article records to link across articles (each needs a distinct id)."""

    model_config = ConfigDict(extra="forbid")

    records: list[ArticleEvents] = Field(min_length=1)


class LinkResponse(BaseModel):
    events: list[LinkedEvent] = Field(description="One per real-world event, every report in one.")
    stats: dict[str, float] = Field(description="Reports, comparisons made, links, seconds.")
