"""What a model answers can never crash the service, and a bad answer is never cached.

The endpoint is `tests.fake_openai`, a fault-injection double that returns
scripted answers; no model runs here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import service.extractor as extractor_module
from service import EndpointError, Extractor, ModelOutputError, Settings
from service.infra.transport import MAX_ANSWER_BYTES
from tests.fake_openai import FLOOD_BYTES, FakeOpenAI

ATTACK = "Gunmen attacked the village of Tora on Tuesday, killing three people, police said."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def settings(fake: FakeOpenAI, tmp_path: Path) -> Settings:
    return Settings(
        base_url=f"{fake.url}/v1",
        model="fake",
        backend="llamacpp",
        timeout=5,
        max_attempts=2,
        max_reasks=1,
        cache_dir=tmp_path / "cache",
    )


def test_a_negative_count_is_a_typed_error_and_a_rerun_asks_again(
    fake: FakeOpenAI, settings: Settings
) -> None:
    text = f"{ATTACK} [[fault:negative]]"
    with Extractor(settings) as extractor:
        for run in (1, 2):
            with pytest.raises(ModelOutputError, match="did not fit the schema"):
                extractor.extract(text)
            assert fake.requests["negative"] == run * (1 + settings.max_reasks)  # not cached


def test_a_year_one_publication_date_is_no_date_and_no_crash(
    fake: FakeOpenAI, settings: Settings
) -> None:
    text = f"Published: 0001-01-01\n{ATTACK} [[fault:dated]]"
    with Extractor(settings) as extractor:
        record = extractor.extract(text)
        caller = extractor.extract(text, published=dt.date(1, 1, 1))
    assert record.published is None
    assert [e.date.text for e in record.events] == ["on Tuesday"]
    assert record.events[0].date.value is None  # nothing to anchor the weekday to
    assert caller.events[0].date.value is None  # a caller's year 1 cannot overflow either


def test_an_answer_that_cannot_become_a_record_is_typed_and_never_cached(
    fake: FakeOpenAI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net under every record check: whatever escapes them is the model's error."""

    def overflow(*args: object) -> None:
        raise OverflowError("date value out of range")

    with Extractor(settings) as extractor:
        with monkeypatch.context() as patched:
            patched.setattr(extractor_module, "build_event", overflow)
            with pytest.raises(ModelOutputError, match="cannot become a record"):
                extractor.extract(ATTACK)
        record = extractor.extract(ATTACK)  # the same article, now buildable
    assert record.usage is not None and not record.usage.cached
    assert fake.requests["ok"] == 2  # the bad answer was not stored


def test_attacks_without_stated_details_are_not_merged_away(settings: Settings) -> None:
    text = (
        "Gunmen killed forty people in the market. Gunmen killed forty-one people at the "
        "mosque. [[fault:twins]]"
    )
    with Extractor(settings) as extractor:
        record = extractor.extract(text)
    assert [e.deaths.best for e in record.events] == [40, 41]


def test_an_absurd_figure_and_a_future_date_become_null_with_warnings(settings: Settings) -> None:
    with Extractor(settings) as extractor:
        huge = extractor.extract(f"{ATTACK} [[fault:huge]]")
        future = extractor.extract(f"{ATTACK} [[fault:future]]")
    assert huge.events[0].deaths.best is None
    assert any(w.startswith("killed=1000000000000 is not stated") for w in huge.warnings)
    assert (future.events[0].date.text, future.events[0].date.value) == ("January 1, 2099", None)
    assert any("2099-01-01" in w for w in future.warnings)


def test_an_answer_over_the_size_cap_is_refused_while_it_streams(
    fake: FakeOpenAI, settings: Settings
) -> None:
    """A 100 MB answer: refused once MAX_ANSWER_BYTES are read (decoded), and not retried."""
    cap_mb = MAX_ANSWER_BYTES // 2**20
    refused = rf"^model endpoint sent an answer over {cap_mb} MB, refused while it was read$"
    with Extractor(settings) as extractor, pytest.raises(EndpointError, match=refused):
        extractor.extract(f"{ATTACK} [[fault:flood]]")
    assert fake.requests["flood"] == 1
    assert MAX_ANSWER_BYTES < fake.flooded < FLOOD_BYTES // 2  # the rest was never read


def test_a_compressed_answer_is_capped_by_its_size_unpacked(
    fake: FakeOpenAI, settings: Settings
) -> None:
    """About 100 KB of gzip that would unpack to 100 MB in memory."""
    cap_mb = MAX_ANSWER_BYTES // 2**20
    with Extractor(settings) as extractor, pytest.raises(EndpointError, match=f"over {cap_mb} MB"):
        extractor.extract(f"{ATTACK} [[fault:bomb]]")
    assert fake.requests["bomb"] == 1
