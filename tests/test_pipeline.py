"""The staged pipeline's code-only stages: what the model is shown and what it may answer."""

from __future__ import annotations

import json

import httpx2
import pytest
from pydantic import ValidationError

from schemas.events import Deaths, Event, Evidence, Location
from schemas.vocab import Certainty, SubEventType
from service.backends import LLGuidanceTransport
from service.pipeline import adjacent
from service.pipeline.clean import visible_sentences, windows
from service.pipeline.derive import build_event, sub_event_type
from service.pipeline.fill import Filled, fill_model, numbers, phrases
from service.pipeline.places import gazetteer
from service.pipeline.types import Numbered
from service.records import merge_duplicates
from service.sentences import split_sentences

PAGE = (
    "Rebels Shell Border Town\n\n"
    "Smoke over the town of Qusayr on Monday. (Reuters)\n"
    "Smoke over the town of Qusayr on Monday. (Reuters)\n"
    "Menu\n"
    "Rebels shelled the Syrian town of Qusayr on Monday, killing two soldiers, the army said.\n"
    "The U.S. State Department condemned the attack. Gen. Smith said nobody else was hurt.\n"
)


def test_sentences_keep_exact_offsets_and_know_abbreviations() -> None:
    sentences = split_sentences(PAGE)
    assert all(PAGE[s.start : s.end] == s.text for s in sentences)
    texts = [s.text for s in sentences]
    assert "The U.S. State Department condemned the attack." in texts
    assert "Gen. Smith said nobody else was hurt." in texts
    # A leading space that pysbd drops does not shift the offsets.
    shifted = " " + PAGE
    assert all(shifted[s.start : s.end] == s.text for s in split_sentences(shifted))


def test_captions_repeats_and_menus_are_not_shown_but_offsets_still_index_the_page() -> None:
    shown = visible_sentences(PAGE)
    texts = [s.text for s in shown]
    assert texts[0] == "Rebels Shell Border Town"
    assert not any("(Reuters)" in t for t in texts)
    assert "Menu" not in texts
    assert [s.number for s in shown] == list(range(1, len(shown) + 1))
    assert all(PAGE[s.start : s.end] == s.text for s in shown)


def test_long_articles_are_read_in_windows_of_whole_sentences() -> None:
    shown = [Numbered(i + 1, i * 50, i * 50 + 40, "x" * 40) for i in range(10)]
    parts = windows(shown, 100)
    assert [len(p) for p in parts] == [2, 2, 2, 2, 2]
    assert [s for p in parts for s in p] == shown


def _event(text: str, start: int = 0) -> list[Numbered]:
    return [Numbered(1, start, start + len(text), text)]


def test_fields_may_only_be_phrases_of_the_events_own_sentences() -> None:
    sentence = "Rebels shelled the Syrian town of Qusayr, killing two U.S. soldiers."
    candidates = phrases(_event(sentence, start=100))
    texts = {p.text for p in candidates}
    assert {"Rebels", "Qusayr", "two U.S. soldiers", "the Syrian town of Qusayr"} <= texts
    assert "Qusayr," not in texts and "soldiers." not in texts  # punctuation trimmed
    assert all(sentence[p.start - 100 : p.end - 100] == p.text for p in candidates)
    model = fill_model(candidates, numbers(_event(sentence)))
    answer = {
        "attacker": "Rebels",
        "target": "two U.S. soldiers",
        "weapon": None,
        "type": "Shelling/artillery/missile attack",
        "place": "Qusayr",
        "when": None,
        "killed": 2,
        "injured": None,
        "victims": "two U.S. soldiers",
        "source": None,
        "certainty": "claimed",
        "main": True,
    }
    assert model.model_validate(answer)
    for field, invented in (("attacker", "Hamas"), ("killed", 10**12), ("place", "Homs")):
        with pytest.raises(ValidationError):
            model.model_validate({**answer, field: invented})


def test_counts_come_from_the_text_in_digits_or_words_and_years_are_not_counts() -> None:
    assert numbers(_event("In 2024 a blast killed three people and wounded 1,200.")) == [3, 1200]
    assert numbers(_event("Nobody was hurt in the attack.")) == [0]
    assert numbers(_event("The strike hit a depot.")) == []


@pytest.mark.parametrize(
    ("weapon", "chosen", "expected"),
    [
        ("a drone", SubEventType.ATTACK, SubEventType.AIR_DRONE_STRIKE),
        ("suicide car bomb", SubEventType.REMOTE_EXPLOSIVE, SubEventType.SUICIDE_BOMB),
        ("rockets", SubEventType.AIR_DRONE_STRIKE, SubEventType.SHELLING_MISSILE),
        ("rifles", SubEventType.ARMED_CLASH, SubEventType.ARMED_CLASH),  # no means named
        ("drones and rockets", SubEventType.ATTACK, SubEventType.ATTACK),  # two: keep the model's
        (None, SubEventType.GRENADE, SubEventType.GRENADE),
    ],
)
def test_the_weapon_phrase_decides_the_sub_event_type_when_it_names_one_means(
    weapon: str | None, chosen: SubEventType, expected: SubEventType
) -> None:
    assert sub_event_type(chosen, weapon) is expected


@pytest.mark.parametrize(
    ("place", "context", "article", "country"),
    [
        ("Baghdad", "", "", "Iraq"),
        ("Baghdad, Iraq", "", "", "Iraq"),
        ("Hillah", "", "", "Iraq"),  # geonames: "Al Ḩillah"
        ("san salvador", "", "", "El Salvador"),  # the longest name, not Brazil's Salvador
        (None, "US forces struck a base inside Syria.", "", "Syria"),
        (None, "US and Iraqi officials met.", "", None),  # nothing locates the event
        ("a base", "", "", None),
    ],
)
def test_country_comes_from_the_gazetteer_not_the_model(
    place: str | None, context: str, article: str, country: str | None
) -> None:
    assert gazetteer().country_of(place, context, article) == country


def test_a_derived_event_carries_exact_evidence_and_field_offsets() -> None:
    text = "Intro.\nRebels shelled Qusayr on Monday, killing two soldiers, the army said."
    [_, sentence] = split_sentences(text)
    event_sentences = [Numbered(2, sentence.start, sentence.end, sentence.text)]
    by_text = {p.text: p for p in phrases(event_sentences)}
    filled = Filled(
        spans={
            "attacker": by_text["Rebels"],
            "place": by_text["Qusayr"],
            "when": by_text["on Monday"],
            "source": by_text["the army"],
        },
        type=SubEventType.SHELLING_MISSILE,
        killed=2,
        injured=None,
        certainty=Certainty.CLAIMED,
        main=True,
    )
    event = build_event(filled, event_sentences, text, None)
    assert event.evidence[0].quote == sentence.text
    assert text[event.evidence[0].start : event.evidence[0].end] == sentence.text
    for field, value in (("attacker", "Rebels"), ("place", "Qusayr"), ("reported_by", "the army")):
        span = event.spans[field]
        assert text[span.start : span.end] == value
    assert event.date.text == "on Monday"
    assert event.location.country == "Syria"  # geonames: Al Quşayr
    assert event.deaths.best == 2


def test_llguidance_transport_sends_the_schema_as_a_compact_grammar() -> None:
    schema = {"type": "object", "properties": {"a": {"enum": [1, 2]}}}
    body = {
        "messages": [],
        "response_format": {"type": "json_schema", "json_schema": {"schema": schema}},
    }
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions", json=body)
    sent = json.loads(LLGuidanceTransport.rewrite(request).content)
    assert "response_format" not in sent
    assert sent["grammar"].startswith("%llguidance {}\nstart: %json ")
    grammar_schema = json.loads(sent["grammar"].split("%json ", 1)[1])
    assert grammar_schema["properties"] == schema["properties"]
    assert grammar_schema["x-guidance"] == LLGuidanceTransport.JSON_OPTIONS
    other = httpx2.Request("GET", "http://127.0.0.1/v1/models")
    assert LLGuidanceTransport.rewrite(other) is other


def _attack(start: int, **fields: object) -> Event:
    quote = "x" * 10
    return Event(
        event_type=SubEventType.AIR_DRONE_STRIKE.event_type,
        sub_event_type=SubEventType.AIR_DRONE_STRIKE,
        evidence=[Evidence(quote=quote, start=start, end=start + 10)],
        grounded=True,
        **fields,  # type: ignore[arg-type]
    )


def test_sentences_about_one_attack_merge_on_agreeing_fields_with_all_evidence() -> None:
    lede = _attack(0, attacker="US forces", location=Location(place="Jurf al-Sakhar"))
    detail = _attack(
        50, attacker="US", target="Kataib Hezbollah", location=Location(place="Jurf al-Sakhar")
    )
    [merged] = merge_duplicates([lede, detail])
    assert [e.start for e in merged.evidence] == [0, 50]
    assert merged.target == "Kataib Hezbollah"  # a gap filled from the later sentence


def test_shared_nulls_or_one_agreeing_field_never_merge_and_conflicts_keep_apart() -> None:
    bare = [_attack(0), _attack(50)]
    assert len(merge_duplicates(bare)) == 2
    one = [_attack(0, attacker="IS"), _attack(50, attacker="IS")]
    assert len(merge_duplicates(one)) == 2
    tolls = [
        _attack(
            0,
            attacker="IS",
            location=Location(place="Kabul"),
            deaths=Deaths(best=40, low=40, high=40),
        ),
        _attack(
            50,
            attacker="IS",
            location=Location(place="Kabul"),
            deaths=Deaths(best=3, low=3, high=3),
        ),
    ]
    assert len(merge_duplicates(tolls)) == 2
    places = [
        _attack(0, attacker="IS", target="police", location=Location(place="Kabul")),
        _attack(50, attacker="IS", target="police", location=Location(place="Herat")),
    ]
    assert len(merge_duplicates(places)) == 2


def test_adjacent_attack_sentences_are_read_together_in_runs_of_at_most_three() -> None:
    found = [Numbered(n, n * 10, n * 10 + 5, "x") for n in (2, 3, 4, 5, 9, 11, 12)]
    runs = [[s.number for s in group] for group in adjacent(found)]
    assert runs == [[2, 3, 4], [5], [9], [11, 12]]
