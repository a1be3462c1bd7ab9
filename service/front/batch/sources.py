"""Batch input readers: a directory of article files, a JSONL file, or JSONL on stdin.

Readers never stop at a bad item: an unreadable record becomes an `Item` that
carries its error, so the batch can record it and go on. Items are produced
lazily, so a large input is never held in memory at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

from service.core.text import MAX_INPUT_BYTES, read_limited
from service.errors import InputError

ARTICLE_SUFFIXES = frozenset({".txt", ".html", ".htm", ".md"})


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
        """The article as given: bytes for files (decoded by `read_article`), else text.

        Only a regular file is opened (a FIFO would block, a device never end), and
        read up to the input limit. A dangling link or a link loop raises OSError.
        """
        if self.path is None:
            return self.text or ""
        mode = self.path.stat().st_mode  # follows links
        if not stat.S_ISREG(mode):
            raise InputError(f"not a regular file but a {_kind(mode)}: not read")
        with self.path.open("rb") as stream:
            return read_limited(stream, "the file")


class InputRecord(BaseModel):
    """One JSONL line. Unknown fields are ignored so richer exports load as they are."""

    model_config = ConfigDict(extra="ignore")

    # Strings only: a number as text is no article, and ids 7 and "7" must not collide.
    id: StrictStr = Field(min_length=1)
    text: StrictStr
    url: str | None = None
    published: dt.date | None = None

    @field_validator("url")
    @classmethod
    def _valid_unicode(cls, value: str | None) -> str | None:
        """The url is copied onto the output line, which a lone surrogate would make unwritable."""
        if value is not None and not _is_utf8(value):
            raise ValueError("not valid Unicode (a lone surrogate)")
        return value

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
    """Where the articles come from; `total` entries when known in advance (not for stdin).

    `skipped` names each directory entry that is not an article and is not read, so
    that every input is accounted for: an output line, or one of these.
    """

    total: int | None
    items: Iterator[Item]
    skipped: list[str] = field(default_factory=list)


def open_source(spec: str | Path, stdin: BinaryIO | None = None) -> Source:
    """A directory, a JSONL file, or '-' for JSONL on stdin."""
    if str(spec) == "-":
        return Source(None, read_jsonl(stdin or sys.stdin.buffer))
    path = Path(spec)
    if path.is_dir():
        files, skipped = scan_directory(path)
        return Source(len(files), (_file_item(path, f) for f in files), skipped)
    if path.is_file():
        with path.open("rb") as fh:
            total = sum(1 for _, raw in _lines(fh) if raw is None or raw.strip())
        return Source(total, _read_jsonl_file(path))
    raise InputError(f"input {str(spec)!r} is neither a directory, a JSONL file nor '-'")


def scan_directory(root: Path) -> tuple[list[Path], list[str]]:
    """Article entries under `root` in a stable order, and why each other entry is not read.

    Every name with an article suffix is an entry, whatever it points at: a dangling
    link, a link loop or a FIFO then gets its own failed output line. Linked
    directories are not followed (a loop would never end); they are named instead.
    """
    articles: list[Path] = []
    skipped: list[str] = []

    def unreadable(error: OSError) -> None:
        skipped.append(f"{_shown_name(str(error.filename))}: {error.strerror}, not read")

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        base = Path(folder)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                rel = _shown_name((base / name).relative_to(root).as_posix())
                skipped.append(f"{rel}: linked directory, not followed")
        for name in files:
            path = base / name
            rel = _shown_name(path.relative_to(root).as_posix())
            if name.startswith("."):
                skipped.append(f"{rel}: hidden file, not read")
            elif path.suffix.lower() not in ARTICLE_SUFFIXES:
                skipped.append(f"{rel}: not {'/'.join(sorted(ARTICLE_SUFFIXES))}, not read")
            else:
                articles.append(path)
    return sorted(articles), sorted(skipped)


def _shown_name(name: str) -> str:
    """A file name as text an output line can hold: each byte that is not UTF-8 as `\\xNN`.

    Python keeps such bytes as lone surrogates (surrogateescape), which JSON cannot encode.
    """
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _file_item(root: Path, path: Path) -> Item:
    """The entry of an article file, named by its path under `root`.

    A name that is not UTF-8 cannot be an id as it is: its entry is a `bad_input` line
    under the escaped name, so the batch goes on and the file is accounted for.
    """
    rel = path.relative_to(root).as_posix()
    shown = _shown_name(rel)
    if shown == rel:
        return Item(id=rel, path=path)
    message = "the file name is not UTF-8 (shown with \\xNN for each bad byte): rename it"
    return Item(id=shown, error=ItemError("bad_input", message))


def _is_utf8(text: str) -> bool:
    """False for a str holding a lone surrogate, as JSON's '\\ud800' gives."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "FIFO", stat.S_ISSOCK: "socket", stat.S_ISDIR: "directory"}
    return next((name for test, name in kinds.items() if test(mode)), "device")


def _read_jsonl_file(path: Path) -> Iterator[Item]:
    with path.open("rb") as fh:
        yield from read_jsonl(fh)


def read_jsonl(stream: BinaryIO) -> Iterator[Item]:
    """One item per non-blank line; a line that is not a valid record yields its error."""
    for number, raw in _lines(stream):
        if raw is None:
            yield _bad(number, None, f"over {MAX_INPUT_BYTES:,} bytes, not read")
        elif raw.strip():
            yield parse_record(raw, number)


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines, each read up to the input limit: a longer one is skipped as None."""
    number = 0
    while raw := stream.readline(MAX_INPUT_BYTES + 1):
        number += 1
        if len(raw) > MAX_INPUT_BYTES:
            while raw and not raw.endswith(b"\n"):  # skip the rest of it, a piece at a time
                raw = stream.readline(1 << 20)
            yield number, None
        else:
            yield number, raw


def parse_record(raw: bytes, line: int) -> Item:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _bad(line, None, f"not a JSON object ({exc})")
    except RecursionError:  # [[[... thousands deep: one bad line, not the end of the batch
        return _bad(line, None, "not a JSON object (nested too deeply to read)")
    if not isinstance(data, dict):
        return _bad(line, None, f"not a JSON object but a {type(data).__name__}")
    try:
        record = InputRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raw_id = data.get("id")
        usable = isinstance(raw_id, str) and raw_id and _is_utf8(raw_id)
        return _bad(line, raw_id if usable else None, f"{where}: {first['msg']}")
    return Item(
        id=record.id, line=line, text=record.text, url=record.url, published=record.published
    )


def _bad(line: int, id: str | None, message: str) -> Item:
    return Item(id=id, line=line, error=ItemError("bad_record", f"line {line}: {message}"))
