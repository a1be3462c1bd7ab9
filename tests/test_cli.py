"""The CLI is a thin layer: JSON on success, one line and exit 1 on failure, no traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from tests.fake_openai import FakeOpenAI

KEY = "sk-test-never-shown-0123456789"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_an_unreachable_endpoint_is_one_line_without_the_key(tmp_path: Path) -> None:
    done = run(
        "extract",
        str(SEEDS / "004_e703eae0c918574b.txt"),
        "--base-url",
        f"http://127.0.0.1:{closed_port()}/v1",
        "--model",
        "any",
        env={
            "OPENAI_API_KEY": KEY,
            "NEWSEVENTS_MAX_ATTEMPTS": "2",
            "NEWSEVENTS_CACHE_DIR": str(tmp_path),
        },
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()  # one line, whatever openai's own wording
    assert line.startswith("error: model endpoint failed 2 times: APIConnectionError: ")
    assert KEY not in done.stderr


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    done = run("extract", str(tmp_path / "nope.txt"), env={"NEWSEVENTS_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip().endswith("No such file or directory")
    assert "Traceback" not in done.stderr


def test_binary_input_is_refused_before_any_model_starts(tmp_path: Path) -> None:
    blob = tmp_path / "photo.jpg"
    blob.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    done = run("extract", str(blob), env={"NEWSEVENTS_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip() == "error: binary data, not text (NUL byte at offset 4)"


def test_extract_reads_no_more_than_the_input_limit(tmp_path: Path) -> None:
    """/dev/zero as a file or as stdin is refused after the limit, not read until memory ends."""
    env = {"NEWSEVENTS_CACHE_DIR": str(tmp_path)}
    as_file = run("extract", "/dev/zero", env=env)
    with open("/dev/zero", "rb") as zeros:
        as_stdin = subprocess.run(
            [sys.executable, "-m", "service", "extract", "-"],
            stdin=zeros, capture_output=True, text=True, cwd=ROOT,
            env={**os.environ, **env}, timeout=120, check=False,
        )  # fmt: skip
    assert as_file.returncode == as_stdin.returncode == 1
    assert (
        as_file.stderr.strip()
        == "error: /dev/zero is over 50,000,000 bytes; input that large is not read"
    )
    assert as_stdin.stderr.strip().startswith("error: standard input is over 50,000,000 bytes")


def test_one_bad_file_among_several_costs_only_its_own_output(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        good, empty = tmp_path / "good.txt", tmp_path / "empty.txt"
        good.write_text("Gunmen attacked the village of Tora on Monday, killing three people.")
        empty.write_text("")
        done = run(
            "extract", str(good), str(empty),
            "--base-url", f"{fake.url}/v1", "--model", "fake", "--backend", "llamacpp",
            env={"NEWSEVENTS_CACHE_DIR": str(tmp_path / "cache")},
        )  # fmt: skip
    assert done.returncode == 1
    assert [r["id"] for r in json.loads(done.stdout)] == ["good.txt"]
    assert done.stderr.splitlines() == [
        f"error: {empty}: empty article: there is no text to extract events from"
    ]


@pytest.mark.parametrize("output", ["/etc/passwd/x.jsonl", "/dev/null", "/dev/zero", "fifo"])
def test_batch_refuses_an_output_that_is_no_regular_file_in_one_line(
    tmp_path: Path, output: str
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "Two killed."}\n')
    if output == "fifo":
        output = str(tmp_path / "fifo")
        os.mkfifo(output)
    done = run("batch", str(source), "-o", output, env={"NEWSEVENTS_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith("batch stopped: ")
    assert output in done.stderr.splitlines()[0]
