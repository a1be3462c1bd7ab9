"""Turn what a user hands us into article text, or refuse it with a clear reason.

Offsets in the records index the text returned by `read_article`, so nothing here
rewrites plain text: it is only checked, and HTML is reduced to its visible text.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

from bs4 import BeautifulSoup

from service.errors import InputError

_HTML_HINT = re.compile(r"<\s*(html|body|p|div|article|br|span|head|!doctype)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Input is read up to this many bytes and refused past it, before anything is decoded,
#: so a stray multi-GB file, /dev/zero or an endless pipe cannot exhaust memory.
MAX_INPUT_BYTES = 50_000_000
# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_limited(stream: BinaryIO, name: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """At most `limit` bytes of a stream; a longer input is refused without reading it all."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{name} is over {limit:,} bytes; input that large is not read")
    return data


def read_article(data: str | bytes, *, max_chars: int) -> str:
    """Validate and decode an article; HTML becomes its visible text."""
    text = _decode(data) if isinstance(data, bytes) else _valid_unicode(data)
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


def _valid_unicode(text: str) -> str:
    """A str from JSON can hold a lone surrogate ('\\ud800'), which is no text at all."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"not valid Unicode: a lone surrogate (U+{ord(text[exc.start]):04X}) "
            f"at offset {exc.start}"
        ) from None
    return text


def _decode(data: bytes) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)  # the codec reads the mark and drops it
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not {codec.upper()} text despite its byte-order mark: bad bytes at "
                    f"offset {exc.start}"
                ) from None
    if b"\x00" in data:
        if encoding := _utf16_without_bom(data):
            raise InputError(
                f"{encoding} text without a byte-order mark, it seems: convert it to UTF-8 first"
            )
        raise InputError(f"binary data, not text (NUL byte at offset {data.index(0)})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(convert the file to UTF-8 first)"
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 of mostly ASCII text has a NUL in every other byte: name it, not 'binary'."""
    sample = data[:4000]
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even, odd = sample[0::2].count(0) / pairs, sample[1::2].count(0) / pairs
    if odd > 0.4 and even < 0.05:
        return "UTF-16-LE"
    if even > 0.4 and odd < 0.05:
        return "UTF-16-BE"
    return None


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:5000]))


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block per line."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def chunk_text(text: str, size: int, overlap: int = 400) -> list[str]:
    """Split at line breaks into pieces of at most `size` characters.

    Consecutive chunks share up to `overlap` characters, so an event told across a
    boundary is seen whole by at least one call; duplicates are merged later. Evidence
    is located in the whole article afterwards, so a chunk needs no offset of its own.
    """
    if len(text) <= size:
        return [text]
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = text.rfind("\n", start + size // 2, end)
            if cut == -1:
                cut = text.rfind(" ", start + size // 2, end)
            end = cut + 1 if cut != -1 else end
        chunks.append(text[start:end])
        if end >= len(text):
            break
        back = text.find("\n", max(end - overlap, start + 1), end)
        start = back + 1 if back != -1 and back + 1 < end else end
    return chunks
