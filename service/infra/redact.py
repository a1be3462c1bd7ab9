"""Secrets never leave the process: one place knows them and cuts them out of everything.

Servers echo what they were sent (a key in a 401 body, or inside an answer), and
libraries log what servers say: instructor logs every failed attempt with the
server's message. So the API key is only ever read through `reveal`, which registers
it; credentials in the endpoint's URL are registered with it (`register_url`), and the
bearer token when the HTTP app is made. All are removed from error messages
(`redact`), from answers and the call log before they are stored (`scrub`), and from
every log record that reaches a handler we install, whichever library wrote it
(`SecretFilter`). Where an endpoint is named (the call log, cache keys, reports) it is
named `without_credentials`.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from pydantic import SecretStr

REDACTED = "[redacted]"
_MIN_SECRET = 4  # shorter strings would cut ordinary words out of messages
_BEARER = re.compile(r"\b(Bearer\s+)(?!\[redacted\])[^\s\"',;}]{8,}", re.I)
_secrets: set[str] = set()
_lock = threading.Lock()


def register(*values: str | None) -> None:
    """Remember secrets (an API key, a bearer token) so that no output shows them."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= _MIN_SECRET)


def reveal(secret: SecretStr | None) -> str | None:
    """The text of a secret setting (the API key), registered so that no output shows it."""
    if secret is None:
        return None
    value = secret.get_secret_value()
    register(value)
    return value


def register_url(url: str | None) -> None:
    """Register the credentials a URL carries (`http://user:KEY@host/v1?api_key=KEY`).

    The userinfo's password (or a lone user name, which is then the token), the Basic
    credential httpx makes of it, and every query value: the client sends them, and a
    server or a library may repeat them in an error or a log line.
    """
    if not url:
        return
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        user, _, password = userinfo.partition(":")
        register(password or user, unquote(password or user))
        basic = f"{unquote(user)}:{unquote(password)}".encode()
        register(base64.b64encode(basic).decode())
    for pair in parts.query.split("&"):
        value = pair.partition("=")[2]
        register(value, unquote_plus(value))


def without_credentials(url: str) -> str:
    """A URL fit to name an endpoint in a log, a cache key or a report: no userinfo, query
    or fragment, so it still tells hosts, ports, paths apart but holds no secret."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def redact(text: str) -> str:
    """A message without any registered secret, nor any bearer credential."""
    return _BEARER.sub(rf"\g<1>{REDACTED}", _without_secrets(text))


def scrub(value: Any) -> Any:
    """JSON-like data without registered secrets (an answer that repeats the key).

    Only the known secrets: article text may say "bearer" and must stay as written.
    """
    if isinstance(value, str):
        return _without_secrets(value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    return value


def _without_secrets(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)  # a key containing another goes first
    for secret in known:
        text = text.replace(secret, REDACTED)
    return text


class SecretFilter(logging.Filter):
    """Redacts a record's message and traceback before any handler formats it.

    A record is only rewritten when it holds a secret, so formatters that read
    `record.args` themselves (uvicorn's access log) keep working.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def protect(handler: logging.Handler) -> logging.Handler:
    """Put a `SecretFilter` on a handler (once) and return it."""
    if not any(isinstance(f, SecretFilter) for f in handler.filters):
        handler.addFilter(SecretFilter())
    return handler
