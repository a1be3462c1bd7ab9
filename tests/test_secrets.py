"""No secret in any output, log, cache or report, with or without -v.

The endpoint is `tests.fake_openai`, a fault-injection double whose faults echo
the request's Authorization header: in a 400 body (`echo-key`), inside a valid
answer (`echo-answer`) or in an invalid one that is re-asked (`echo-invalid`). Logs are
checked where the commands write them, with -v, where instructor's and openai's own
loggers speak too.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service import EndpointError, Extractor, Settings
from service.infra.redact import REDACTED, SecretFilter, redact, register, reveal, scrub
from tests.conftest import ROOT
from tests.fake_openai import FakeOpenAI

KEY = "sk-secret-4c1d2e3f5a6b7c8d"
URL_KEY = "url-secret-0a9b8c7d6e5f"  # a key inside OPENAI_BASE_URL, not OPENAI_API_KEY
TEXT = "Gunmen attacked the village of Tora on Monday, killing three people, police said."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(lifetime=300) as server:
        yield server


def remote(fake: FakeOpenAI, cache: Path, base_url: str | None = None) -> list[str]:
    return ["--base-url", base_url or f"{fake.url}/v1", "--model", "fake",
            "--backend", "llamacpp", "--cache-dir", str(cache)]  # fmt: skip


def service(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": KEY, "NEWSEVENTS_MAX_ATTEMPTS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False, **kwargs,
    )  # fmt: skip


def everything_under(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())


def test_the_filter_redacts_messages_arguments_and_tracebacks() -> None:
    register(KEY)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretFilter())
    logger = logging.getLogger("tests.secrets")
    logger.addHandler(handler)
    try:
        logger.error("refused: %s", {"error": f"Bearer {KEY}"})
        try:
            raise ValueError(f"echo {KEY}")
        except ValueError:
            logger.exception("failed")
        logger.error("plain %d of %s", 3, "arguments")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert KEY not in written
    assert written.count(REDACTED) == 2
    assert "plain 3 of arguments" in written


def test_scrub_keeps_article_wording_and_drops_the_key() -> None:
    register(KEY)
    answer = {"events": [{"quote": "bearer securities were sold", "attacker": f"x {KEY}"}]}
    assert scrub(answer) == {
        "events": [{"quote": "bearer securities were sold", "attacker": "x [redacted]"}]
    }


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_extract_never_prints_an_echoed_key(
    fake: FakeOpenAI, tmp_path: Path, verbose: list[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(f"{TEXT} [[fault:echo-key]]")
    done = service(*verbose, "extract", str(article), *remote(fake, tmp_path))
    assert done.returncode == 1
    assert KEY not in done.stdout + done.stderr
    assert REDACTED in done.stderr  # the server did echo it
    assert "Traceback" not in done.stderr


def test_batch_with_v_never_logs_an_echoed_key(fake: FakeOpenAI, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": "e", "text": f"{TEXT} [[fault:echo-key]]"},
        {"id": "a", "text": f"{TEXT} [[fault:echo-answer]]"},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    done = service(
        "-v", "batch", str(source), "-o", str(out), "--quiet", *remote(fake, tmp_path / "c")
    )
    assert done.returncode == 1
    assert KEY not in done.stdout + done.stderr
    assert KEY.encode() not in out.read_bytes() + everything_under(tmp_path / "c")


def test_a_key_echoed_in_an_answer_is_stored_nowhere(fake: FakeOpenAI, tmp_path: Path) -> None:
    settings = Settings(
        base_url=f"{fake.url}/v1", model="fake", backend="llamacpp", api_key=KEY,
        cache_dir=tmp_path / "cache",
    )  # fmt: skip
    with Extractor(settings) as extractor:
        record = extractor.extract(f"{TEXT} [[fault:echo-answer]]")
        again = extractor.extract(f"{TEXT} [[fault:echo-answer]]")
    assert record.events[0].attacker == f"the sender of Bearer {REDACTED}"
    assert again.usage is not None and again.usage.cached
    assert KEY not in record.model_dump_json() + again.model_dump_json()
    assert KEY.encode() not in everything_under(tmp_path / "cache")


def test_a_key_repeated_by_a_re_ask_is_in_no_column_of_the_call_log(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(f"{TEXT} A first article. [[fault:echo-invalid]]")  # a first request
    cache = tmp_path / "cache"
    done = service("extract", str(article), *remote(fake, cache))
    shown = service("logs", "-n", "1", "--cache-dir", str(cache))  # no key in its environment
    assert done.returncode == 0 and shown.returncode == 0, done.stderr + shown.stderr
    call = json.loads(shown.stdout)
    assert len(call["attempts"]) == 2 and call["attempts"][1]["messages"]  # it was re-asked
    assert f"Bearer {REDACTED}" in call["attempts"][1]["messages"]  # the re-ask repeated it
    assert KEY not in done.stdout + done.stderr + shown.stdout
    assert KEY.encode() not in everything_under(cache)  # logs.db and the answer cache


def test_credentials_in_the_base_url_are_stored_and_shown_nowhere(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(f"{TEXT} A second article. [[fault:echo-invalid]]")
    cache = tmp_path / "cache"
    url = fake.url.replace("http://", f"http://user:{URL_KEY}@") + "/v1"
    done = service("-v", "extract", str(article), *remote(fake, cache, url))
    shown = service("logs", "-n", "1", "--cache-dir", str(cache))
    assert done.returncode == 0 and shown.returncode == 0, done.stderr + shown.stderr
    call = json.loads(shown.stdout)
    assert call["endpoint"] == f"llamacpp:{fake.url}/v1#fake"
    assert "Basic [redacted]" in call["attempts"][1]["messages"]  # httpx sent it, it came back
    basic = base64.b64encode(f"user:{URL_KEY}".encode()).decode()
    for secret in (URL_KEY, basic):
        assert secret not in done.stdout + done.stderr + shown.stdout
        assert secret.encode() not in everything_under(cache)


def test_a_key_in_the_base_url_query_is_in_no_error(fake: FakeOpenAI, tmp_path: Path) -> None:
    settings = Settings(
        base_url=f"{fake.url}/v1?api_key={URL_KEY}", model="fake", backend="llamacpp",
        max_attempts=1, cache_dir=tmp_path / "cache",
    )  # fmt: skip
    with Extractor(settings) as extractor, pytest.raises(EndpointError) as caught:
        extractor.extract(TEXT)  # the fake's 404 names the path it got, the query with it
    assert "HTTP 404" in str(caught.value) and REDACTED in str(caught.value)
    assert URL_KEY not in str(caught.value)
    assert URL_KEY.encode() not in everything_under(tmp_path / "cache")


def test_serve_with_v_never_logs_or_answers_a_key(fake: FakeOpenAI, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "OPENAI_API_KEY": KEY, "NEWSEVENTS_MAX_ATTEMPTS": "1"}
    command = [sys.executable, "-m", "service", "-v", "serve", "--port", str(port),
               *remote(fake, tmp_path)]  # fmt: skip
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    bodies = []
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/v1/health")
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        for fault in ("echo-key", "echo-answer", "echo-invalid", "echo-key"):
            text = f"{TEXT} [[fault:{fault}]]"
            bodies.append(httpx.post(f"{url}/v1/extract", json={"text": text}, timeout=60).text)
    finally:
        proc.terminate()
        logged, _ = proc.communicate(timeout=60)
    assert REDACTED in logged and REDACTED in "".join(bodies)
    assert KEY not in logged + "".join(bodies)
    with sqlite3.connect(tmp_path / "logs.db") as db:
        assert db.execute("select count(*) from attempts where number = 2").fetchone() == (1,)
    assert KEY.encode() not in everything_under(tmp_path)  # the call log, the answer cache


def test_reading_the_api_key_is_what_makes_it_redacted() -> None:
    key = "sk-read-through-reveal-9f8e7d"
    assert reveal(Settings(api_key=key).api_key) == key
    assert redact(f"the server said: bad key {key}") == f"the server said: bad key {REDACTED}"
    assert reveal(None) is None
