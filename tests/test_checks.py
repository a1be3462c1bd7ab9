"""Figures must be in the evidence and dates not in the future: `service.core.checks` on records."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import Deaths, Event, EventDate, EventType, Evidence, MatchKind, SubEventType
from service.core.checks import MAX_CASUALTIES, check_date, check_figures, stated_numbers

TEXT = (
    "Police said on Monday. Gunmen attacked the village of Tora, killing three people "
    "and wounding 1,200 others. No one was hurt in the second raid."
)


def event(quote: str, killed: int | None = None, injured: int | None = None) -> Event:
    start = TEXT.find(quote)
    evidence = (
        Evidence(quote=quote, start=start, end=start + len(quote))
        if start != -1
        else Evidence(quote=quote, match=MatchKind.MISSING, score=0.0)
    )
    deaths = Deaths() if killed is None else Deaths(best=killed, low=killed, high=killed)
    return Event(
        event_type=EventType.VIOLENCE_AGAINST_CIVILIANS,
        sub_event_type=SubEventType.ATTACK,
        deaths=deaths,
        injured=injured,
        evidence=[evidence],
        grounded=start != -1,
    )


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("killing three people", {3}),
        ("forty-one dead and 1,200 hurt", {41, 1200}),
        ("2.5 million displaced", {2_500_000}),
        ("one hundred and five", {105}),
    ],
)
def test_numbers_are_read_in_digits_and_words(text: str, numbers: set[int]) -> None:
    assert stated_numbers(text) == numbers


def test_figures_the_evidence_states_are_kept() -> None:
    checked, warnings = check_figures(event("killing three people", 3, 1200), TEXT)
    assert (checked.deaths.best, checked.injured, warnings) == (3, 1200, [])


def test_a_figure_the_evidence_does_not_state_becomes_null_with_a_warning() -> None:
    checked, warnings = check_figures(event("killing three people", 10**12, 7), TEXT)
    assert checked.deaths == Deaths() and checked.injured is None
    assert [w.split(" is ")[0] for w in warnings] == ["killed=1000000000000", "injured=7"]


def test_a_figure_in_a_made_up_quote_is_checked_against_that_quote() -> None:
    checked, _ = check_figures(event("Martians killed 999 people on the Moon", 999), TEXT)
    assert checked.deaths.best == 999  # stated by the quote; the event is flagged ungrounded
    over, warnings = check_figures(event(f"{MAX_CASUALTIES + 1} killed", MAX_CASUALTIES + 1), TEXT)
    assert over.deaths == Deaths() and warnings


def test_zero_needs_the_evidence_to_say_nobody() -> None:
    assert check_figures(event("No one was hurt in the second raid.", 0, 0), TEXT)[1] == []
    assert check_figures(event("killing three people", 3, 0), TEXT)[0].injured is None


def test_a_date_after_the_publication_or_today_is_unresolved() -> None:
    dated = event("killing three people").model_copy(
        update={
            "date": EventDate(text="January 1, 2099", value=dt.date(2099, 1, 1), precision="day")
        }
    )
    checked, warnings = check_date(dated, None, today=dt.date(2026, 11, 21))
    assert checked.date == EventDate(text="January 1, 2099")
    assert "after 2026-11-21, the current date" in warnings[0]
    checked, warnings = check_date(dated, dt.date(2024, 2, 8))
    assert checked.date.value is None and "the publication date" in warnings[0]
    past = dated.model_copy(
        update={"date": EventDate(text="Feb 7", value=dt.date(2024, 2, 7), precision="day")}
    )
    assert check_date(past, dt.date(2024, 2, 8)) == (past, [])
