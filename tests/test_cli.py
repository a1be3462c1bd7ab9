"""The CLI is a thin layer: JSON on success, one line and exit 1 on failure, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SEEDS

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
    assert done.stderr.splitlines() == [
        "error: model endpoint failed 2 times: APIConnectionError: Connection error."
    ]
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
