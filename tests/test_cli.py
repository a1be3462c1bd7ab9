"""The CLI is a thin layer: JSON on success, one line and exit 1 on failure, no traceback."""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from tests.fake_openai import FakeOpenAI

KEY = "sk-test-never-shown-0123456789"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(
    *args: str, env: dict[str, str], preexec_fn: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
        preexec_fn=preexec_fn,
    )


def file_permissions_apply() -> None:
    """In a child about to exec: make file modes bind even root, as they bind any user.

    Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set
    (prctl PR_CAPBSET_DROP), so a root `exec` does not get them back.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


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


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("unreadable", "Permission denied"),
        ("directory", "Is a directory"),
        ("missing", "No such file or directory"),
    ],
)
def test_a_file_that_cannot_be_read_among_several_costs_only_its_own_output(
    tmp_path: Path, kind: str, reason: str
) -> None:
    """Not click's usage text and exit 2 for all: the others are extracted, it gets a line."""
    good, bad = tmp_path / "good.txt", tmp_path / "b.txt"
    good.write_text("Gunmen attacked the village of Tora on Monday, killing three people.")
    if kind == "unreadable":
        bad.write_text("Two killed.")
        bad.chmod(0o000)
    elif kind == "directory":
        bad.mkdir()
    as_root = os.geteuid() == 0
    with FakeOpenAI() as fake:
        try:
            done = run(
                "extract", str(good), str(bad),
                "--base-url", f"{fake.url}/v1", "--model", "fake", "--backend", "llamacpp",
                env={"NEWSEVENTS_CACHE_DIR": str(tmp_path / "cache")},
                preexec_fn=file_permissions_apply if as_root else None,
            )  # fmt: skip
        except subprocess.SubprocessError:
            pytest.skip("cannot drop root's file capabilities here")
    assert done.returncode == 1, done.stderr
    assert [r["id"] for r in json.loads(done.stdout)] == ["good.txt"]
    assert done.stderr.splitlines() == [f"error: {bad}: cannot read {bad}: {reason}"]


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
