"""Bad input gets a clear error before any model call, and plain text is never rewritten."""

from __future__ import annotations

import codecs
import io
import itertools

import pytest

from service.core.text import chunk_text, html_to_text, read_article, read_limited
from service.errors import InputError


def test_plain_text_is_returned_unchanged() -> None:
    text = "  Rockets hit the base on Tuesday.\r\n\nNo one was hurt.  "
    assert read_article(text, max_chars=1000) == text


def test_utf8_bytes_are_decoded_and_a_bom_dropped() -> None:
    assert read_article("\ufeffKata’ib".encode(), max_chars=100) == "Kata’ib"


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="empty article"):
        read_article(text, max_chars=100)


def test_bytes_that_are_not_utf8_name_the_offending_byte() -> None:
    with pytest.raises(InputError, match=r"not UTF-8 text: byte 0xe9 at offset 3"):
        read_article("café au lait".encode("latin-1"), max_chars=100)


def test_binary_data_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    with pytest.raises(InputError, match="binary data"):
        read_article(png, max_chars=100)


def test_control_character_soup_is_refused() -> None:
    with pytest.raises(InputError, match="control characters"):
        read_article("\x01\x02\x03abc\x04\x05\x06" * 10, max_chars=1000)


def test_text_over_the_limit_names_the_limit() -> None:
    with pytest.raises(InputError, match=r"12,000 characters; the limit is 10,000"):
        read_article("a" * 12_000, max_chars=10_000)


def test_html_becomes_its_visible_text() -> None:
    page = (
        "<html><head><title>t</title><script>var x = 1;</script></head>"
        "<body><h1>Strike in Iraq</h1><p>US forces struck &amp; left.</p></body></html>"
    )
    assert read_article(page, max_chars=1000) == "Strike in Iraq\nUS forces struck & left."
    assert html_to_text("<p>a</p><style>p{}</style>") == "a"


def test_html_with_no_visible_text_is_empty() -> None:
    with pytest.raises(InputError, match="HTML has no visible text"):
        read_article("<html><script>alert(1)</script></html>", max_chars=1000)


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("one line\nanother", size=100) == ["one line\nanother"]


def test_long_text_is_cut_at_line_breaks_into_overlapping_pieces_of_the_text() -> None:
    lines = [f"Paragraph {i} says something about a strike." for i in range(60)]
    text = "\n".join(lines)
    chunks = chunk_text(text, size=500, overlap=100)
    assert len(chunks) > 1
    starts = [text.index(chunk) for chunk in chunks]  # each chunk is the text, unchanged
    for chunk in chunks:
        assert len(chunk) <= 500
        assert chunk.startswith("Paragraph")  # cut at a line break
    for (a, before), (b, _) in itertools.pairwise(zip(starts, chunks, strict=True)):
        assert a < b < a + len(before)  # in order, and they overlap
    assert starts[0] == 0 and starts[-1] + len(chunks[-1]) == len(text)  # all of it


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_text_with_a_byte_order_mark_is_decoded(codec: str) -> None:
    text = "Rockets hit the base on Tuesday."
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert read_article(data, max_chars=1000) == text


def test_utf16_without_a_mark_is_named_not_called_binary() -> None:
    with pytest.raises(InputError, match="UTF-16-LE text without a byte-order mark"):
        read_article("Rockets hit the base on Tuesday.".encode("utf-16-le"), max_chars=1000)


def test_a_lone_surrogate_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"lone surrogate \(U\+D800\) at offset 7"):
        read_article("broken \ud800 text", max_chars=1000)


def test_input_is_read_only_up_to_the_limit() -> None:
    stream = io.BytesIO(b"x" * 101)
    with pytest.raises(InputError, match="standard input is over 100 bytes"):
        read_limited(stream, "standard input", limit=100)
    assert stream.tell() == 101  # never more than limit + 1
    assert read_limited(io.BytesIO(b"abc"), "f", limit=100) == b"abc"
