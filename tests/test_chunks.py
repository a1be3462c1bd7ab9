"""A long article is read in overlapping chunks, one model call each, as one record.

The endpoint is `tests.fake_openai`, a fault-injection double: it answers one event
quoting the first sentence of the text it was given, so each chunk yields the event
of its own first sentence.
"""

from __future__ import annotations

from pathlib import Path

from service import Extractor, Settings
from service.core.text import chunk_text
from tests.fake_openai import FakeOpenAI

LINES = [f"Gunmen attacked the village of Tora {n} on Monday, police said." for n in range(40)]
ARTICLE = "\n".join(LINES)
CHUNK_CHARS = 800


def test_a_long_article_is_one_record_of_its_chunks_with_offsets_in_the_whole(
    tmp_path: Path,
) -> None:
    chunks = chunk_text(ARTICLE, CHUNK_CHARS)
    assert len(chunks) > 2
    with FakeOpenAI() as fake:
        settings = Settings(
            base_url=f"{fake.url}/v1",
            model="fake",
            backend="llamacpp",
            cache_dir=tmp_path,
            chunk_chars=CHUNK_CHARS,
        )
        with Extractor(settings) as extractor:
            record = extractor.extract(ARTICLE)
            again = extractor.extract(ARTICLE)

    assert f"long article: read in {len(chunks)} overlapping chunks" in record.warnings
    assert record.usage is not None and record.usage.model_calls == len(chunks)
    quotes = [event.evidence[0].quote for event in record.events]
    assert quotes == [chunk.splitlines()[0] for chunk in chunks]  # one event per chunk, in order
    for event in record.events:
        evidence = event.evidence[0]
        assert evidence.start is not None and evidence.end is not None
        assert ARTICLE[evidence.start : evidence.end] == evidence.quote  # offsets in the whole
    assert record.events[-1].evidence[0].start > CHUNK_CHARS  # not offsets in its own chunk
    assert again.usage is not None and again.usage.cached  # every chunk's answer was cached
    assert again.events == record.events
