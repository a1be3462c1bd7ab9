"""The HTTP app under uvicorn, with deadlines for clients that send slowly.

uvicorn waits as long as a client likes for a request's headers, so one sending a
byte a second holds a connection open indefinitely. `server_config` gives uvicorn's
h11 protocol a header deadline (the app's guard bounds the body the same way), a
short keep-alive, a bounded graceful shutdown, and the secret filter on uvicorn's log
handlers. A graceful shutdown waits for the requests in progress, and one waiting on
the model may take minutes: the protocol tells the app when the shutdown starts
(`app.stop`), and the app answers those 503 at once (Ctrl-C does not wait for the model).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.front.http.app import stop
from service.infra.redact import SecretFilter

#: Seconds a shutdown waits for requests in progress before it cancels them.
SHUTDOWN_GRACE = 3.0


class HeaderDeadlineProtocol(H11Protocol):
    """h11 that closes a connection whose request headers take over `header_timeout` s.

    It also calls `on_shutdown` (set by `server_config`) when the server starts its
    graceful shutdown.
    """

    header_timeout = 15.0
    on_shutdown: Callable[[], None]
    _timer: asyncio.TimerHandle | None = None
    _waiting_after: object = None  # the request cycle before the headers we wait for

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        self._arm()  # the next request's headers are due now
        super().on_response_complete()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not self._waiting_after:  # a new request's headers are complete
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """Called by the server on each connection when its graceful shutdown starts."""
        self.on_shutdown()
        super().shutdown()

    def _arm(self) -> None:
        self._disarm()
        self._waiting_after = self.cycle
        self._timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def server_config(app: FastAPI, *, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn settings for `app` (made by `create_app`, whose settings give the timeouts)."""
    timeout = app.state.settings.client_timeout
    protocol = type(
        "Protocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": timeout, "on_shutdown": staticmethod(lambda: stop(app))},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        server_header=False,
        log_config=log_config(),
        **options,
    )


def log_config() -> dict[str, Any]:
    """uvicorn's own logging, with the secret filter on each of its handlers."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"secrets": {"()": SecretFilter}}
    for handler in config["handlers"].values():
        handler["filters"] = ["secrets"]
    return config
