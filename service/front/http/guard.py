"""The ASGI guard in front of the HTTP app: what must be decided on raw messages.

A body's size and arrival time, the number of extractions waiting, a shutdown, and a
bug's exception are handled here, before (or around) FastAPI; everything else is FastAPI's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.front.http.errors import RETRY_AFTER, error_response, shutting_down

log = logging.getLogger(__name__)

#: A refused body is read and dropped up to this size, so the client reads the refusal.
DRAIN_BYTES = 128 * 1024 * 1024


class BodyGuard:
    """Body size, body time and load, checked before FastAPI reads anything.

    The body is read here up to the limit and replayed to the app, so a lying or
    missing Content-Length cannot get more than `max_body_bytes` into memory, and a
    body must arrive within `client_timeout` seconds (else 408). A refused body is
    read and dropped (within bounds) before the answer, so the client, still
    sending, reads the 413 instead of a reset connection. At most `max_pending`
    extraction requests run or wait at once; more get 503 with Retry-After, so a
    queue never grows without bound behind a slow model. Once `stopping` is set (the
    server shuts down), extractions get 503 `shutting_down`, those in progress at
    once: they are cancelled rather than awaited, since the model may take minutes.
    These need the raw ASGI messages, which FastAPI's dependencies never see; the
    bearer token is a dependency (`routes.require_token`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_pending: int,
        client_timeout: float,
        stopping: asyncio.Event,
    ) -> None:
        self.app = app
        self._max = max_body_bytes
        self._max_pending = max_pending
        self._timeout = client_timeout
        self._stopping = stopping
        self._pending = 0  # only touched on the event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _Body(receive, self._timeout)
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
        if extraction and self._stopping.is_set():
            await shutting_down()(scope, replay, send)
            return
        if extraction and self._pending >= self._max_pending:
            busy = error_response(
                503,
                "busy",
                f"{self._pending} extraction requests are already in progress or waiting "
                "(setting max_pending); retry later",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
            await busy(scope, replay, send)
            return
        counted = int(extraction)
        self._pending += counted
        try:
            if extraction:
                await self._unless_stopping(scope, replay, send)
            else:
                await _answer_even_a_bug(self.app, scope, replay, send)
        finally:
            self._pending -= counted

    async def _unless_stopping(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's answer, or 503 `shutting_down` as soon as the server stops."""
        sent = _Sent(send)
        answer = asyncio.ensure_future(_answer_even_a_bug(self.app, scope, receive, sent))
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([answer, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            answer.cancel()  # a no-op once it is done
            await asyncio.wait([answer])  # quick: the extraction's thread is abandoned
        if not answer.cancelled():
            answer.result()
        elif not sent.started:
            await shutting_down()(scope, receive, send)


class _Sent:
    """The app's `send`, which remembers whether the response has started."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


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
    sent = _Sent(send)
    try:
        await app(scope, receive, sent)
    except Exception:
        log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
        if not sent.started:
            response = error_response(500, "internal_error", "internal error (see the server log)")
            await response(scope, receive, send)
