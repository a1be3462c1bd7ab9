"""Every request an extraction makes is counted, and the whole extraction has a deadline.

Retries and re-asks each restart a generation, so each is counted in the record's
usage and has its own row in the call log. The endpoint is `tests.fake_openai`,
a fault-injection double.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.events import ArticleEvents
from service import Extractor, Settings
from service.errors import DeadlineExceeded
from tests.fake_openai import FakeOpenAI

TEXT = "Gunmen attacked the village of Tora on Monday, killing three people, police said."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(slow_seconds=30) as server:
        yield server


def settings_for(fake: FakeOpenAI, tmp_path: Path, **more: object) -> Settings:
    base: dict[str, object] = {
        "base_url": f"{fake.url}/v1",
        "model": "fake",
        "backend": "llamacpp",
        "cache_dir": tmp_path / "cache",
    }
    return Settings(**(base | more))


def logged(cache_dir: Path) -> list[tuple[str | None, str | None, int]]:
    """(error, response, completion tokens) of every attempt, in order."""
    with sqlite3.connect(cache_dir / "logs.db") as db:
        query = "SELECT error, response, completion_tokens FROM attempts ORDER BY id"
        return list(db.execute(query))


@pytest.mark.parametrize(
    ("fault", "first_error"), [("invalid-once", "re-asked"), ("500-once", "HTTP 500")]
)
def test_every_request_is_in_the_usage_and_the_call_log(
    fake: FakeOpenAI, tmp_path: Path, fault: str, first_error: str
) -> None:
    settings = settings_for(fake, tmp_path, max_attempts=2, max_reasks=1)
    with Extractor(settings) as extractor:
        record = extractor.extract(f"{TEXT} [[fault:{fault}]]")
    assert record.usage is not None and record.usage.model_calls == 2 == fake.requests[fault]
    rows = logged(settings.cache_dir)
    assert len(rows) == 2
    assert first_error in (rows[0][0] or "")
    assert (rows[0][1] is not None) == (fault == "invalid-once")  # the answer that was refused
    assert rows[1][0] is None and rows[1][1] is not None  # the answer that was kept
    assert record.usage.completion_tokens == sum(r[2] for r in rows)


def test_the_deadline_bounds_the_whole_extraction(fake: FakeOpenAI, tmp_path: Path) -> None:
    """A 600 s request timeout and four attempts: the 1 s deadline still ends it after one."""
    settings = settings_for(fake, tmp_path, timeout=600, max_attempts=4, deadline=1)
    with Extractor(settings) as extractor, pytest.raises(DeadlineExceeded, match="deadline of 1 s"):
        extractor.extract(f"{TEXT} [[fault:slow]]")
    assert fake.requests["slow"] == 1  # no retry started once the time was up
    (row,) = logged(settings.cache_dir)
    assert row[0] is not None and row[0].startswith("the article took longer than its deadline")


def test_a_long_article_past_its_deadline_says_how_far_it_got(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    lines = [f"Gunmen attacked the village of Tora {n} on Monday, police said." for n in range(12)]
    text = "\n".join(lines) + " [[fault:slow]]\n"  # only the last chunk is slow
    settings = settings_for(fake, tmp_path, chunk_chars=500, deadline=5, max_attempts=1)
    with Extractor(settings) as extractor, pytest.raises(DeadlineExceeded) as caught:
        extractor.extract(text)
    assert str(caught.value).endswith("; 3 of 4 chunks were done and are cached")


def test_a_trickled_answer_is_cut_at_the_deadline_and_never_cached(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """Each piece comes well within the request timeout; only the deadline can end it."""
    settings = settings_for(fake, tmp_path, timeout=1, max_attempts=2, deadline=1)
    with Extractor(settings) as extractor:
        for run in (1, 2):  # a cached answer would make the second run succeed at once
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded, match="took longer than its deadline of 1 s"):
                extractor.extract(f"{TEXT} [[fault:trickle]]")
            assert time.monotonic() - started < 10  # the trickle would last 30 s
            assert fake.requests["trickle"] == run


def test_a_read_that_stalls_is_cut_at_the_deadline_not_at_its_timeout(tmp_path: Path) -> None:
    """A 2.5 s trickle, then silence: a 600 s timeout, cut to what was left when the
    request started (3 s), would let the read wait until 5.5 s."""
    with FakeOpenAI(slow_seconds=2.5) as fake:
        settings = settings_for(fake, tmp_path, timeout=600, max_attempts=2, deadline=3)
        started = time.monotonic()
        with Extractor(settings) as extractor, pytest.raises(DeadlineExceeded):
            extractor.extract(f"{TEXT} [[fault:stall]]")
        assert time.monotonic() - started < 4.2
    assert fake.requests["stall"] == 1


def test_a_retry_the_deadline_cannot_wait_for_ends_it_at_once_and_says_so(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """Retry-After as an HTTP date a minute ahead, with 5 s left."""
    settings = settings_for(fake, tmp_path, max_attempts=3, deadline=5)
    started = time.monotonic()
    with Extractor(settings) as extractor, pytest.raises(DeadlineExceeded) as caught:
        extractor.extract(f"{TEXT} [[fault:429-date]]")
    assert time.monotonic() - started < 5  # it did not wait out the deadline
    assert fake.requests["429-date"] == 1
    said = re.fullmatch(
        r"the article stopped short of its deadline of 5 s \(setting deadline\): the next "
        r"retry was due in (\d+\.\d) s, past it; last error: RateLimitError",
        str(caught.value),
    )
    assert said is not None and 55 < float(said.group(1)) <= 60


@pytest.mark.parametrize("fault", ["usage-lots", "usage-abc", "usage-1e400", "usage-negative"])
def test_an_answer_with_unusable_token_counts_is_kept_and_counted_as_zero(
    fake: FakeOpenAI, tmp_path: Path, fault: str
) -> None:
    settings = settings_for(fake, tmp_path, max_attempts=3)
    with Extractor(settings) as extractor:
        record = extractor.extract(f"{TEXT} [[fault:{fault}]]")
    assert fake.requests[fault] == 1  # not retried
    assert len(record.events) == 1
    assert record.usage is not None and record.usage.model_calls == 1
    assert (record.usage.prompt_tokens, record.usage.completion_tokens) == (0, 0)
    assert ArticleEvents.model_validate(record.model_dump())  # a valid record, no negative count
    ((error, response, tokens),) = logged(settings.cache_dir)
    assert error is None and response is not None and tokens == 0
