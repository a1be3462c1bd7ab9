"""Typed errors: every failure a caller can act on has its own class and a one-line message."""

from __future__ import annotations


class ExtractionError(Exception):
    """Base class for everything `service` raises on purpose."""

    #: short machine-readable name used in batch output and HTTP responses
    code = "extraction_error"


class InputError(ExtractionError):
    """The article cannot be processed as given (empty, binary, too long...)."""

    code = "bad_input"


class ModelUnavailableError(ExtractionError):
    """The model could not be found, verified or started."""

    code = "model_unavailable"


class EndpointError(ExtractionError):
    """The model endpoint kept failing with transient errors (connection, timeout, 429, 5xx)."""

    code = "endpoint_error"


class ModelOutputError(ExtractionError):
    """The model's answer never validated against the schema, even after re-asks."""

    code = "invalid_model_output"


class DeadlineExceeded(EndpointError):
    """The article's `deadline` (every chunk and retry) passed, or would before its next retry."""

    code = "deadline_exceeded"


class Cancelled(ExtractionError):
    """The extractor was closed (Ctrl-C, shutdown) while this article was in progress."""

    code = "cancelled"


class TemplateError(ExtractionError):
    """A prompt reference that names no template, or a template without its blocks."""

    code = "bad_prompt"


class BatchError(ExtractionError):
    """The batch cannot run at all (unusable output file, unreadable input)."""

    code = "batch_error"


class ServiceError(ExtractionError):
    """The HTTP service answered with an error, or could not be reached (`status` None)."""

    def __init__(self, status: int | None, code: str, message: str) -> None:
        prefix = f"HTTP {status} " if status is not None else ""
        super().__init__(f"{prefix}{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
