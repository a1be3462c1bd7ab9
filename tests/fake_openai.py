"""FAULT-INJECTION TEST DOUBLE of an OpenAI-compatible chat completions server.

It is not a model and answers nothing real: it exists so tests can make an
endpoint misbehave on purpose. Each request is scripted by a marker written in
the article text, `[[fault:NAME]]`:

    429-once      first request for the article: 429 with Retry-After: 1, then OK
    429-nan       first request: 429 with Retry-After: nan, then OK
    500-once      first request: 500, then OK
    500-always    500 every time
    invalid-once  first answer does not fit the schema, a re-ask gets a valid one
    invalid       an answer that never fits the schema
    malformed     HTTP 200 whose body is not JSON
    slow          answers only after `slow_seconds` (meant to exceed the client timeout)
    drop          closes the connection without answering
    echo-key      400 whose error body repeats the request's Authorization header

Faults in an answer that is valid JSON (HTTP 200), to check what code does with it:

    negative      the event has `injured: -1`
    dated         the event's `when` is "on Tuesday"
    echo-answer   the event's `attacker` repeats the request's Authorization header
    twins         one event per sentence, each with only a quote and `killed` (40, 41...)
    huge          the event has `killed: 1000000000000`
    future        the event's `when` is "January 1, 2099"

Without a marker it answers a valid `ArticleDraft` quoting the article's first
sentence, after `delay` seconds. It listens on 127.0.0.1 only, on an ephemeral
port, and shuts itself down after `lifetime` seconds if nobody stops it first.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from schemas.draft import EventDraft

MARKER = re.compile(r"\[\[fault:([a-z0-9-]+)\]\]")
_ARTICLE = re.compile(r"<article>\s*(.*?)\s*</article>", re.S)
_SENTENCE = re.compile(r"[^.!?\n]{12,}[.!?]")


def article_of(messages: list[dict[str, Any]]) -> str:
    """The article inside the last user message with an <article> fence.

    Earlier ones are the prompt's worked example; later ones are re-asks.
    """
    for message in reversed(messages):
        if message.get("role") == "user":
            found = _ARTICLE.search(str(message.get("content", "")))
            if found:
                return found.group(1)
    return ""


def valid_draft(article: str) -> dict[str, Any]:
    """An `ArticleDraft` with one event that quotes the article's first sentence."""
    sentence = _SENTENCE.search(MARKER.sub("", article))
    quote = sentence.group(0).strip() if sentence else article[:80]
    event = dict.fromkeys(EventDraft.model_fields) | {
        "quote": quote,
        "type": "Attack",
        "certainty": "claimed",
        "main": True,
    }
    return {"headlines": [], "events": [event]}


class FakeOpenAI:
    """The server and its scripted behaviour; use as a context manager."""

    def __init__(
        self, *, delay: float = 0.0, slow_seconds: float = 5.0, lifetime: float = 120.0
    ) -> None:
        self.delay = delay
        self.slow_seconds = slow_seconds
        self.requests: collections.Counter[str] = collections.Counter()  # by fault name
        self.answered: collections.Counter[str] = collections.Counter()  # delayed answers sent
        self._seen: collections.Counter[str] = collections.Counter()  # by article hash
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._timer.cancel()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def plan(self, messages: list[dict[str, Any]]) -> tuple[str, int]:
        """The fault for this request, and how many requests came before for its article."""
        article = article_of(messages)
        found = MARKER.search(article)
        fault = found.group(1) if found else "ok"
        digest = hashlib.sha256(article.encode()).hexdigest()
        with self._lock:
            self.requests[fault] += 1
            earlier = self._seen[digest]
            self._seen[digest] += 1
        return fault, earlier


def _completion(content: str, prompt_chars: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_chars // 4,
            "completion_tokens": len(content) // 4,
            "total_tokens": (prompt_chars + len(content)) // 4,
        },
    }


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest output is for assertions."""

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            messages = body.get("messages", [])
            fault, earlier = fake.plan(messages)
            article = article_of(messages)
            prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
            if fault in ("429-once", "429-nan") and earlier == 0:
                wait = "1" if fault == "429-once" else "nan"
                self._json(429, {"error": {"message": "rate limited"}}, {"Retry-After": wait})
            elif fault == "500-always" or (fault == "500-once" and earlier == 0):
                self._json(500, {"error": {"message": "internal server error"}})
            elif fault == "echo-key":
                said = self.headers.get("Authorization", "")
                self._json(400, {"error": {"message": f"bad request from {said}"}})
            elif fault == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
            elif fault == "malformed":
                self._raw(200, b'{"choices": [{"message": ', "application/json")
            elif fault == "invalid" or (fault == "invalid-once" and earlier == 0):
                wrong = {"headlines": "not a list", "events": [{"type": "Picnic"}]}
                self._json(200, _completion(json.dumps(wrong), prompt_chars))
            else:
                time.sleep(fake.slow_seconds if fault == "slow" else fake.delay)
                draft = valid_draft(article)
                event = draft["events"][0]
                if fault == "negative":
                    event["injured"] = -1
                elif fault == "dated":
                    event["when"] = "on Tuesday"
                elif fault == "huge":
                    event["killed"] = 10**12
                elif fault == "future":
                    event["when"] = "January 1, 2099"
                elif fault == "echo-answer":
                    event["attacker"] = f"the sender of {self.headers.get('Authorization')}"
                elif fault == "twins":
                    sentences = _SENTENCE.findall(MARKER.sub("", article))
                    draft["events"] = [
                        {**event, "quote": quote.strip(), "killed": 40 + n}
                        for n, quote in enumerate(sentences[:8])
                    ]
                self._json(200, _completion(json.dumps(draft), prompt_chars))
                fake.answered[fault] += 1

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._raw(status, json.dumps(payload).encode(), "application/json", headers)

        def _raw(
            self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # fails only when the client gave up (timeout)

    return Handler
