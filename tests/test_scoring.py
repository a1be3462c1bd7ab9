"""How the scorer counts, on a two-event article small enough to check by hand.

Gold has two events:
- STRIKE (main): US air strike on Kataib Hezbollah in Musayib, Tuesday 2024-02-06,
  two killed. 10 fields are stated: sub_event_type, attacker, target, victims, place,
  country, date, deaths, certainty, prominence.
- ROCKETS (background): rockets at Ain al-Asad Air Base, Thursday 2024-02-01, nobody hurt
  (deaths 0 and injured 0 are stated figures). 10 fields: sub_event_type, target, weapon,
  place, country, date, deaths, injured, certainty, prominence.
So a perfect prediction earns 20 credits out of 20 stated gold fields. (The date is one
fact: its resolved value, or its phrase when either side has none.)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from evals import compare_reports, score_article, score_run, write_reports
from evals.align import align
from evals.fields import casualty_credit, date_credit, name_credit, text_credit
from schemas.events import ArticleEvents, Deaths, Event, EventDate, Evidence, Location
from schemas.vocab import DatePrecision, MatchKind, SubEventType
from service.core.aliases import AliasTable, load_aliases

TEXT = (
    "US forces struck a Kataib Hezbollah depot in Musayib on Tuesday, killing two fighters. "
    "Two rockets hit Ain al-Asad Air Base on Thursday; nobody was hurt."
)
STRIKE_QUOTE = (
    "US forces struck a Kataib Hezbollah depot in Musayib on Tuesday, killing two fighters."
)
ROCKETS_QUOTE = "Two rockets hit Ain al-Asad Air Base on Thursday; nobody was hurt."
ALIASES = load_aliases()


def quote(text: str) -> Evidence:
    start = TEXT.index(text)
    return Evidence(quote=text, start=start, end=start + len(text))


def event(sub: SubEventType, evidence: list[Evidence] | None = None, **fields: Any) -> Event:
    evidence = evidence or [quote(STRIKE_QUOTE)]
    grounded = any(e.match is not MatchKind.MISSING for e in evidence)
    return Event(
        event_type=sub.event_type,
        sub_event_type=sub,
        evidence=evidence,
        grounded=grounded,
        **fields,
    )


def day(iso: str, text: str) -> EventDate:
    return EventDate(text=text, value=dt.date.fromisoformat(iso), precision=DatePrecision.DAY)


STRIKE = event(
    SubEventType.AIR_DRONE_STRIKE,
    attacker="United States",
    target="Kataib Hezbollah",
    victims="two fighters",
    location=Location(place="Musayib", country="Iraq"),
    date=day("2024-02-06", "on Tuesday"),
    deaths=Deaths(best=2, low=2, high=2),
    certainty="confirmed",
    prominence="main",
)
ROCKETS = event(
    SubEventType.SHELLING_MISSILE,
    [quote(ROCKETS_QUOTE)],
    target="United States",
    weapon="rockets",
    location=Location(place="Ain al-Asad Air Base", country="Iraq"),
    date=day("2024-02-01", "on Thursday"),
    deaths=Deaths(best=0, low=0, high=0),
    injured=0,
    certainty="confirmed",
    prominence="background",
)
GOLD = ArticleEvents(id="a1", events=[STRIKE, ROCKETS])


def predicted(*events: Event) -> ArticleEvents:
    return ArticleEvents(id="a1", events=list(events))


def run(*events: Event) -> dict[str, Any]:
    return score_run({"a1": (TEXT, GOLD)}, {"a1": predicted(*events)})


# --- whole-run numbers ------------------------------------------------------------


def test_identical_output_scores_one_everywhere() -> None:
    report = run(STRIKE, ROCKETS)
    assert report["event_f1"] == 1.0
    assert report["field_f1"] == 1.0
    assert report["event_detection"]["main"]["f1"] == 1.0
    assert report["field_micro"] == {
        "credit": 20.0,
        "pred": 20,
        "gold": 20,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
    }
    assert report["all_fields_right"] == {"share": 1.0, "events": 2, "matched": 2}
    assert report["grounding_rate"] == 1.0


def test_a_missing_event_costs_recall_only() -> None:
    report = run(STRIKE)
    assert report["event_detection"]["all"] == {
        "matched": 1,
        "pred": 1,
        "gold": 2,
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
    }
    # The 10 stated fields of the missed ROCKETS event count against recall.
    assert report["field_micro"]["credit"] == 10.0
    assert report["field_micro"]["gold"] == 20
    assert report["field_f1"] == pytest.approx(2 / 3)
    # The main event was found, so main-event detection is perfect.
    assert report["event_detection"]["main"]["f1"] == 1.0


def test_an_extra_event_costs_precision_only() -> None:
    extra = event(
        SubEventType.GRENADE,
        attacker="Hamas",
        location=Location(place="Gaza", country="Palestine"),
        date=EventDate(text="on Monday"),
        certainty="claimed",
        prominence="background",
    )
    report = run(STRIKE, ROCKETS, extra)
    assert report["event_detection"]["all"]["precision"] == pytest.approx(2 / 3)
    assert report["event_detection"]["all"]["recall"] == 1.0
    assert report["event_f1"] == pytest.approx(0.8)
    # extra states 7 fields (sub-type, attacker, place, country, date words, certainty,
    # prominence): 20 credits over 27 predicted values, 20 gold values.
    assert report["field_micro"]["pred"] == 27
    assert report["field_micro"]["precision"] == pytest.approx(20 / 27)
    assert report["field_micro"]["recall"] == 1.0
    assert report["field_f1"] == pytest.approx(40 / 47)
    assert report["articles"]["a1"]["unmatched_pred"] == [2]


def test_swapped_attacker_and_target_still_matches_but_loses_both_fields() -> None:
    swapped = STRIKE.model_copy(update={"attacker": "Kataib Hezbollah", "target": "US forces"})
    report = run(swapped, ROCKETS)
    pair = report["articles"]["a1"]["pairs"][0]
    # sub-type, date and place agree, the attacker does not: similarity 3 / 4.
    assert pair["similarity"] == 0.75
    assert report["event_f1"] == 1.0
    assert pair["credits"]["attacker"] == 0.0
    assert pair["credits"]["target"] == 0.0
    assert report["fields"]["attacker"]["f1"] == 0.0
    assert report["fields"]["target"]["f1"] == pytest.approx(0.5)  # ROCKETS' target is right
    assert report["field_f1"] == pytest.approx(18 / 20)
    assert report["all_fields_right"] == {"share": 0.5, "events": 1, "matched": 2}


def test_a_date_one_day_off_earns_half_credit() -> None:
    off = STRIKE.model_copy(update={"date": day("2024-02-05", "on Tuesday")})
    report = run(off, ROCKETS)
    assert report["articles"]["a1"]["pairs"][0]["credits"]["date"] == 0.5
    assert report["fields"]["date"]["f1"] == 0.75
    assert report["field_f1"] == pytest.approx(19.5 / 20)


def test_null_casualties_against_a_stated_zero_is_an_error_not_a_match() -> None:
    unstated = ROCKETS.model_copy(update={"deaths": Deaths(), "injured": None})
    report = run(STRIKE, unstated)
    # Gold says nobody died or was hurt (0): leaving it empty loses recall.
    assert report["fields"]["deaths"] == {
        "credit": 1.0,
        "pred": 1,
        "gold": 2,
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
    }
    assert report["fields"]["injured"]["recall"] == 0.0
    assert report["field_micro"]["precision"] == 1.0
    assert report["field_micro"]["recall"] == pytest.approx(18 / 20)


def test_a_zero_where_the_article_states_no_figure_costs_precision() -> None:
    invented = STRIKE.model_copy(update={"injured": 0})
    report = run(invented, ROCKETS)
    # STRIKE's injured is not stated; predicting 0 is a claim gold does not support.
    assert report["fields"]["injured"] == {
        "credit": 1.0,
        "pred": 2,
        "gold": 1,
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
    }


def test_null_against_null_is_neither_credit_nor_penalty() -> None:
    report = run(STRIKE, ROCKETS)
    # Neither side states STRIKE's injured count: it is absent from both denominators.
    assert report["fields"]["injured"]["gold"] == 1
    assert report["fields"]["injured"]["pred"] == 1
    assert report["articles"]["a1"]["pairs"][0]["credits"]["injured"] is None
    # admin1 is never stated: nothing to find and nothing claimed, so no score at all.
    assert report["fields"]["admin1"]["f1"] is None
    assert report["fields"]["admin1"]["pred"] == report["fields"]["admin1"]["gold"] == 0


def test_an_empty_prediction_scores_zero() -> None:
    report = run()
    assert report["event_f1"] == 0.0
    assert report["field_f1"] == 0.0
    assert report["event_detection"]["all"]["precision"] == 0.0
    assert report["all_fields_right"]["share"] is None  # no matched event to judge
    assert report["grounding_rate"] is None  # no quote to check


def test_an_article_without_a_prediction_counts_as_empty_and_is_listed() -> None:
    report = score_run({"a1": (TEXT, GOLD)}, {})
    assert report["missing_predictions"] == ["a1"]
    assert report["event_f1"] == 0.0


def test_an_article_with_no_events_predicted_as_none_is_perfect() -> None:
    quiet = ArticleEvents(id="quiet")
    assert score_article(quiet, quiet, TEXT)["detection"]["all"] == {
        "matched": 0,
        "pred": 0,
        "gold": 0,
    }
    report = score_run({"quiet": (TEXT, quiet)}, {"quiet": quiet})
    assert (report["event_f1"], report["field_f1"]) == (1.0, 1.0)


def test_grounding_counts_only_quotes_that_slice_out_of_the_article() -> None:
    made_up = Evidence(quote="Rockets rained down.", match=MatchKind.MISSING)
    wrong_offsets = Evidence(quote=ROCKETS_QUOTE, start=0, end=len(ROCKETS_QUOTE))
    report = run(STRIKE, ROCKETS.model_copy(update={"evidence": [made_up, wrong_offsets]}))
    assert report["grounding"] == {"found": 1, "total": 3}
    assert report["grounding_rate"] == pytest.approx(1 / 3)


# --- alignment --------------------------------------------------------------------


def test_alignment_is_optimal_not_in_list_order() -> None:
    friday = ROCKETS.model_copy(
        update={
            "location": Location(place="Mission Support Site Euphrates", country="Syria"),
            "date": day("2024-02-02", "The following day"),
        }
    )
    result = align([ROCKETS, friday], [friday, ROCKETS], ALIASES)
    assert [(g, p) for g, p, _ in result.pairs] == [(0, 1), (1, 0)]


def test_pairs_below_the_threshold_stay_unmatched() -> None:
    other = event(
        SubEventType.GRENADE,
        attacker="Hamas",
        location=Location(place="Gaza"),
        date=day("2023-10-07", "on Oct. 7"),
    )
    result = align([STRIKE], [other], ALIASES)
    assert result.pairs == []
    assert result.unmatched_gold == [0]
    assert result.unmatched_pred == [0]


# --- field credit rules -----------------------------------------------------------


def test_actor_names_go_through_the_alias_table_then_fuzzy_ratio() -> None:
    assert name_credit("United States", "CENTCOM", ALIASES) == 1.0
    assert name_credit("United States", "U.S. forces", ALIASES) == 1.0
    assert name_credit("Kataib Hezbollah", "Kata\u2019ib Hezbollah", ALIASES) == 1.0
    assert name_credit("Kataib Hezbollah", "Kataib Hezbolah", ALIASES) == pytest.approx(30 / 31)
    assert name_credit("Kataib Hezbollah", "United States", ALIASES) == 0.0


def test_free_text_is_token_f1_without_function_words() -> None:
    assert text_credit("one-way drone", "drone", ALIASES) == 0.5
    assert text_credit("on Tuesday", "Tuesday", ALIASES) == 1.0
    assert text_credit("US Central Command", "CENTCOM", ALIASES) == 1.0


@pytest.mark.parametrize(
    ("value", "precision", "credit"),
    [
        ("2024-02-07", DatePrecision.DAY, 1.0),
        ("2024-02-08", DatePrecision.DAY, 0.5),  # one day off
        ("2024-02-09", DatePrecision.DAY, 0.0),
        ("2024-02-05", DatePrecision.WEEK, 0.5),  # coarser, contains the day
        ("2024-02-01", DatePrecision.MONTH, 0.5),
        ("2024-01-01", DatePrecision.MONTH, 0.0),  # coarser, wrong month
    ],
)
def test_date_credit_against_a_day(value: str, precision: DatePrecision, credit: float) -> None:
    gold = day("2024-02-07", "Wednesday evening")
    pred = EventDate(value=dt.date.fromisoformat(value), precision=precision)
    assert date_credit(gold, pred, ALIASES) == credit


def test_a_finer_date_inside_the_gold_period_is_exact_at_gold_precision() -> None:
    gold = EventDate(text="last month", value=dt.date(2024, 1, 1), precision=DatePrecision.MONTH)
    assert date_credit(gold, day("2024-01-28", "Sunday"), ALIASES) == 1.0


@pytest.mark.parametrize(
    ("gold", "pred", "credit"),
    [
        ((16, 16, None), 16, 1.0),  # "at least 16"
        ((16, 16, None), 20, 0.5),  # inside the open range
        ((16, 16, None), 12, 0.0),
        ((3, 3, 4), 4, 0.5),  # conflicting sources: 3 per one, 4 per another
        ((3, 3, 4), 5, 0.0),
        ((0, 0, 0), 0, 1.0),
    ],
)
def test_casualty_credit(gold: tuple[int, int, int | None], pred: int, credit: float) -> None:
    assert casualty_credit(*gold, pred) == credit


# --- reports ----------------------------------------------------------------------


def test_reports_are_written_as_json_markdown_and_escaped_html(tmp_path: Path) -> None:
    hostile = STRIKE.model_copy(update={"victims": "<script>alert(1)</script>"})
    report = run(hostile, ROCKETS)
    paths = write_reports(report, tmp_path)
    saved = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert saved["event_f1"] == 1.0
    assert {"field_f1", "fields", "articles", "predicted"} <= saved.keys()
    assert "| event F1, all events | 1.000 (P 1.000 / R 1.000) |" in paths["markdown"].read_text(
        encoding="utf-8"
    )
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Both quotes are gold and predicted evidence: highlighted in the "both" colour.
    assert '<mark class="gold pred" title="gold #0; pred #0">' in html
    shown = re.search(r'<div class="text">(.*?)</div>', html, re.S)
    assert shown and unescape(re.sub(r"<[^>]+>", "", shown.group(1))) == TEXT  # text intact


def test_an_alias_listed_under_two_names_is_refused() -> None:
    with pytest.raises(ValueError, match="two canonical names"):
        AliasTable({"United States": ["US"], "Hezbollah": ["U.S."]})


# --- comparing two runs -----------------------------------------------------------


def saved(report: dict[str, Any], where: Path) -> dict[str, Any]:
    """The report as `compare` gets it in CI: written to disk and read back."""
    return json.loads(write_reports(report, where)["json"].read_text(encoding="utf-8"))


def test_compare_flags_a_worse_run_as_a_regression(tmp_path: Path) -> None:
    base = saved(run(STRIKE, ROCKETS), tmp_path / "base")
    worse = saved(run(STRIKE), tmp_path / "worse")
    comparison = compare_reports(base, worse)
    assert comparison.regression
    assert comparison.headline["field_f1"].delta == pytest.approx(2 / 3 - 1)
    assert comparison.reasons == [
        "event_f1 got worse by 0.333 (more than 0.02)",
        "field_f1 got worse by 0.333 (more than 0.02)",
    ]
    [diff] = comparison.articles
    assert diff.lost == [report_label(base, 1)]
    assert diff.gained == []
    assert "# Eval comparison: REGRESSION" in comparison.markdown


def test_compare_finds_no_regression_against_the_same_report() -> None:
    report = run(STRIKE, ROCKETS)
    comparison = compare_reports(report, report)
    assert not comparison.regression
    assert comparison.headline["event_f1"].delta == 0.0
    date = comparison.fields["date_f1"]
    assert (date.ci_low, date.ci_high) == (0.0, 0.0)
    assert comparison.articles[0].changed == []


def test_compare_threshold_is_a_parameter() -> None:
    base = run(STRIKE, ROCKETS)
    off = run(STRIKE.model_copy(update={"date": day("2024-02-05", "on Tuesday")}), ROCKETS)
    # field_f1 drops by 0.5 / 20 = 0.025: beyond 0.02, within 0.05.
    assert compare_reports(base, off).regression
    assert not compare_reports(base, off, threshold=0.05).regression
    [change] = compare_reports(base, off).articles[0].changed
    assert (change.field, change.base, change.cand) == ("date", 1.0, 0.5)


def report_label(report: dict[str, Any], gold_index: int) -> str:
    return report["articles"]["a1"]["gold_labels"][gold_index]
