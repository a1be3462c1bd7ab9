"""The gold annotations are well-formed and consistent with the seeds and the guidelines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from evals import load_gold, score_run
from schemas.events import ArticleEvents
from schemas.vocab import DatePrecision, MatchKind
from service.core.aliases import load_aliases
from service.core.names import normalise

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLD = ROOT / "evals" / "gold"
STEMS = sorted(p.stem for p in SEEDS.glob("*.txt"))
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def gold(stem: str) -> tuple[str, ArticleEvents]:
    text = (SEEDS / f"{stem}.txt").read_text(encoding="utf-8")
    record = ArticleEvents.model_validate_json((GOLD / f"{stem}.json").read_text(encoding="utf-8"))
    return text, record


def test_every_seed_has_exactly_one_gold_file() -> None:
    assert len(STEMS) == 5
    assert sorted(p.stem for p in GOLD.glob("*.json") if p.name != "links.json") == STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_gold_validates_and_describes_its_seed(stem: str) -> None:
    text, record = gold(stem)
    assert record.id == stem
    assert record.text_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert record.chars == len(text)
    assert record.events, "every seed reports at least one attack"
    assert all(h in text for h in record.headlines)


@pytest.mark.parametrize("stem", STEMS)
def test_every_evidence_offset_slices_to_its_quote(stem: str) -> None:
    text, record = gold(stem)
    for event in record.events:
        assert event.grounded
        for ev in event.evidence:
            assert ev.match is MatchKind.EXACT and ev.score == 100
            assert ev.start is not None and ev.end is not None
            assert text[ev.start : ev.end] == ev.quote


@pytest.mark.parametrize("stem", STEMS)
def test_dates_resolve_only_against_a_date_the_article_states(stem: str) -> None:
    text, record = gold(stem)
    assert (record.published is None) == (record.published_from is None)
    if record.published is not None:
        assert record.published_from == "text"
    for event in record.events:
        date = event.date
        if date.value is None:
            continue
        assert record.published is not None, "no stated reference date to resolve against"
        assert date.text and date.text in text
        assert date.value <= record.published
        named = [d for d in WEEKDAYS if d in date.text.lower()]
        if date.precision is DatePrecision.DAY and named:
            # the most recent such weekday on or before the reference date
            assert WEEKDAYS[date.value.weekday()] == named[0]
            assert (record.published - date.value).days < 7


@pytest.mark.parametrize("stem", STEMS)
def test_actor_and_place_names_are_canonical(stem: str) -> None:
    aliases = load_aliases()
    _, record = gold(stem)
    for event in record.events:
        loc = event.location
        for name in (event.attacker, event.target, loc.place, loc.admin1, loc.country):
            if name is not None:
                assert aliases.canonical(name) == normalise(name), f"{name!r} is an alias"


def test_gold_scores_perfectly_against_itself() -> None:
    loaded = load_gold(SEEDS, GOLD)
    report = score_run(loaded, {i: record for i, (_, record) in loaded.items()})
    assert (report["event_f1"], report["field_f1"], report["grounding_rate"]) == (1.0, 1.0, 1.0)
    assert report["event_detection"]["all"]["gold"] == 19


def test_load_gold_refuses_a_seed_that_changed(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    stem = STEMS[0]
    text, _ = gold(stem)
    (tmp_path / "seeds" / f"{stem}.txt").write_text(text + " ", encoding="utf-8")
    with pytest.raises(ValueError, match="text_sha256"):
        load_gold(tmp_path / "seeds", GOLD)
