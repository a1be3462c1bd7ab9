"""The outcome of one article of a batch: one model for every front end.

A line of `python -m service batch`'s output and an item of the HTTP batch response
are the same `BatchItemResult`. Needs only pydantic, so the client imports it too.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemas.events import ArticleEvents


class ErrorInfo(BaseModel):
    code: str = Field(description="Machine-readable: bad_input, endpoint_error, unauthorized...")
    message: str = Field(description="One line for a human.")


class BatchItemResult(BaseModel):
    """The outcome of one batch item: a record, or the error that item alone hit."""

    id: str | None = None
    input_line: int | None = Field(
        default=None,
        description="The input line of an entry its id cannot name (no id, or a reused one).",
    )
    url: str | None = None
    ok: bool
    record: ArticleEvents | None = None
    error: ErrorInfo | None = None
    seconds: float | None = Field(
        default=None, description="Time a failed article took (a record has its usage)."
    )

    @property
    def name(self) -> str:
        """How log lines and summaries name the article."""
        return str(self.id) if self.id is not None else f"line {self.input_line}"

    def json_line(self) -> str:
        """One output line: the fields that apply (the record keeps its own nulls)."""
        unset = {"input_line", "url", "record", "error", "seconds"}
        return self.model_dump_json(exclude={k for k in unset if getattr(self, k) is None})
