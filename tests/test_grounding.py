"""Evidence quotes are located in the article; offsets always slice to the stored quote."""

from __future__ import annotations

from schemas.vocab import MatchKind
from service.core.grounding import locate, sentence_spans
from tests.conftest import seed

TEXT = seed("004_e703eae0c918574b.txt")


def test_an_exact_quote_gets_its_offsets() -> None:
    quote = "The US conducted an airstrike Wednesday evening"
    ev = locate(quote, TEXT)
    assert ev.match is MatchKind.EXACT
    assert TEXT[ev.start : ev.end] == quote == ev.quote


def test_straight_quotes_for_curly_ones_still_match_and_keep_the_articles_text() -> None:
    ev = locate("The Kata'ib Hezbollah commander, whose name wasn't provided, was", TEXT)
    assert ev.match is MatchKind.FUZZY
    assert ev.quote == TEXT[ev.start : ev.end]
    assert ev.quote.startswith("The Kata’ib Hezbollah commander, whose name wasn’t provided")


def test_a_sentence_with_a_clause_dropped_maps_to_the_whole_sentence() -> None:
    shortened = (
        "The US military killed a commander of an Iran-backed militia in Iraq, as the Biden "
        "administration pressed ahead with its campaign to target those responsible for the "
        "killing of three US soldiers last month."
    )
    ev = locate(shortened, TEXT)
    assert ev.match is MatchKind.FUZZY and ev.score >= 85
    assert ev.quote.startswith("The US military killed a commander")
    assert ev.quote.endswith("three US soldiers last month.")
    assert "US Central Command said in statement" in ev.quote


def test_an_invented_quote_is_missing_without_offsets() -> None:
    ev = locate("Rebels shelled the town of Qusayr on Monday, killing two soldiers.", TEXT)
    assert (ev.match, ev.start, ev.end) == (MatchKind.MISSING, None, None)


def test_a_tiny_quote_is_not_trusted() -> None:
    assert locate("the US", TEXT).match is MatchKind.MISSING


def test_sentences_split_at_stops_and_line_breaks() -> None:
    text = "First one. Second one!\nThird line\nFourth."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "First one.",
        "Second one!",
        "Third line",
        "Fourth.",
    ]
