"""FAULT-INJECTION TEST DOUBLE of an OpenAI-compatible chat completions server.

It is not a model and answers nothing real: it exists so tests can make an
endpoint misbehave on purpose. Each request is scripted by a marker written in
the article text, `[[fault:NAME]]`:

    429-once      first request for the article: 429 with Retry-After: 1, then OK
    429-nan       first request: 429 with Retry-After: nan, then OK
    429-date      first request: 429 with Retry-After an HTTP date a minute ahead, then OK
    500-once      first request: 500, then OK
    500-always    500 every time
    invalid-once  first answer does not fit the schema, a re-ask gets a valid one
    invalid       an answer that never fits the schema
    echo-invalid  first answer misses the schema with the request's Authorization header
                  in it (so the re-ask repeats it); a re-ask gets a valid one
    malformed     HTTP 200 whose body is not JSON
    slow          answers only after `slow_seconds` (meant to exceed the client timeout)
    trickle       a valid answer with its Content-Length, sent a piece every 0.2 s over
                  `slow_seconds` (each read is quick: only a deadline on the whole body ends it)
    stall         the same trickle, but its last piece comes a minute later
    flood         HTTP 200 of 100 MB: a valid answer padded with spaces, sent as fast as read
    bomb          the same 100 MB as about 100 KB of gzip (Content-Encoding: gzip)
    drop          closes the connection without answering
    echo-key      400 whose error body repeats the request's Authorization header

Faults in an answer that is valid JSON (HTTP 200), to check what code does with it:

    negative      the event has `injured: -1`
    dated         the event's `when` is "on Tuesday"
    echo-answer   the event's `attacker` repeats the request's Authorization header
    twins         one event per sentence, each with only a quote and `killed` (40, 41...)
    huge          the event has `killed: 1000000000000`
    future        the event's `when` is "January 1, 2099"
    usage-lots    a valid answer whose `usage` is "lots"
    usage-abc     a valid answer whose token counts are "abc"
    usage-1e400   a valid answer whose token counts are 1e400 (infinite as a float)
    usage-negative  a valid answer whose token counts are negative

Without a marker it answers a valid `ArticleDraft` quoting the article's first
sentence, after `delay` seconds. It listens on 127.0.0.1 only, on an ephemeral
port, and shuts itself down after `lifetime` seconds if nobody stops it first.
"""

from __future__ import annotations

import collections
import contextlib
import email.utils
import hashlib
import json
import re
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from schemas.draft import EventDraft

MARKER = re.compile(r"\[\[fault:([a-z0-9-]+)\]\]")
_ARTICLE = re.compile(r"<article>\s*(.*?)\s*</article>", re.S)
_SENTENCE = re.compile(r"[^.!?\n]{12,}[.!?]")
TRICKLE_EVERY = 0.2  # seconds between the pieces of a `trickle` answer
FLOOD_BYTES = 100 * 2**20
#: the `usage` block of each usage-* fault, as raw JSON (1e400 cannot be written by json)
BAD_USAGE = {
    "usage-lots": '"lots"',
    "usage-abc": '{"prompt_tokens": "abc", "completion_tokens": "abc", "total_tokens": "abc"}',
    "usage-1e400": '{"prompt_tokens": 1e400, "completion_tokens": 1e400, "total_tokens": 1e400}',
    "usage-negative": '{"prompt_tokens": -5, "completion_tokens": -7, "total_tokens": -12}',
}


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
        self.flooded = 0  # bytes of `flood` bodies the clients took before hanging up
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


def _gzip_flood(answer: bytes) -> bytes:
    """gzip of `answer` padded with spaces to FLOOD_BYTES, packed a megabyte at a time."""
    packer = zlib.compressobj(wbits=31)  # 31: gzip framing
    parts, left = [packer.compress(answer)], FLOOD_BYTES - len(answer)
    spaces = b" " * 2**20
    while left > 0:
        parts.append(packer.compress(spaces[:left]))
        left -= len(spaces)
    return b"".join([*parts, packer.flush()])


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
            if fault in ("429-once", "429-nan", "429-date") and earlier == 0:
                ahead = email.utils.formatdate(time.time() + 60, usegmt=True)
                wait = {"429-once": "1", "429-nan": "nan", "429-date": ahead}[fault]
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
            elif fault in ("trickle", "stall", "flood", "bomb") or fault in BAD_USAGE:
                completion = _completion(json.dumps(valid_draft(article)), prompt_chars)
                if fault == "flood":
                    self._flood(json.dumps(completion))
                elif fault == "bomb":
                    packed = _gzip_flood(json.dumps(completion).encode())
                    self._raw(200, packed, "application/json", {"Content-Encoding": "gzip"})
                elif fault in ("trickle", "stall"):
                    self._slowly(json.dumps(completion), fault)
                else:
                    del completion["usage"]
                    data = f'{json.dumps(completion)[:-1]}, "usage": {BAD_USAGE[fault]}}}'
                    self._raw(200, data.encode(), "application/json")
            elif fault == "echo-invalid" and earlier == 0:
                said = self.headers.get("Authorization", "")
                wrong = {"headlines": said, "events": [{"type": said}]}
                self._json(200, _completion(json.dumps(wrong), prompt_chars))
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

        def _slowly(self, answer: str, fault: str) -> None:
            """A piece every TRICKLE_EVERY s over slow_seconds; a `stall` waits for its last."""
            pieces = max(2, round(fake.slow_seconds / TRICKLE_EVERY) + 1)
            data = answer.ljust(max(len(answer), pieces)).encode()  # padding: JSON whitespace
            cuts = [len(data) * n // pieces for n in range(pieces + 1)]
            self._head(200, "application/json", len(data))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for n in range(pieces):
                    if n:
                        time.sleep(60 if fault == "stall" and n == pieces - 1 else TRICKLE_EVERY)
                    self.wfile.write(data[cuts[n] : cuts[n + 1]])
                    self.wfile.flush()

        def _flood(self, answer: str) -> None:
            """FLOOD_BYTES of an answer and spaces, a megabyte at a time, never all in memory."""
            self._head(200, "application/json", FLOOD_BYTES)
            data, left = answer.encode(), FLOOD_BYTES
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                while left > 0:
                    self.wfile.write(data[:left])
                    fake.flooded += min(len(data), left)
                    left -= len(data)
                    data = b" " * 2**20

        def _head(self, status: int, ctype: str, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.end_headers()

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
