"""Every HTTP request to the model, metered and held to the article's deadline.

Our transport retries and instructor's schema re-asks each send a new request that
may generate up to `max_tokens` tokens. `MeteredTransport` sits under the openai
client, so it sees every one of them: it records each request's seconds, tokens
and outcome in the extraction's `Budget` (for the usage and the call log), cuts
its timeout to what is left of the article's deadline, and refuses to start one
when nothing is left. It also turns an HTTP 200 whose body is not JSON into a
transport failure (retried like a 5xx), since the model never answered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx2


@dataclass
class Attempt:
    """One request to the model endpoint."""

    seconds: float = 0.0
    status: int | None = None
    error: str | None = None  # why it failed; None for an answer (valid or not)
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(eq=False)  # compared and hashed by identity: one per extraction
class Budget:
    """What one extraction may still spend, and every request it has made."""

    deadline: float  # time.monotonic() by which the extraction must end
    attempts: list[Attempt] = field(default_factory=list)
    expired: bool = False  # set when a request or retry was refused for lack of time
    cancelled: bool = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def cancel(self) -> None:
        """No further request or retry starts (the request in flight runs out)."""
        self.cancelled = True
        self.deadline = float("-inf")


_budget: ContextVar[Budget | None] = ContextVar("newsevents_budget", default=None)


@contextmanager
def budget(seconds: float) -> Iterator[Budget]:
    """Requests made inside (in this thread) are metered and must end within `seconds`."""
    current = Budget(time.monotonic() + seconds)
    token = _budget.set(current)
    try:
        yield current
    finally:
        _budget.reset(token)


def current() -> Budget | None:
    """The budget of the extraction running in this thread, if any."""
    return _budget.get()


class DeadlineReached(httpx2.TimeoutException):
    """No time is left for another request (openai reports it as a timeout)."""


class MalformedAnswer(httpx2.TransportError):
    """HTTP 200 with a body that is not a JSON object: the endpoint failed, not the model."""


class MeteredTransport(httpx2.BaseTransport):
    """Wraps the real transport; see the module docstring."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        spent = _budget.get()
        clamped = False  # whether the article's deadline, not the request timeout, bounds it
        if spent is not None:
            left = spent.remaining()
            if left <= 0:
                spent.expired = True
                raise DeadlineReached("the article's deadline has passed", request=request)
            timeouts = request.extensions.get("timeout", {})
            clamped = any(limit is None or limit > left for limit in timeouts.values())
            request.extensions["timeout"] = {
                phase: left if limit is None else min(limit, left)
                for phase, limit in timeouts.items()
            }
        attempt = Attempt()
        started = time.perf_counter()
        try:
            response = self._inner.handle_request(request)
            attempt.status = response.status_code
            body = response.read()
        except Exception as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
            if spent is not None and clamped and isinstance(exc, httpx2.TimeoutException):
                spent.expired = True  # it ran out of the article's time
            raise
        finally:
            attempt.seconds = time.perf_counter() - started
            if spent is not None:
                spent.attempts.append(attempt)
        if response.status_code != 200:
            attempt.error = f"HTTP {response.status_code}"
            return response
        try:
            usage = json.loads(body).get("usage") or {}
        except (ValueError, AttributeError):
            attempt.error = "HTTP 200 whose body is not a JSON object"
            raise MalformedAnswer(attempt.error, request=request) from None
        attempt.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        attempt.completion_tokens = int(usage.get("completion_tokens") or 0)
        return response

    def close(self) -> None:
        self._inner.close()
