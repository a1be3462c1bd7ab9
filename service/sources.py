"""Batch input readers: a directory of article files, a JSONL file, or JSONL on stdin.

Readers never stop at a bad item: an unreadable record becomes an `Item` that
carries its error, so the batch can record it and go on. Items are produced
lazily, so a large input is never held in memory at once.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from service.errors import InputError

ARTICLE_SUFFIXES = frozenset({".txt", ".html", ".htm", ".md"})
#: Files are read whole; past this size they are refused unread, so one stray
#: multi-GB file cannot exhaust memory. `max_chars` still applies to the rest.
MAX_FILE_BYTES = 50_000_000


@dataclass(frozen=True)
class ItemError:
    code: str
    message: str


@dataclass(frozen=True)
class Item:
    """One article to extract, or the reason an input entry cannot be one.

    `line` is the 1-based JSONL line number (None for files): it names entries
    that have no usable id of their own.
    """

    id: str | None
    line: int | None = None
    text: str | None = None
    path: Path | None = None
    url: str | None = None
    published: dt.date | None = None
    error: ItemError | None = None

    def load(self) -> str | bytes:
        """The article as given: bytes for files (decoded by `read_article`), else text."""
        if self.path is None:
            return self.text or ""
        size = self.path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size:,} bytes; files over {MAX_FILE_BYTES:,} are not read")
        return self.path.read_bytes()


class InputRecord(BaseModel):
    """One JSONL line. Unknown fields are ignored so richer exports load as they are."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str = Field(min_length=1)
    text: str
    url: str | None = None
    published: dt.date | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _day_of_timestamp(cls, value: object) -> object:
        """Exports often carry a timestamp; its day is what relative dates resolve against."""
        if isinstance(value, str) and len(value) > 10:
            try:
                return dt.datetime.fromisoformat(value).date()
            except ValueError:
                return value  # let the date validation explain what is wrong
        return value


@dataclass(frozen=True)
class Source:
    """Where the articles come from; `total` entries when known in advance (not for stdin)."""

    name: str
    total: int | None
    items: Iterator[Item]


def open_source(spec: str | Path, stdin: BinaryIO | None = None) -> Source:
    """A directory, a JSONL file, or '-' for JSONL on stdin."""
    if str(spec) == "-":
        return Source("stdin", None, read_jsonl(stdin or sys.stdin.buffer))
    path = Path(spec)
    if path.is_dir():
        files = article_files(path)
        return Source(
            str(path), len(files), (Item(id=f.relative_to(path).as_posix(), path=f) for f in files)
        )
    if path.is_file():
        with path.open("rb") as fh:
            total = sum(1 for raw in fh if raw.strip())
        return Source(str(path), total, _read_jsonl_file(path))
    raise InputError(f"input {str(spec)!r} is neither a directory, a JSONL file nor '-'")


def article_files(root: Path) -> list[Path]:
    """Article files under `root`, in a stable order so runs and resumes agree."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
    )


def _read_jsonl_file(path: Path) -> Iterator[Item]:
    with path.open("rb") as fh:
        yield from read_jsonl(fh)


def read_jsonl(stream: BinaryIO) -> Iterator[Item]:
    """One item per non-blank line; a line that is not a valid record yields its error."""
    for number, raw in enumerate(stream, 1):
        if raw.strip():
            yield parse_record(raw, number)


def parse_record(raw: bytes, line: int) -> Item:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _bad(line, None, f"not a JSON object ({exc})")
    if not isinstance(data, dict):
        return _bad(line, None, f"not a JSON object but a {type(data).__name__}")
    try:
        record = InputRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raw_id = data.get("id")
        usable = isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id)
        return _bad(line, str(raw_id) if usable else None, f"{where}: {first['msg']}")
    return Item(
        id=record.id, line=line, text=record.text, url=record.url, published=record.published
    )


def _bad(line: int, id: str | None, message: str) -> Item:
    return Item(id=id, line=line, error=ItemError("bad_record", f"line {line}: {message}"))
