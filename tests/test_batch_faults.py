"""Batch extraction against a misbehaving endpoint, bad inputs and a killed run.

The endpoint is `tests.fake_openai`, a fault-injection double: no model runs here.
What is checked is the batch's contract: one whole line per input entry, retries
that succeed are invisible, failures are recorded with their code, nothing is
lost or written twice across a `kill -9` and a resume, and the API key never
reaches the output.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service import EndpointError, Extractor, Settings
from service.errors import BatchError
from service.front.batch.run import ResultLog, run_batch
from service.front.cli.batch import batch
from tests.conftest import ROOT
from tests.fake_openai import FakeOpenAI

API_KEY = "sk-test-7f3a9c0e5d1b"


def article(marker: str | None, n: int = 0) -> str:
    fault = f" [[fault:{marker}]]" if marker else ""
    return (
        f"Gunmen attacked the village of Tora {n} on Monday, killing three people, police said."
        f"\nResidents fled to nearby towns.{fault}\n"
    )


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_id(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [line["id"] for line in lines]
    assert len(ids) == len(set(ids)), f"an id was written twice: {ids}"
    return {line["id"]: line for line in lines}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(slow_seconds=3) as server:
        yield server


@pytest.fixture
def settings(fake: FakeOpenAI, tmp_path: Path) -> Settings:
    return Settings(
        base_url=f"{fake.url}/v1",
        model="fake",
        api_key=API_KEY,
        backend="llamacpp",  # JSON_SCHEMA mode: the answer is message.content
        timeout=2,
        max_attempts=3,
        max_reasks=1,
        cache_dir=tmp_path / "cache",
    )


def cli_args(fake: FakeOpenAI, tmp_path: Path, *args: str) -> list[str]:
    remote = ["--base-url", f"{fake.url}/v1", "--model", "fake", "--backend", "llamacpp"]
    return [*args, *remote, "--cache-dir", str(tmp_path / "cache"), "--quiet"]


def test_transient_faults_are_retried_and_the_rest_recorded_per_article(
    fake: FakeOpenAI, settings: Settings, tmp_path: Path
) -> None:
    faults = ["429-once", "429-nan", "500-once", "invalid-once", "500-always", "slow", "drop"]
    faults += ["invalid", "malformed"]
    records = [{"id": "plain", "text": article(None), "published": "2024-03-05"}]
    records += [{"id": f, "text": article(f)} for f in faults]
    out = tmp_path / "out.jsonl"

    summary = run_batch(
        write_jsonl(tmp_path / "in.jsonl", records),
        out,
        settings=settings,
        concurrency=4,
    )

    lines = by_id(read_lines(out))
    assert set(lines) == {r["id"] for r in records}
    for ok in ("plain", "429-once", "429-nan", "500-once", "invalid-once"):
        assert lines[ok]["ok"], lines[ok]
        quote = lines[ok]["record"]["events"][0]["evidence"][0]["quote"]
        assert quote.startswith("Gunmen attacked the village")
    assert fake.requests["429-once"] == fake.requests["429-nan"] == 2  # refused, then answered
    assert fake.requests["500-once"] == 2
    assert fake.requests["invalid-once"] == 2  # one re-ask repaired the answer
    plain = lines["plain"]["record"]
    assert (plain["published"], plain["published_from"]) == ("2024-03-05", "caller")

    codes = {i: line["error"]["code"] for i, line in lines.items() if not line["ok"]}
    assert codes == {
        "500-always": "endpoint_error",
        "slow": "endpoint_error",
        "drop": "endpoint_error",
        "invalid": "invalid_model_output",
        "malformed": "endpoint_error",  # a 200 that is not JSON: the endpoint failed, not the model
    }
    assert fake.requests["500-always"] == fake.requests["drop"] == settings.max_attempts
    assert fake.requests["malformed"] == settings.max_attempts
    assert "not a JSON object" in lines["malformed"]["error"]["message"]
    assert fake.requests["slow"] == settings.max_attempts
    assert "APITimeoutError" in lines["slow"]["error"]["message"]
    assert fake.requests["invalid"] == 1 + settings.max_reasks
    assert (summary.ok, summary.failed, summary.events) == (5, 5, 5)
    assert summary.errors == Counter(endpoint_error=4, invalid_model_output=1)
    assert len(summary.slowest) == 5  # where the time went, failures included
    assert {name for _, name, _ in summary.slowest} <= set(lines)
    assert "slowest: " in summary.render()
    assert not summary.all_ok


def test_cli_exit_code_says_whether_anything_failed(fake: FakeOpenAI, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    env = {"NEWSEVENTS_API_KEY": API_KEY}
    records: list[dict[str, Any] | str] = [
        {"id": f"a{n}", "text": article(None, n)} for n in (1, 2)
    ]
    args = cli_args(fake, tmp_path, str(write_jsonl(source, records)), "-o", str(out))

    first = CliRunner().invoke(batch, args, env=env)
    assert first.exit_code == 0, first.output
    assert "articles: 2 ok, 0 failed" in first.stderr

    write_jsonl(source, [*records, {"id": "bad", "text": article("invalid")}])
    second = CliRunner().invoke(batch, args, env=env)
    assert second.exit_code == 1, second.output
    assert fake.requests["ok"] == 2  # the resumed run asked only for the new article
    assert [line["ok"] for line in read_lines(out)] == [True, True, False]

    again = CliRunner().invoke(batch, args, env=env)
    assert again.exit_code == 1  # the file still holds a failure, so the answer stays
    assert len(read_lines(out)) == 3


def test_api_key_never_reaches_the_output_or_messages(fake: FakeOpenAI, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "echo", "text": article("echo-key")}])
    out = tmp_path / "out.jsonl"
    args = cli_args(fake, tmp_path, str(source), "-o", str(out))

    result = CliRunner().invoke(batch, args, env={"OPENAI_API_KEY": API_KEY})

    assert result.exit_code == 1
    (line,) = read_lines(out)
    assert "[redacted]" in line["error"]["message"]  # the server did echo it back
    assert API_KEY not in out.read_text(encoding="utf-8")
    assert API_KEY not in result.output


def test_a_rejected_request_is_an_endpoint_error(settings: Settings, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "echo", "text": article("echo-key")}])
    run_batch(source, tmp_path / "out.jsonl", settings=settings)
    (line,) = read_lines(tmp_path / "out.jsonl")
    assert line["error"]["code"] == "endpoint_error"


def test_the_core_never_lets_an_echoed_key_into_errors_or_the_call_log(
    settings: Settings, tmp_path: Path
) -> None:
    with Extractor(settings) as extractor, pytest.raises(EndpointError) as caught:
        extractor.extract(article("echo-key"))
    assert "HTTP 4" in str(caught.value) and "[redacted]" in str(caught.value)
    assert API_KEY not in str(caught.value)
    logged = (settings.cache_dir / "logs.db").read_bytes()
    assert API_KEY.encode() not in logged


def test_bad_files_are_recorded_and_the_batch_goes_on(
    fake: FakeOpenAI, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    docs = tmp_path / "articles"
    (docs / "more").mkdir(parents=True)
    (docs / "good.txt").write_text(article(None, 1), encoding="utf-8")
    (docs / "page.html").write_text(f"<html><body><p>{article(None, 2)}</p></body></html>")
    (docs / "more" / "notes.md").write_text(article(None, 3), encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blank.md").write_text(" \n\t\n")
    (docs / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (docs / "latin1.txt").write_bytes("Attaque à Tora, lundi.".encode("latin-1"))
    (docs / "huge.txt").write_text("x" * (settings.max_chars + 1))
    (docs / "utf16.txt").write_bytes(article(None, 5).encode("utf-16"))  # with its BOM
    (docs / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # not an article: a warning
    (docs / ".hidden.txt").write_text(article(None, 4))
    (docs / "loop.txt").symlink_to(docs / "loop.txt")
    (docs / "dangling.txt").symlink_to(docs / "gone.txt")
    (docs / "linked").symlink_to(docs / "more", target_is_directory=True)
    os.mkfifo(docs / "pipe.txt")
    (docs / "locked").mkdir(mode=0o000)  # unreadable (unless tests run as root)
    out = tmp_path / "out.jsonl"

    with caplog.at_level(logging.WARNING, logger="service.front.batch"):
        summary = run_batch(docs, out, settings=settings, concurrency=2)

    lines = by_id(read_lines(out))
    assert set(lines) == {
        "good.txt",
        "page.html",
        "more/notes.md",
        "utf16.txt",
        "empty.txt",
        "blank.md",
        "binary.txt",
        "latin1.txt",
        "huge.txt",
        "loop.txt",
        "dangling.txt",
        "pipe.txt",
    }
    assert all(lines[i]["ok"] for i in ("good.txt", "page.html", "more/notes.md", "utf16.txt"))
    errors = {i: line["error"] for i, line in lines.items() if not line["ok"]}
    assert {e["code"] for e in errors.values()} == {"bad_input"}
    assert "empty article" in errors["empty.txt"]["message"]
    assert "empty article" in errors["blank.md"]["message"]
    assert "binary data" in errors["binary.txt"]["message"]
    assert "not UTF-8" in errors["latin1.txt"]["message"]
    assert f"limit is {settings.max_chars:,}" in errors["huge.txt"]["message"]
    assert "symbolic links" in errors["loop.txt"]["message"]
    assert "No such file" in errors["dangling.txt"]["message"]
    assert "not a regular file but a FIFO" in errors["pipe.txt"]["message"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("photo.jpg", ".hidden.txt", "linked: linked directory"):
        assert name in warned
    locked = os.access(docs / "locked", os.R_OK) is False
    assert ("locked: Permission denied" in warned) is locked
    assert fake.requests["ok"] == 4  # bad files never reach the endpoint
    assert (summary.ok, summary.failed, summary.not_read) == (4, 8, 3 + locked)


def test_bad_jsonl_records_and_duplicate_ids_from_stdin(
    fake: FakeOpenAI, settings: Settings, tmp_path: Path
) -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": "a", "text": article(None, 1), "url": "https://example.org/a"}),
            '{"id": "b", "text": "unterminated',
            "",  # blank lines are not entries
            json.dumps(["not", "an", "object"]),
            json.dumps({"id": "c"}),
            json.dumps({"id": "d", "text": article(None, 2), "published": "last Tuesday"}),
            json.dumps({"id": "7", "text": article(None, 3), "published": "2024-03-05T23:10:00Z"}),
            json.dumps({"id": "a", "text": article(None, 4)}),
            json.dumps({"id": 7, "text": article(None, 5)}),  # not the same id as "7"
            json.dumps({"id": "n", "text": 12345}),  # a number is no article
            json.dumps({"id": "s", "text": "broken \ud800 text"}),  # a lone surrogate
        ]
    )
    out = tmp_path / "out.jsonl"

    summary = run_batch("-", out, settings=settings, stdin=io.BytesIO(stdin.encode()))

    lines = read_lines(out)
    assert len(lines) == 10
    first_a = next(line for line in lines if line["id"] == "a" and line["ok"])
    assert first_a["url"] == "https://example.org/a"
    seven = next(line for line in lines if line["id"] == "7")
    assert seven["record"]["published"] == "2024-03-05"  # the day of a timestamp
    failed = {
        (line["id"], line.get("input_line")): line["error"] for line in lines if not line["ok"]
    }
    assert {key: e["code"] for key, e in failed.items()} == {
        (None, 2): "bad_record",
        (None, 4): "bad_record",
        ("c", None): "bad_record",
        ("d", None): "bad_record",
        ("a", 8): "duplicate_id",
        (None, 9): "bad_record",
        ("n", None): "bad_record",
        ("s", None): "bad_input",
    }
    assert failed[(None, 2)]["message"].startswith("line 2: not a JSON object")
    assert failed[("c", None)]["message"] == "line 5: text: Field required"
    assert failed[("d", None)]["message"].startswith("line 6: published:")
    assert "already used on line 1" in failed[("a", 8)]["message"]
    assert failed[(None, 9)]["message"] == "line 9: id: Input should be a valid string"
    assert failed[("n", None)]["message"] == "line 10: text: Input should be a valid string"
    assert failed[("s", None)]["message"].startswith("not valid Unicode: a lone surrogate (U+D800)")
    assert fake.requests["ok"] == 2  # the duplicate was not extracted again
    assert (summary.ok, summary.failed) == (2, 8)

    again = run_batch("-", out, settings=settings, stdin=io.BytesIO(stdin.encode()))
    assert (again.skipped, again.processed) == (10, 0)  # bad entries are resumed by line too
    assert len(read_lines(out)) == 10


def test_a_hostile_jsonl_line_costs_its_own_line_and_the_batch_goes_on(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """JSON thousands deep, or a lone surrogate in an id or url, cannot stop a batch for good."""
    deep = 2000
    records: list[dict[str, Any] | str] = [
        {"id": "a", "text": article(None, 1)},
        '{"id": "x", "text": ' + "[" * deep + "]" * deep + "}",
        '{"id": "y", "text": "t", "extra": ' + '{"k": ' * 50_000 + "1" + "}" * 50_000 + "}",
        {"id": "\udcff", "text": 5},
        {"id": "u", "text": article(None, 2), "url": "https://example.org/\ud800"},
        {"id": "b", "text": article(None, 3)},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    args = [*cli_args(fake, tmp_path, str(source), "-o", str(out)), "--concurrency", "2"]

    first = CliRunner().invoke(batch, args, env={"NEWSEVENTS_API_KEY": API_KEY})

    assert first.exit_code == 1 and isinstance(first.exception, SystemExit), first.output
    lines = read_lines(out)
    failed = {(x["id"], x.get("input_line")): x["error"] for x in lines if not x["ok"]}
    assert sorted(x["id"] for x in lines if x["ok"]) == ["a", "b"]
    assert {key: e["code"] for key, e in failed.items()} == {
        (None, 2): "bad_record",
        (None, 3): "bad_record",
        (None, 4): "bad_record",
        ("u", None): "bad_record",
    }
    assert failed[(None, 2)]["message"] == "line 2: not a JSON object (nested too deeply to read)"
    assert failed[("u", None)]["message"].startswith("line 5: url: ")
    again = CliRunner().invoke(batch, args, env={"NEWSEVENTS_API_KEY": API_KEY})
    assert again.exit_code == 1 and "resumed: 6 input entries" in again.stderr
    assert len(read_lines(out)) == 6


def test_a_file_name_that_is_not_utf8_is_a_bad_input_line_under_an_escaped_name(
    fake: FakeOpenAI, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Such a name cannot be a JSON id as it is; the good articles around it are all extracted."""
    docs = os.fsencode(tmp_path / "articles")
    os.makedirs(docs + b"/dir\xfe")
    for name, n in ((b"a.txt", 1), (b"bad\xff.txt", 2), (b"dir\xfe/x.txt", 3), (b"z.txt", 4)):
        Path(os.fsdecode(docs + b"/" + name)).write_text(article(None, n), encoding="utf-8")
    Path(os.fsdecode(docs + b"/photo\xff.jpg")).write_bytes(b"\xff\xd8\xff")
    out = tmp_path / "out.jsonl"

    with caplog.at_level(logging.WARNING, logger="service.front.batch"):
        summary = run_batch(os.fsdecode(docs), out, settings=settings, concurrency=2)

    lines = by_id(read_lines(out))
    assert {i: x["ok"] for i, x in lines.items()} == {
        "a.txt": True,
        "z.txt": True,
        "bad\\xff.txt": False,
        "dir\\xfe/x.txt": False,
    }
    bad = lines["bad\\xff.txt"]["error"]
    assert bad["code"] == "bad_input" and "file name is not UTF-8" in bad["message"]
    assert "photo\\xff.jpg: not " in caplog.text
    assert (summary.ok, summary.failed, summary.not_read) == (2, 2, 1)
    again = run_batch(os.fsdecode(docs), out, settings=settings)
    assert (again.skipped, again.processed) == (4, 0)
    assert len(read_lines(out)) == 4


def test_resume_cuts_a_torn_line_and_redoes_only_that_article(
    fake: FakeOpenAI, settings: Settings, tmp_path: Path
) -> None:
    records: list[dict[str, Any] | str] = [
        {"id": f"a{n}", "text": article(None, n)} for n in range(3)
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    run_batch(source, out, settings=settings)
    whole = out.read_bytes()
    last = whole.rstrip(b"\n").rsplit(b"\n", 1)[1]
    out.write_bytes(whole[: len(whole) - len(last) // 2 - 1])  # as if killed mid-write

    summary = run_batch(source, out, settings=settings)

    lines = by_id(read_lines(out))
    assert set(lines) == {"a0", "a1", "a2"}
    assert all(line["ok"] for line in lines.values())
    assert (summary.skipped, summary.ok) == (2, 1)


def test_retry_failed_retries_only_the_failures(
    fake: FakeOpenAI, settings: Settings, tmp_path: Path
) -> None:
    records: list[dict[str, Any] | str] = [
        {"id": "good", "text": article(None)},
        {"id": "bad", "text": article("invalid")},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    run_batch(source, out, settings=settings)
    asked = fake.requests.copy()

    summary = run_batch(source, out, settings=settings, retry_failed=True)

    assert fake.requests["ok"] == asked["ok"]
    assert fake.requests["invalid"] == 2 * asked["invalid"]
    assert (summary.skipped, summary.failed, summary.earlier_failed) == (1, 1, 0)
    assert sorted(line["id"] for line in read_lines(out)) == ["bad", "good"]


def test_a_second_batch_on_the_same_output_is_refused(settings: Settings, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": article(None)}])
    out = tmp_path / "out.jsonl"
    with ResultLog.open(out), pytest.raises(BatchError, match="another batch"):
        run_batch(source, out, settings=settings)


def _numbered_batch(
    tmp_path: Path, count: int
) -> tuple[list[dict[str, Any] | str], Path, Path, dict[str, str]]:
    """`count` articles n00, n01... as JSONL, the output path, and a child's environment."""
    records: list[dict[str, Any] | str] = [
        {"id": f"n{n:02d}", "text": article(None, n)} for n in range(count)
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSEVENTS_API_KEY": API_KEY}
    return records, source, tmp_path / "out.jsonl", env


def test_kill_9_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    count, concurrency = 40, 4
    records, source, out, env = _numbered_batch(tmp_path, count)
    with FakeOpenAI(delay=0.3) as fake:
        args = [
            sys.executable,
            "-m",
            "service",
            "batch",
            *cli_args(fake, tmp_path, str(source), "-o", str(out)),
            "--concurrency",
            str(concurrency),
        ]
        run = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
        try:
            _wait_for_lines(out, 8, run)
        finally:
            os.kill(run.pid, signal.SIGKILL)
            run.wait()
        killed_at = len(out.read_bytes().splitlines())
        assert run.returncode == -signal.SIGKILL
        assert 8 <= killed_at < count  # really killed mid-way

        resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)

    assert resumed.returncode == 0, resumed.stderr
    lines = by_id(read_lines(out))
    assert set(lines) == {r["id"] for r in records if isinstance(r, dict)}
    assert all(line["ok"] for line in lines.values())
    # Only articles in flight at the kill were asked for twice.
    assert count <= fake.requests["ok"] <= count + concurrency


def _wait_for_lines(path: Path, lines: int, run: subprocess.Popen[bytes]) -> None:
    """Poll until the batch has written `lines` lines (a guard, not a timing assertion)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and run.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.05)
    raise AssertionError(f"the batch wrote fewer than {lines} lines before exiting or 30 s")


def test_sigterm_stops_the_batch_cleanly_and_a_rerun_resumes(tmp_path: Path) -> None:
    """`kill PID` (how a background batch is stopped): one line, exit 143, then resumable."""
    count, concurrency = 20, 2
    records, source, out, env = _numbered_batch(tmp_path, count)
    with FakeOpenAI(delay=0.3) as fake:
        command = cli_args(fake, tmp_path, str(source), "-o", str(out))
        args = [sys.executable, "-m", "service", "batch", *command, "--concurrency", "2"]
        run = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_lines(out, 4, run)
        finally:
            run.send_signal(signal.SIGTERM)
            _, stderr = run.communicate(timeout=60)
        stopped_at = len(read_lines(out))  # every line whole: nothing torn to cut off
        resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)

    assert run.returncode == 128 + signal.SIGTERM
    assert f"terminated: re-run the same command to resume into {out}" in stderr.splitlines()
    assert "Traceback" not in stderr
    assert 4 <= stopped_at < count
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {stopped_at} input entries already in the output" in resumed.stderr
    lines = by_id(read_lines(out))  # exactly one line per input
    assert set(lines) == {r["id"] for r in records if isinstance(r, dict)}
    assert all(line["ok"] for line in lines.values())
    assert count <= fake.requests["ok"] <= count + concurrency


def default_sigint() -> None:
    """In the child: SIGINT as a terminal's Ctrl-C finds it, however pytest was started.

    A non-interactive shell starts a background job with SIGINT ignored; the child would
    inherit that, and Python keeps an ignored SIGINT instead of raising KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_does_not_wait_for_the_call_in_flight(tmp_path: Path) -> None:
    """SIGINT ends the batch at once, resumably, while the endpoint is still generating."""
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "s", "text": article("slow")}])
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSEVENTS_TIMEOUT": "300"}
    with FakeOpenAI(slow_seconds=120, lifetime=300) as fake:
        command = cli_args(fake, tmp_path, str(source), "-o", str(out))
        args = [sys.executable, "-m", "service", "batch", *command]
        run = subprocess.Popen(
            args, env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=default_sigint
        )
        deadline = time.monotonic() + 60
        while fake.requests["slow"] == 0:
            assert run.poll() is None and time.monotonic() < deadline, "the request never came"
            time.sleep(0.05)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=100)
        answered = fake.answered["slow"]
    assert run.returncode == 130
    assert answered == 0  # it exited while the endpoint was still working on the request
    assert "interrupted: re-run the same command" in stderr and "Traceback" not in stderr
    assert read_lines(out) == []  # nothing half-done was written
