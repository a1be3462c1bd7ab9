"""The batch's output file: the only state of a run, so the thing that makes it resumable.

Every finished article is one whole line, written by one writer, flushed and fsynced
before the next; so after a crash (even `kill -9`) the file holds complete lines plus at
most one torn last line, which `ResultLog.open` cuts off before the run appends. The
lines already there say which input entries are done: a re-run skips them, so nothing
is lost and nothing is written twice. The file is locked while a run writes it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service.errors import BatchError
from service.front.results import BatchItemResult

log = logging.getLogger(__name__)

#: What identifies an input entry across runs: ("id", its id) or ("line", its input line).
Key = tuple[str, str | int]


def entry_key(entry: dict[str, Any]) -> Key:
    """What identifies an output line's input entry across runs."""
    if "input_line" in entry:
        return ("line", entry["input_line"])
    return ("id", entry["id"])


class ResultLog:
    """The output JSONL: locked, repaired on open, appended one fsynced line at a time."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        self._lock = threading.Lock()
        self.done: set[Key] = set()
        self.earlier_ok = 0
        self.earlier_failed = 0

    @classmethod
    @contextmanager
    def open(cls, path: Path, *, retry_failed: bool = False) -> Iterator[ResultLog]:
        """The output, locked; refused with a `BatchError` unless it is a regular file."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_locked(path)
        except OSError as exc:
            raise BatchError(f"cannot write the output {path}: {exc.strerror or exc}") from None
        try:
            if retry_failed:
                _drop_failures(path)  # renames a new file into place: lock that one instead
                fd, old = _open_locked(path), fd
                os.close(old)
            result_log = cls(path, fd)
            result_log._load()
        except OSError as exc:
            os.close(fd)
            raise BatchError(f"cannot use the output {path}: {exc.strerror or exc}") from None
        try:
            yield result_log
        finally:
            os.close(fd)  # also releases the lock

    def _load(self) -> None:
        """Collect finished entries; cut a torn last line left by a killed run."""
        good_end = 0
        with open(self._fd, "rb", closefd=False) as fh:
            fh.seek(0)
            for number, raw in enumerate(fh, 1):
                if not raw.endswith(b"\n"):
                    break  # torn: the run died mid-write
                entry = _parse_result(raw, self.path, number)
                if entry is not None:
                    self.done.add(entry_key(entry))
                    if entry["ok"]:
                        self.earlier_ok += 1
                    else:
                        self.earlier_failed += 1
                good_end += len(raw)
        size = os.fstat(self._fd).st_size
        if size > good_end:
            log.warning("%s: dropping a torn last line (%d bytes)", self.path, size - good_end)
            os.ftruncate(self._fd, good_end)
            os.fsync(self._fd)

    def write(self, result: BatchItemResult) -> None:
        """Append one whole line and make it durable before returning; safe from any thread."""
        data = (result.json_line() + "\n").encode()
        with self._lock:
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
                os.fsync(self._fd)
            except OSError as exc:  # disk full, file system gone: stop, resumable
                raise BatchError(f"cannot write to {self.path}: {exc.strerror or exc}") from None


def _parse_result(raw: bytes, path: Path, number: int) -> dict[str, Any] | None:
    if not raw.strip():
        return None
    try:
        entry = json.loads(raw)
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "ok" not in entry or ("id" not in entry):
        raise BatchError(
            f"{path} line {number} is not a batch result; refusing to append to this file"
        )
    return entry


def _open_locked(path: Path) -> int:
    """Open for appending, with an exclusive lock: two batches on one file would duplicate.

    Only a regular file: /dev/null would lose every line, /dev/zero never ends when the
    resume reads it, and a FIFO or a closed pipe cannot be resumed from.
    """
    if path.exists() and not path.is_file():
        raise BatchError(f"the output {path} is not a regular file: give the path of a file")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BatchError(f"the output {path} is not a regular file: give the path of a file")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise BatchError(f"{path} is being written by another batch") from None
    return fd


def _drop_failures(path: Path) -> None:
    """Rewrite the output without its failed lines, atomically (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with path.open("rb") as src, tmp.open("wb") as dst:
        for number, raw in enumerate(src, 1):
            entry = _parse_result(raw, path, number) if raw.endswith(b"\n") else None
            if entry is not None and entry["ok"]:
                dst.write(raw)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)
