"""Every HTTP request to the model, metered and held to the article's deadline.

Our transport retries and instructor's schema re-asks each send a new request that
may generate up to `max_tokens` tokens. `MeteredTransport` sits under the openai
client, so it sees every one of them: it records each request's seconds, tokens
and outcome in the extraction's `Budget` (for the usage and the call log), cuts
its timeout to what is left of the article's deadline, and refuses to start one
when nothing is left. A timeout bounds each wait for the next piece of the body,
never the whole, so the body must also arrive by the deadline (`_Bounded`), and
within `MAX_ANSWER_BYTES`. It turns an HTTP 200 whose body is not JSON into a
transport failure (retried like a 5xx), since the model never answered. A token
count it cannot use ("abc", -5, 1e400) counts as 0; the answer is kept.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx2

#: Largest body read from the endpoint, decoded. An answer is at most `max_tokens`
#: tokens: even 10,000 of them with their top-5 log-probabilities are under 8 MB.
MAX_ANSWER_BYTES = 16 * 2**20
#: Largest token count believed: more than any one request holds (and than SQLite stores).
MOST_TOKENS = 10**9
_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")


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
    #: set with `expired` when the wait before the next retry would pass the deadline
    retry_wait: float | None = None
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


class AnswerTooLarge(httpx2.TransportError):
    """A body over MAX_ANSWER_BYTES: no answer of a model is that large (not retried)."""


class _Bounded(httpx2.SyncByteStream):
    """A response body that ends at the article's deadline, even inside a blocked read.

    The deadline is checked between pieces; a read still waiting at the deadline is
    woken by shutting the connection's socket down from a timer.
    """

    def __init__(self, inner: httpx2.SyncByteStream, spent: Budget, sock: object) -> None:
        self._inner = inner
        self._spent = spent
        self._lock = threading.Lock()
        self._open = True
        self._cut = False
        self._timer: threading.Timer | None = None
        if isinstance(sock, socket.socket):
            self._timer = threading.Timer(max(spent.remaining(), 0.0), self._shut, (sock,))
            self._timer.daemon = True
            self._timer.start()

    def __iter__(self) -> Iterator[bytes]:
        try:
            for piece in self._inner:
                if self._spent.remaining() <= 0:
                    raise DeadlineReached("the article's deadline passed during the answer")
                yield piece
        except Exception as exc:  # or whatever the shut socket made the read raise
            if not self._cut:
                raise
            raise DeadlineReached("the article's deadline passed during the answer") from exc

    def close(self) -> None:
        with self._lock:  # from here on the connection may go back to the pool
            self._open = False
        if self._timer is not None:
            self._timer.cancel()
        self._inner.close()

    def _shut(self, sock: socket.socket) -> None:
        with self._lock:
            if self._open:
                self._cut = True
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


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
            response = _read(response, request, spent)
        except Exception as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
            timed_out = isinstance(exc, httpx2.TimeoutException)
            if spent is not None and (isinstance(exc, DeadlineReached) or (clamped and timed_out)):
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
            answer = json.loads(response.content)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            attempt.error = "HTTP 200 whose body is not a JSON object"
            raise MalformedAnswer(attempt.error, request=request)
        usage = answer.get("usage")
        counted = _counted(usage)
        if counted is not None:
            attempt.prompt_tokens = counted.get("prompt_tokens", 0)
            attempt.completion_tokens = counted.get("completion_tokens", 0)
        if counted == usage:
            return response
        answer["usage"] = counted  # openai, instructor and the call log read it too
        return _decoded(response, request, json.dumps(answer).encode())

    def close(self) -> None:
        self._inner.close()


def _read(
    response: httpx2.Response, request: httpx2.Request, spent: Budget | None
) -> httpx2.Response:
    """The response with its body read and decoded, by the deadline, within MAX_ANSWER_BYTES.

    Decoded size is what counts: a small gzip body can inflate to gigabytes.
    """
    if spent is not None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        response.stream = _Bounded(response.stream, spent, sock)
    pieces: list[bytes] = []
    size = 0
    try:
        for piece in response.iter_bytes():
            size += len(piece)
            if size > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(
                    f"an answer over {MAX_ANSWER_BYTES // 2**20} MB, refused while it was read",
                    request=request,
                )
            pieces.append(piece)
    finally:
        response.close()
    return _decoded(response, request, b"".join(pieces))


def _decoded(response: httpx2.Response, request: httpx2.Request, body: bytes) -> httpx2.Response:
    """The same response with `body`, decoded, as its content (the client must not decode it)."""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name not in ("content-encoding", "content-length")
    ]
    return httpx2.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=request,
        extensions=response.extensions,
    )


def _counted(usage: object) -> dict[str, Any] | None:
    """The usage block with each count we cannot use set to 0; None when there is none."""
    if not isinstance(usage, dict):
        return None  # "usage": "lots" tells nothing
    return usage | {k: _tokens(usage[k]) for k in _COUNTS if k in usage}


def _tokens(value: object) -> int:
    """A token count as the endpoint sent it, or 0 when it is none ("abc", -5, 1e400)."""
    if type(value) is int and 0 <= value <= MOST_TOKENS:
        return value
    return 0
