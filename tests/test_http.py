"""The HTTP API through real HTTP on loopback: uvicorn in a thread, the real app and client.

One module-scoped server runs the real 0.5B model; it makes exactly one model call,
for four concurrent requests. The error paths run against servers whose model
endpoint is a closed loopback port, so they need no model and fail fast.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import uvicorn
from fastapi import FastAPI

from schemas import ArticleEvents, MatchKind
from service import EndpointError, ExtractionError, Extractor, InputError, Settings
from service.client import Client
from service.core.templates import PromptTemplate, available_templates, load_template
from service.errors import ServiceError
from service.front.http.app import create_app
from service.front.http.models import DEFAULT_MAX_BODY_BYTES, MAX_BATCH
from service.front.http.server import server_config
from tests.conftest import ROOT, TEST_MODEL, seed
from tests.fake_openai import FakeOpenAI

SEED = "004_e703eae0c918574b.txt"
TOKEN = "t0ken-for-tests-only"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` as `serve` does, on an ephemeral loopback port; yields its base URL."""
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def closed_port() -> int:
    """A loopback port nobody listens on: connecting fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_endpoint(cache_dir: Path, **more: Any) -> Settings:
    """Settings whose model endpoint refuses connections, tried once: EndpointError, fast.

    The one-shot baseline asks the model about any text (the staged default asks only
    about sentences with words of violence), so every request meets the dead endpoint.
    """
    base: dict[str, Any] = {
        "base_url": f"http://127.0.0.1:{closed_port()}/v1",
        "model": "none",
        "backend": "llamacpp",
        "max_attempts": 1,
        "cache_dir": cache_dir,
        "prompt": "extract_events@v2",
    }
    return Settings(**(base | more))


def wait_healthy(url: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body = httpx.get(f"{url}/v1/health").json()
        if body["status"] != "loading" or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


# -- servers


@pytest.fixture(scope="module")
def model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real 0.5B model, no token, its own cold answer cache."""
    settings = Settings(model=TEST_MODEL, cache_dir=tmp_path_factory.mktemp("http-model"))
    with serving(create_app(settings)) as url:
        assert wait_healthy(url, 120)["status"] == "ok"
        yield url


@pytest.fixture(scope="module")
def guarded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A token, the default body limit, and a model endpoint that refuses connections."""
    settings = dead_endpoint(tmp_path_factory.mktemp("http-dead"), api_key="sk-never-shown")
    with serving(create_app(settings, token=TOKEN)) as url:
        yield url


@pytest.fixture(scope="module")
def client(guarded_url: str) -> Iterator[Client]:
    with Client(guarded_url, token=TOKEN, timeout=30) as c:
        yield c


# -- the real model


@pytest.fixture(scope="module")
def burst(model_url: str) -> list[ArticleEvents]:
    """Four threads send the same article at the same moment to the cold server."""
    text, start = seed(SEED), threading.Barrier(4)

    def one(client: Client) -> ArticleEvents:
        start.wait()
        return client.extract(text, id=SEED)

    with Client(model_url, timeout=600) as client, ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, [client] * 4))


@pytest.mark.model
def test_concurrent_identical_requests_cost_one_model_call(burst: list[ArticleEvents]) -> None:
    assert len(burst) == 4
    usages = [r.usage for r in burst]
    assert all(u is not None for u in usages)
    assert sorted(u.cached for u in usages) == [False, True, True, True]  # type: ignore[union-attr]
    [paid] = [u for u in usages if not u.cached]  # type: ignore[union-attr]
    assert sum(u.model_calls for u in usages) == paid.model_calls  # type: ignore[union-attr]
    assert all(r.events == burst[0].events and r.headlines == burst[0].headlines for r in burst)
    assert all(r.id == SEED for r in burst)


@pytest.mark.model
def test_a_seed_over_http_validates_against_the_served_schema(
    model_url: str, burst: list[ArticleEvents]
) -> None:
    text = seed(SEED)
    with Client(model_url) as client:
        schema = client.schema()
        url = "https://example.org/article/4"
        response = httpx.post(f"{model_url}/v1/extract", json={"text": text, "url": url})
        assert response.status_code == 200
        raw = response.json()
        jsonschema.Draft202012Validator(schema).validate(raw)
        record = client.extract(text, url=url)

    assert record == ArticleEvents.model_validate(raw).model_copy(update={"usage": record.usage})
    assert record.id == url  # the url names the record when no id is given
    assert record.text_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert record.events == burst[0].events and len(record.events) >= 1
    assert any(e.grounded for e in record.events)
    for event in record.events:
        for ev in event.evidence:
            if ev.match is not MatchKind.MISSING:
                assert text[ev.start : ev.end] == ev.quote
    assert record.usage is not None and record.usage.cached  # the burst paid for it
    assert (record.usage.prompt_tokens, record.usage.model_calls) == (0, 0)


@pytest.mark.model
def test_without_a_token_every_route_is_open(model_url: str) -> None:
    with Client(model_url) as client:
        health = client.health()
        assert client.schema() == ArticleEvents.model_json_schema()
    assert health.status == "ok" and health.model_loaded
    assert (health.backend, health.model) == ("embedded", TEST_MODEL)
    assert health.prompts == available_templates()


# -- auth, limits, validation (no model)


def test_health_needs_no_token_and_says_what_runs(guarded_url: str) -> None:
    response = httpx.get(f"{guarded_url}/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["model_loaded"] is True
    assert (body["backend"], body["model"]) == ("llamacpp", "none")
    assert body["prompt"] == "extract_events@v2"  # what dead_endpoint configured
    assert body["prompts"] == available_templates()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/extract"),
        ("POST", "/v1/extract/batch"),
        ("GET", "/v1/schema"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    ],
)
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_other_routes_refuse_a_missing_or_wrong_token(
    guarded_url: str, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.request(method, guarded_url + path, headers=headers, json={"text": "x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "error": {"code": "unauthorized", "message": "missing or wrong bearer token"}
    }


def test_the_openapi_document_declares_the_bearer_scheme_on_every_guarded_route(
    guarded_url: str,
) -> None:
    document = httpx.get(f"{guarded_url}/openapi.json", headers=AUTH).json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    secured = {
        path: [method for method, op in ops.items() if op.get("security")]
        for path, ops in document["paths"].items()
    }
    assert secured == {
        "/v1/extract": ["post"],
        "/v1/extract/batch": ["post"],
        "/v1/link": ["post"],
        "/v1/schema": ["get"],
        "/v1/health": [],
    }


def test_the_right_token_opens_them(guarded_url: str) -> None:
    response = httpx.get(f"{guarded_url}/v1/schema", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == ArticleEvents.model_json_schema()
    assert httpx.get(f"{guarded_url}/openapi.json", headers=AUTH).status_code == 200


def test_a_body_over_the_limit_is_413_with_or_without_content_length(guarded_url: str) -> None:
    big = {"text": "x" * DEFAULT_MAX_BODY_BYTES}
    response = httpx.post(f"{guarded_url}/v1/extract", headers=AUTH, json=big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"

    chunks = (b"x" * 65536 for _ in range(DEFAULT_MAX_BODY_BYTES // 65536 + 1))
    response = httpx.post(f"{guarded_url}/v1/extract", headers=AUTH, content=chunks)
    assert "content-length" not in response.request.headers  # sent chunked
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "code", "start"),
    [
        ({"text": ""}, "invalid_request", "text: String should have at least 1 character"),
        ({"id": "a"}, "invalid_request", "text: Field required"),
        ({"text": "x", "published": "yesterday"}, "invalid_request", "published: "),
        ({"text": "x", "prompt": "extract_events@v999"}, "invalid_request", "prompt: "),
        ({"text": "x", "colour": "red"}, "invalid_request", "colour: Extra inputs"),
        ({"text": " \n\t "}, "bad_input", "empty article"),
        ({"text": "a\x00b"}, "bad_input", "binary data"),
    ],
)
def test_bad_requests_are_422_naming_the_field_or_the_reason(
    guarded_url: str, body: dict[str, Any], code: str, start: str
) -> None:
    response = httpx.post(f"{guarded_url}/v1/extract", headers=AUTH, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and error["message"].startswith(start), error


def test_a_lone_surrogate_is_422_not_a_crash(guarded_url: str) -> None:
    payload = b'{"text": "broken \\ud800 text"}'
    response = httpx.post(
        f"{guarded_url}/v1/extract",
        headers={**AUTH, "Content-Type": "application/json"},
        content=payload,
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("text: Input should be a valid string")


def test_a_batch_is_bounded_and_each_item_gets_its_own_result(guarded_url: str) -> None:
    too_many = {"items": [{"text": "x"}] * (MAX_BATCH + 1)}
    response = httpx.post(f"{guarded_url}/v1/extract/batch", headers=AUTH, json=too_many)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("items: List should have at most 16")

    with Client(guarded_url, token=TOKEN, timeout=30) as client:
        results = client.extract_batch(["   ", {"text": "Two killed.", "id": "b"}])
    assert [(r.id, r.ok) for r in results] == [(None, False), ("b", False)]
    assert [r.error.code for r in results if r.error] == ["bad_input", "endpoint_error"]


def test_the_model_endpoint_failing_is_502_without_a_trace_or_the_key(guarded_url: str) -> None:
    response = httpx.post(f"{guarded_url}/v1/extract", headers=AUTH, json={"text": "Two killed."})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "endpoint_error"
    assert error["message"].startswith("model endpoint failed 1 times: APIConnectionError")
    assert "Traceback" not in response.text and "sk-never-shown" not in response.text


def test_client_errors_are_typed_with_status_and_code(guarded_url: str, client: Client) -> None:
    cases = [
        (lambda: Client(guarded_url).schema(), 401, "unauthorized"),
        (lambda: client.extract("x" * DEFAULT_MAX_BODY_BYTES), 413, "too_large"),
        (lambda: client.extract(""), 422, "invalid_request"),
        (lambda: client.extract("   "), 422, InputError.code),
        (lambda: client.extract("Two were killed on Tuesday."), 502, EndpointError.code),
    ]
    for call, status, code in cases:
        with pytest.raises(ServiceError) as caught:
            call()
        assert (caught.value.status, caught.value.code) == (status, code)
        assert isinstance(caught.value, ExtractionError)
        assert str(caught.value).startswith(f"HTTP {status} {code}: ")

    with pytest.raises(ServiceError) as caught:
        Client(f"http://127.0.0.1:{closed_port()}").health()
    assert (caught.value.status, caught.value.code) == (None, "unreachable")
    with pytest.raises(InputError, match="not UTF-8"):
        client.extract(b"caf\xe9")  # refused before any request, as in-process


def test_a_prompt_version_gets_its_own_extractor_on_the_same_endpoint(tmp_path: Path) -> None:
    settings = dead_endpoint(tmp_path)
    v1 = load_template(settings.prompt)  # the server's own prompt
    v2 = PromptTemplate(v1.name, "v99", v1.source + "\n")

    class Echo(Extractor):
        """Says which template, extractor and endpoint manager served the call."""

        def extract(self, text: Any, *, id: Any = None, published: Any = None) -> ArticleEvents:
            served_by = [str(builtins.id(self)), str(builtins.id(self.endpoints))]
            return ArticleEvents(
                id=id, published=published, prompt=self.template.ref, warnings=served_by
            )

    default = Echo(settings)
    app = create_app(extractor=default, prompts=[v1, v2])
    with serving(app) as url, Client(url) as client:
        first = client.extract("x", prompt=v2.ref, url="u", published=dt.date(2024, 2, 8))
        again = client.extract("x", prompt=v2.ref)
        plain = client.extract("x")
        assert client.health().prompts == [v1.ref, v2.ref]
        with pytest.raises(ServiceError, match="unknown prompt 'extract_events@v1'"):
            client.extract("x", prompt="extract_events@v1")  # shipped, but not this server's
    assert (first.prompt, again.prompt, plain.prompt) == (v2.ref, v2.ref, v1.ref)
    assert (first.id, first.published) == ("u", dt.date(2024, 2, 8))
    assert first.warnings == again.warnings  # the v2 extractor is kept, not rebuilt
    assert plain.warnings[0] == str(builtins.id(default)) != first.warnings[0]
    endpoints = {r.warnings[1] for r in (first, again, plain)}
    assert endpoints == {str(builtins.id(default.endpoints))}  # one endpoint: one model server


def test_the_client_times_out(tmp_path: Path) -> None:
    class Slow(Extractor):
        def extract(self, *args: Any, **kwargs: Any) -> ArticleEvents:
            time.sleep(2)
            return ArticleEvents()

    app = create_app(extractor=Slow(dead_endpoint(tmp_path)))
    with (
        serving(app) as url,
        Client(url, timeout=0.5) as client,
        pytest.raises(ServiceError) as caught,
    ):
        client.extract("x")
    assert (caught.value.status, caught.value.code) == (None, "timeout")


def test_an_unexpected_error_is_500_with_a_generic_message(tmp_path: Path) -> None:
    class Buggy(Extractor):
        def extract(self, *args: Any, **kwargs: Any) -> ArticleEvents:
            raise RuntimeError("internal detail /srv/secret")

    with serving(create_app(extractor=Buggy(dead_endpoint(tmp_path)))) as url:
        response = httpx.post(f"{url}/v1/extract", json={"text": "x"})
        batch = httpx.post(f"{url}/v1/extract/batch", json={"items": [{"text": "x"}]})
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal error (see the server log)"}
    }
    assert batch.status_code == 200
    assert batch.json()["results"][0]["error"]["code"] == "internal_error"
    assert "/srv/secret" not in response.text + batch.text


def test_a_500_leaves_the_kept_alive_connection_usable(tmp_path: Path) -> None:
    """A client's next request on the same connection must not be reset."""

    class BuggyOnce(Extractor):
        calls = 0

        def extract(self, *args: Any, **kwargs: Any) -> ArticleEvents:
            BuggyOnce.calls += 1
            if BuggyOnce.calls == 1:
                raise RuntimeError("a bug")
            return ArticleEvents(id="second")

    with serving(create_app(extractor=BuggyOnce(dead_endpoint(tmp_path)))) as url:
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        statuses = []
        for _ in range(2):
            connection.request(
                "POST", "/v1/extract", b'{"text": "x"}', {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        connection.close()
    assert statuses == [500, 200]


def test_secrets_in_an_error_message_are_redacted(tmp_path: Path) -> None:
    class Leaky(Extractor):
        def extract(self, *args: Any, **kwargs: Any) -> ArticleEvents:
            raise EndpointError(f"401 from endpoint: key sk-leak-me rejected (token {TOKEN})")

    app = create_app(extractor=Leaky(dead_endpoint(tmp_path, api_key="sk-leak-me")), token=TOKEN)
    with serving(app) as url:
        response = httpx.post(f"{url}/v1/extract", headers=AUTH, json={"text": "x"})
    assert response.status_code == 502
    assert response.json()["error"]["message"] == (
        "401 from endpoint: key [redacted] rejected (token [redacted])"
    )


def test_a_model_that_cannot_load_is_503_and_health_says_why(tmp_path: Path) -> None:
    settings = Settings(gguf=tmp_path / "missing.gguf", cache_dir=tmp_path)
    with serving(create_app(settings)) as url:
        health = wait_healthy(url, 30)
        response = httpx.post(f"{url}/v1/extract", json={"text": "Two killed."})
        batch = httpx.post(f"{url}/v1/extract/batch", json={"items": [{"text": "Two killed."}]})
        status = httpx.get(f"{url}/v1/health").status_code
    assert (status, health["status"], health["model_loaded"]) == (503, "error", False)
    assert health["error"] == "GGUF file not found: missing.gguf"  # a name, never a path
    assert str(tmp_path) not in str(health)
    for refused in (response, batch):  # a tokenless server's errors are open to anyone too
        assert refused.status_code == 503
        assert refused.json()["error"] == {
            "code": "model_unavailable",
            "message": "GGUF file not found: missing.gguf",
        }


def serve_health(proc: subprocess.Popen[str], url: str) -> httpx.Response:
    """The first health answer of a `serve` subprocess, once it listens."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(f"{url}/v1/health")
        except httpx.TransportError:
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)


def test_serve_binds_loopback_and_reads_the_token_from_the_environment(tmp_path: Path) -> None:
    port = closed_port()
    command = [
        sys.executable, "-m", "service", "serve",
        "--port", str(port), "--base-url", f"http://127.0.0.1:{closed_port()}/v1",
        "--model", "none", "--backend", "llamacpp", "--cache-dir", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "NEWSEVENTS_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = f"http://127.0.0.1:{port}"
        assert serve_health(proc, url).status_code == 200
        assert httpx.get(f"{url}/v1/schema").status_code == 401
        assert httpx.get(f"{url}/v1/schema", headers=AUTH).status_code == 200
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert f"Uvicorn running on http://127.0.0.1:{port}" in stderr
    assert "auth: bearer token from $NEWSEVENTS_TOKEN" in stderr
    assert TOKEN not in stderr


def default_sigint() -> None:
    """In the child: SIGINT as a terminal's Ctrl-C finds it, however pytest was started.

    A shell running pytest as a background job starts it with SIGINT ignored, and
    children inherit that.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_answers_503_and_does_not_wait_for_the_call_in_flight(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """`serve` exits within its grace while the model works on a 60 s answer; 503 to its client."""
    port = closed_port()
    text = "Gunmen attacked the village of Tora on Monday, killing three people. [[fault:slow]]"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSEVENTS_TIMEOUT": "300"}
    with FakeOpenAI(slow_seconds=60, lifetime=120) as fake, ThreadPoolExecutor(1) as pool:
        command = [
            sys.executable, "-m", "service", "serve", "--port", str(port),
            "--base-url", f"{fake.url}/v1", "--model", "fake", "--backend", "llamacpp",
            "--prompt", "extract_events@v2", "--cache-dir", str(tmp_path),
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=default_sigint
        )
        try:
            url = f"http://127.0.0.1:{port}"
            assert serve_health(proc, url).status_code == 200
            post = lambda: httpx.post(f"{url}/v1/extract", json={"text": text}, timeout=90)  # noqa: E731
            answer = pool.submit(post)
            deadline = time.monotonic() + 30
            while fake.requests["slow"] == 0:
                assert proc.poll() is None and time.monotonic() < deadline, "no model call came"
                time.sleep(0.05)
            proc.send_signal(signum)
            signalled = time.monotonic()
            _, stderr = proc.communicate(timeout=90)
            took = time.monotonic() - signalled
            response = answer.result(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        answered = fake.answered["slow"]
    assert took < 10, f"serve took {took:.1f} s to exit"
    assert answered == 0  # the model was still working on it
    assert proc.returncode == (130 if signum == signal.SIGINT else -signal.SIGTERM)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "shutting_down"
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in stderr


def test_serve_refuses_an_empty_token(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "service", "serve"]
    env = {**os.environ, "NEWSEVENTS_TOKEN": " ", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "$NEWSEVENTS_TOKEN is set but empty" in done.stderr


class Gate(Extractor):
    """Blocks every extraction until the test opens the gate; then fails or answers."""

    def __init__(self, settings: Settings, *, fail: bool) -> None:
        super().__init__(settings)
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)
        self.calls = 0
        self.fail = fail

    def extract(self, text: Any, *, id: Any = None, published: Any = None) -> ArticleEvents:
        self.calls += 1
        self.entered.release()
        self.gate.wait(timeout=60)
        if self.fail:
            raise EndpointError("model endpoint failed 4 times: InternalServerError")
        return ArticleEvents(id=id)


def test_waiters_of_a_failed_call_get_its_failure_at_once(tmp_path: Path) -> None:
    """Identical requests behind a failing one must not each retry the endpoint in turn."""
    gate = Gate(dead_endpoint(tmp_path), fail=True)
    app = create_app(extractor=gate)
    with serving(app) as url, ThreadPoolExecutor(6) as pool:
        post = lambda _: httpx.post(f"{url}/v1/extract", json={"text": "same"}, timeout=60)  # noqa: E731
        answers = [pool.submit(post, n) for n in range(6)]
        assert gate.entered.acquire(timeout=30)  # the first is extracting...
        deadline = time.monotonic() + 30
        while app.state.coalescer.waiting() < 5:  # ...and the other five wait for it
            assert time.monotonic() < deadline, "the identical requests never queued"
            time.sleep(0.02)
        gate.gate.set()
        statuses = [a.result().status_code for a in answers]
    assert statuses == [502] * 6
    assert gate.calls == 1


def test_a_full_queue_answers_503_with_retry_after(tmp_path: Path) -> None:
    gate = Gate(dead_endpoint(tmp_path, max_pending=2), fail=False)
    with serving(create_app(extractor=gate)) as url, ThreadPoolExecutor(2) as pool:
        post = lambda text: httpx.post(f"{url}/v1/extract", json={"text": text}, timeout=60)  # noqa: E731
        running = [pool.submit(post, text) for text in ("one", "two")]
        for _ in running:
            assert gate.entered.acquire(timeout=30)
        refused = httpx.post(f"{url}/v1/extract", json={"text": "three"}, timeout=30)
        health = httpx.get(f"{url}/v1/health", timeout=30)
        gate.gate.set()
        assert [r.result().status_code for r in running] == [200, 200]
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "busy"
    assert int(refused.headers["retry-after"]) > 0
    assert health.status_code == 200  # probes are not queued


@pytest.fixture(scope="module")
def impatient_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = dead_endpoint(tmp_path_factory.mktemp("http-impatient"), client_timeout=0.5)
    with serving(create_app(settings)) as url:
        yield url


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _read_answer(sock: socket.socket) -> bytes:
    """Read a whole HTTP answer: the head and body may arrive in separate packets."""
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def _length(answer: bytes) -> int:
    found = re.search(rb"content-length: *(\d+)", answer.partition(b"\r\n\r\n")[0], re.I)
    return int(found.group(1)) if found else 0


def test_a_client_that_never_finishes_its_headers_is_dropped(impatient_url: str) -> None:
    with _raw(impatient_url) as sock:
        sock.sendall(b"POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Le")
        assert sock.recv(1024) == b""  # closed by the server, long before our 30 s


def test_a_client_that_never_finishes_its_body_gets_408(impatient_url: str) -> None:
    with _raw(impatient_url) as sock:
        head = b"POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: 100\r\n\r\n" + b'{"text": "')
        answer = _read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"timeout"' in answer


def test_a_standard_client_posting_50_mb_reads_the_413(guarded_url: str) -> None:
    """The server reads and drops the body it refuses, so the client is not reset."""
    response = httpx.post(
        f"{guarded_url}/v1/extract", headers=AUTH, content=b"x" * 50_000_000, timeout=60
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
