"""Turn what a user hands us into article text, or refuse it with a clear reason.

Offsets in the records index the text returned by `read_article`, so nothing here
rewrites plain text: it is only checked, and HTML is reduced to its visible text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup

from service.errors import InputError

_HTML_HINT = re.compile(r"<\s*(html|body|p|div|article|br|span|head|!doctype)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Chunk:
    """A piece of a long article and where it starts in the whole."""

    start: int
    text: str


def read_article(data: str | bytes, *, max_chars: int) -> str:
    """Validate and decode an article; HTML becomes its visible text."""
    text = _decode(data) if isinstance(data, bytes) else data
    if "\x00" in text:
        raise InputError(f"binary data, not text (NUL character at offset {text.index(chr(0))})")
    if not text.strip():
        raise InputError("empty article: there is no text to extract events from")
    if len(_CONTROL.findall(text[:10_000])) > 0.05 * min(len(text), 10_000):
        raise InputError("binary data, not text (too many control characters)")
    if looks_like_html(text):
        text = html_to_text(text)
        if not text.strip():
            raise InputError("empty article: the HTML has no visible text")
    if len(text) > max_chars:
        raise InputError(
            f"article is {len(text):,} characters; the limit is {max_chars:,} (setting max_chars)"
        )
    return text


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise InputError(f"binary data, not text (NUL byte at offset {data.index(0)})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(convert the file to UTF-8 first)"
        ) from None


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:5000]))


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block per line."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def chunk_text(text: str, size: int, overlap: int = 400) -> list[Chunk]:
    """Split at line breaks into pieces of at most `size` characters.

    Consecutive chunks share up to `overlap` characters, so an event told across a
    boundary is seen whole by at least one call; duplicates are merged later.
    """
    if len(text) <= size:
        return [Chunk(0, text)]
    chunks: list[Chunk] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = text.rfind("\n", start + size // 2, end)
            if cut == -1:
                cut = text.rfind(" ", start + size // 2, end)
            end = cut + 1 if cut != -1 else end
        chunks.append(Chunk(start, text[start:end]))
        if end >= len(text):
            break
        back = text.find("\n", max(end - overlap, start + 1), end)
        start = back + 1 if back != -1 and back + 1 < end else end
    return chunks
