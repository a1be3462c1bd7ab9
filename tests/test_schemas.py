"""The record schema refuses inconsistent records instead of passing them on."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from schemas import (
    ArticleDraft,
    Deaths,
    Event,
    EventDate,
    EventType,
    Evidence,
    MatchKind,
    SubEventType,
)
from service.core.records import build_event, deaths, merge_duplicates
from tests.conftest import seed

TEXT = seed("004_e703eae0c918574b.txt")
QUOTE = "The US conducted an airstrike Wednesday evening"


def _event(**changes: object) -> Event:
    start = TEXT.index(QUOTE)
    fields: dict[str, object] = {
        "event_type": EventType.EXPLOSIONS,
        "sub_event_type": SubEventType.AIR_DRONE_STRIKE,
        "evidence": [Evidence(quote=QUOTE, start=start, end=start + len(QUOTE))],
        "grounded": True,
    }
    return Event(**{**fields, **changes})


def test_every_sub_event_type_has_its_acled_parent() -> None:
    assert SubEventType.AIR_DRONE_STRIKE.event_type is EventType.EXPLOSIONS
    assert SubEventType.ARMED_CLASH.event_type is EventType.BATTLES
    assert SubEventType.ATTACK.event_type is EventType.VIOLENCE_AGAINST_CIVILIANS


def test_an_event_type_that_contradicts_its_sub_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="belongs to 'Explosions/Remote violence'"):
        _event(event_type=EventType.BATTLES)


def test_evidence_offsets_must_match_the_quote_length() -> None:
    with pytest.raises(ValidationError, match="end - start"):
        Evidence(quote="abc", start=0, end=5)


def test_missing_evidence_has_no_offsets_and_found_evidence_has_them() -> None:
    with pytest.raises(ValidationError, match="offsets"):
        Evidence(quote="abc", match=MatchKind.MISSING, start=0, end=3)
    with pytest.raises(ValidationError, match="offsets"):
        Evidence(quote="abc")


def test_grounded_must_tell_the_truth() -> None:
    with pytest.raises(ValidationError, match="grounded"):
        _event(grounded=False)


def test_an_event_needs_evidence() -> None:
    with pytest.raises(ValidationError, match="evidence"):
        _event(evidence=[])


def test_a_resolved_date_needs_a_precision() -> None:
    with pytest.raises(ValidationError, match="precision"):
        EventDate(text="Tuesday", value=dt.date(2024, 1, 2))


def test_deaths_are_ordered_low_best_high() -> None:
    with pytest.raises(ValidationError):
        Deaths(best=3, low=5)
    with pytest.raises(ValidationError):
        Deaths(best=-1)


def test_not_stated_is_none_and_open_ended_figures_have_no_high() -> None:
    assert deaths(None, "anything") == Deaths()
    assert deaths(0, "no casualties") == Deaths(best=0, low=0, high=0)
    assert deaths(16, "at least 16 people killed") == Deaths(best=16, low=16, high=None)


def test_a_draft_becomes_a_grounded_record_with_derived_fields() -> None:
    draft = ArticleDraft.model_validate(
        {
            "headlines": [],
            "events": [
                {
                    "quote": QUOTE,
                    "type": "Air/drone strike",
                    "attacker": "US",
                    "target": "N/A",
                    "place": None,
                    "country": "Iraq",
                    "when": "Wednesday evening",
                    "weapon": None,
                    "killed": 1,
                    "injured": None,
                    "source": "US Central Command",
                    "certainty": "confirmed",
                    "main": True,
                }
            ],
        }
    )
    event = build_event(draft.events[0], TEXT, dt.date(2024, 2, 8))
    assert event.event_type is EventType.EXPLOSIONS
    assert event.target is None  # "N/A" means not stated
    assert event.date.value == dt.date(2024, 2, 7)
    assert event.deaths == Deaths(best=1, low=1, high=1)
    assert event.prominence == "main" and event.grounded
    ev = event.evidence[0]
    assert TEXT[ev.start : ev.end] == ev.quote == QUOTE


def _at(quote: str) -> Evidence:
    start = TEXT.index(quote)
    return Evidence(quote=quote, start=start, end=start + len(quote))


WEDNESDAY = EventDate(text="Wednesday evening", value=dt.date(2024, 2, 7), precision="day")


def test_repeated_mentions_of_one_attack_merge_into_one_event_with_more_evidence() -> None:
    other = "The Kata’ib Hezbollah commander, whose name wasn’t provided"
    second = _event(evidence=[_at(other)], attacker="U.S.", date=WEDNESDAY, weapon="drone")
    merged = merge_duplicates([_event(attacker="US", date=WEDNESDAY), second])
    assert len(merged) == 1
    assert [e.quote for e in merged[0].evidence] == [QUOTE, other]
    assert merged[0].weapon == "drone"  # a later mention fills what the first left out


def test_the_same_evidence_sentence_is_one_event() -> None:
    """Overlapping chunks of a long article report one sentence twice."""
    first = _event(attacker="US")
    again = _event(evidence=[_at(QUOTE[4:])], target="Kataib Hezbollah")
    assert len(merge_duplicates([first, again])) == 1


def test_different_attacks_stay_apart() -> None:
    assert len(merge_duplicates([_event(attacker="US"), _event(attacker="Kataib Hezbollah")])) == 2


def test_shared_nulls_are_no_evidence_of_one_attack() -> None:
    """Two attacks the article gives no attacker, target, place or date for stay two."""
    quotes = ["The Kata’ib Hezbollah commander, whose name wasn’t provided", QUOTE]
    events = [
        _event(evidence=[_at(quotes[0])], deaths=Deaths(best=40, low=40, high=40)),
        _event(evidence=[_at(quotes[1])], deaths=Deaths(best=1, low=1, high=1)),
    ]
    merged = merge_duplicates(events)
    assert [e.deaths.best for e in merged] == [40, 1]


def test_many_attacks_without_details_are_all_kept() -> None:
    sentences = [s for s in TEXT.split("\n") if len(s) > 40][:12]
    events = [_event(evidence=[_at(s)], grounded=True) for s in sentences]
    assert len(merge_duplicates(events)) == len(sentences)


def test_one_agreeing_field_is_not_enough_and_a_different_toll_keeps_events_apart() -> None:
    other = _at("The Kata’ib Hezbollah commander, whose name wasn’t provided")
    assert (
        len(merge_duplicates([_event(attacker="US"), _event(attacker="US", evidence=[other])])) == 2
    )
    same_day = {"attacker": "US", "date": WEDNESDAY}
    tolls = [
        _event(**same_day, deaths=Deaths(best=40, low=40, high=40)),
        _event(**same_day, evidence=[other], deaths=Deaths(best=2, low=2, high=2)),
    ]
    assert len(merge_duplicates(tolls)) == 2


def test_the_draft_schema_is_small_and_bounded() -> None:
    schema = ArticleDraft.model_json_schema()
    assert schema["properties"]["events"]["maxItems"] == 8
    event = schema["$defs"]["EventDraft"]
    assert event["additionalProperties"] is False
    assert set(event["required"]) >= {"quote", "type", "attacker", "target", "killed", "main"}
    strings = [
        option
        for prop in event["properties"].values()
        for option in prop.get("anyOf", [prop])
        if option.get("type") == "string"
    ]
    assert len(strings) == 10 and all("maxLength" in s for s in strings)  # no runaway value
    assert schema["properties"]["headlines"]["items"]["maxLength"] == 1000
