"""Cross-article linking on hand-made records and on the seed gold records. No model."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evals.links import load_link_gold, main, score_links
from schemas.events import ArticleEvents, Deaths, Event, EventDate, Evidence, Location
from schemas.linked import LinkedEvent
from schemas.vocab import DatePrecision, Prominence, SubEventType
from service.client import Client
from service.errors import ServiceError
from service.front.http.app import create_app
from service.link import LinkInputError, link_records, parse_records
from service.link.export import ACLED_COLUMNS, write_acled_csv
from service.link.report import render_html
from tests.conftest import ROOT
from tests.test_http import dead_endpoint, serving

DAY = dt.date(2024, 3, 5)


def event(quote: str, **fields: Any) -> Event:
    """An event with one located evidence quote; type, place, date given by keyword."""
    sub = fields.pop("sub", SubEventType.AIR_DRONE_STRIKE)
    location = Location(place=fields.pop("place", None), country=fields.pop("country", "Iraq"))
    day = fields.pop("day", None)
    date = EventDate(text="on Tuesday", value=day, precision=DatePrecision.DAY) if day else None
    return Event(
        event_type=sub.event_type,
        sub_event_type=sub,
        location=location,
        date=fields.pop("date", date or EventDate()),
        evidence=[Evidence(quote=quote, start=0, end=len(quote))],
        grounded=True,
        **fields,
    )


def record(id: str | None, *events: Event, published: dt.date | None = None) -> ArticleEvents:
    return ArticleEvents(id=id, published=published, events=list(events))


def linked(*records: ArticleEvents) -> list[LinkedEvent]:
    return link_records(records).events


def articles_of(events: list[LinkedEvent]) -> list[list[str]]:
    return sorted(e.articles for e in events)


def test_the_same_strike_reported_twice_is_one_event_with_both_sources() -> None:
    a = event(
        "A US drone strike killed three militants in Mosul on Tuesday, police said",
        attacker="US forces",
        place="Mosul",
        day=DAY,
        deaths=Deaths(best=3, low=3, high=3),
        reported_by="police",
    )
    b = event(
        "An American airstrike on Tuesday killed four people in Mosul, medics said",
        attacker="United States",
        place="Mosul",
        day=DAY,
        deaths=Deaths(best=4, low=4, high=4),
        reported_by="medics",
    )
    (one,) = linked(record("a", a), record("b", b))
    assert one.articles == ["a", "b"]
    assert one.attacker == "United States"  # the alias table's canonical name
    assert [s.event.deaths.best for s in one.sources] == [3, 4]  # each source's own figure
    assert (one.deaths.best, one.deaths.low, one.deaths.high) == (3, 3, 4)
    assert [s.event.evidence[0].quote for s in one.sources] == [
        a.evidence[0].quote,
        b.evidence[0].quote,
    ]
    assert one.coordinates is not None and one.coordinates.geo_precision == 1
    assert len(one.links) == 1 and one.links[0].score >= 3.0


def test_two_strikes_on_the_same_day_in_different_countries_stay_apart() -> None:
    quote = "A US airstrike on Tuesday killed two militants, officials said"
    iraq = event(quote, attacker="United States", day=DAY, country="Iraq")
    syria = event(quote, attacker="United States", day=DAY, country="Syria")
    assert articles_of(linked(record("a", iraq), record("b", syria))) == [["a"], ["b"]]


def test_periods_that_do_not_overlap_stay_apart() -> None:
    quote = "A US airstrike killed three militants in Mosul"
    early = event(quote, attacker="United States", place="Mosul", day=DAY)
    late = event(quote, attacker="United States", place="Mosul", day=DAY + dt.timedelta(9))
    assert articles_of(linked(record("a", early), record("b", late))) == [["a"], ["b"]]


def test_a_background_mention_links_to_the_main_report_and_borrows_its_date() -> None:
    main = event(
        "A drone attack killed three US soldiers at Tower 22 in Jordan on Sunday",
        attacker="Kataib Hezbollah",
        target="US forces",
        place="Tower 22",
        country="Jordan",
        day=dt.date(2024, 1, 28),
        deaths=Deaths(best=3, low=3, high=3),
    )
    background = event(
        "the deaths of three U.S. soldiers killed in a drone strike on their base in Jordan",
        target="United States",
        country="Jordan",
        prominence=Prominence.BACKGROUND,
        deaths=Deaths(best=3, low=3, high=3),
    )
    other = event("Rockets hit a base in Syria", country="Syria", sub=SubEventType.SHELLING_MISSILE)
    events = linked(record("news", main), record("later", background, other))
    assert articles_of(events) == [["later"], ["later", "news"]]
    (joined,) = [e for e in events if len(e.sources) == 2]
    assert joined.prominence is Prominence.MAIN
    assert joined.date.value == dt.date(2024, 1, 28) and joined.date_from == "news"
    (borrowed,) = [s for s in joined.sources if s.article == "later"]
    assert borrowed.event.date.value is None  # the source's own record is unchanged
    assert borrowed.inferred_date is not None
    assert (borrowed.inferred_date.value, borrowed.inferred_date.from_article) == (
        dt.date(2024, 1, 28),
        "news",
    )


def test_two_events_of_one_article_are_never_merged_through_a_third_report() -> None:
    quote = "A US airstrike hit a militia base near Mosul, killing two"
    strike = {
        "attacker": "United States",
        "place": "Mosul",
        "deaths": Deaths(best=2, low=2, high=2),
    }
    first, second = event(quote, **strike), event(quote + " fighters", **strike)
    other = event(quote, **strike)
    events = linked(record("a", first, second), record("b", other))
    assert len(events) == 2
    assert all(len({s.article for s in e.sources}) == len(e.sources) for e in events)


def test_records_without_dates_or_countries_are_compared_not_blocked() -> None:
    quote = "Hezbollah's deadly strike in the Golan Heights that killed 12 children"
    a = event(quote, attacker="Hezbollah", place="Golan Heights", country=None)
    b = event(quote, attacker="Hezbollah", place="Golan Heights", country=None)
    assert articles_of(linked(record("a", a), record("b", b))) == [["a", "b"]]


def test_blocking_grows_linearly_with_the_input() -> None:
    """Strikes on distinct days in a few countries: comparisons per report stay flat."""

    def comparisons(n: int) -> int:
        records = [
            record(
                f"r{k}",
                event(
                    f"A strike killed {k % 7} people",
                    attacker="United States",
                    country=("Iraq", "Syria", "Yemen")[k % 3],
                    day=DAY + dt.timedelta(days=k // 3),
                ),
            )
            for k in range(n)
        ]
        return link_records(records).stats.comparisons

    small, large = comparisons(300), comparisons(1200)
    assert large < 4 * small * 1.2  # quadratic would be 16x
    assert large < 1200 * 3


def gold_jsonl() -> str:
    return "\n".join(
        json.dumps(r.model_dump(mode="json")) for r in load_link_gold().records.values()
    )


def test_the_seed_strike_and_killing_each_come_out_as_one_event_with_their_evidence() -> None:
    records, _ = parse_records(gold_jsonl(), "gold.jsonl")
    events = [e for e in link_records(records).events if len(e.sources) > 1]
    strike = next(e for e in events if e.location.place == "Musayib")
    assert strike.articles == ["000_7142a26cd5ceeaa4", "002_7170401a18cb68b4"]
    assert {(s.article, s.event_index) for s in strike.sources} == {
        ("000_7142a26cd5ceeaa4", 0),
        ("002_7170401a18cb68b4", 0),
    }
    killing = next(e for e in events if e.location.place == "al-Mashtal")
    assert killing.articles == ["003_2e80b37fffd6de0c", "004_e703eae0c918574b"]
    assert killing.date.value == dt.date(2024, 2, 7) and killing.date_from == "004_e703eae0c918574b"
    texts = {r.id: (ROOT / "seeds" / f"{r.id}.txt").read_text(encoding="utf-8") for r in records}
    for source in strike.sources + killing.sources:
        for ev in source.event.evidence:
            assert texts[source.article][ev.start : ev.end] == ev.quote


def test_the_linker_reproduces_the_seed_link_gold() -> None:
    gold = load_link_gold()
    report = score_links(gold.records, gold)
    assert report["pairwise"]["f1"] == 1.0 and report["bcubed"]["f1"] == 1.0
    assert len(gold.clusters) == 13  # 19 gold events, 6 cross-article links


def test_a_missing_report_costs_link_recall_not_precision() -> None:
    gold = load_link_gold()
    records = dict(gold.records)
    strike_article = records["002_7170401a18cb68b4"]
    records["002_7170401a18cb68b4"] = strike_article.model_copy(
        update={"events": strike_article.events[1:]}
    )
    report = score_links(records, gold)
    assert report["missed_links"] == [["000_7142a26cd5ceeaa4#0", "002_7170401a18cb68b4#0"]]
    assert report["pairwise"]["precision"] == 1.0
    assert report["pairwise"]["recall"] == pytest.approx(5 / 6)
    assert report["bcubed"]["recall"] < 1.0


def test_acled_csv_has_the_expected_columns_and_one_row_per_event() -> None:
    records, _ = parse_records(gold_jsonl(), "gold.jsonl")
    events = link_records(records).events
    out = io.StringIO()
    write_acled_csv(events, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == ACLED_COLUMNS
    assert len(rows) == len(events) == 13
    beirut = next(r for r in rows if r["location"] == "Beirut")
    assert beirut["fatalities"] == "1"  # the most conservative figure
    assert "1 killed, reported by Israel" in beirut["notes"]
    assert "3-4 killed, reported by Israel; Lebanese Health Ministry" in beirut["notes"]
    killing = next(r for r in rows if r["location"] == "al-Mashtal")
    assert (killing["event_date"], killing["time_precision"]) == ("2024-02-07", "1")
    assert killing["latitude"] and killing["geo_precision"] == "2"  # within Baghdad


def test_the_html_report_maps_placed_events_and_escapes_text() -> None:
    quote = "<script>alert(1)</script> A US strike hit Mosul"
    page = render_html(linked(record("a", event(quote, place="Mosul"))))
    assert "<circle" in page and "Mosul" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_bad_input_is_a_one_line_error_naming_the_line() -> None:
    good = json.dumps(record("a", event("x")).model_dump(mode="json"))
    with pytest.raises(LinkInputError, match=r"r\.jsonl line 2: not JSON"):
        parse_records(good + "\n{oops\n", "r.jsonl")
    with pytest.raises(
        LinkInputError, match=r"r\.jsonl line 1: not an ArticleEvents record: events"
    ):
        parse_records('{"events": [{"sub_event_type": "Picnic"}]}', "r.jsonl")
    with pytest.raises(LinkInputError, match="is empty"):
        parse_records("\n \n", "r.jsonl")
    with pytest.raises(LinkInputError, match="no events to link in 2 record"):
        link_records([record("a"), record("b")])
    with pytest.raises(LinkInputError, match="id 'a' is used twice"):
        link_records([record("a", event("x")), record("a", event("y"))])


def test_a_line_nested_thousands_deep_is_a_one_line_error_naming_it() -> None:
    """Not a RecursionError: the line is named, as any other line that is not JSON."""
    good = json.dumps(record("a", event("x")).model_dump(mode="json"))
    deep = '{"id": "b", "events": ' + "[" * 2000 + "]" * 2000 + "}"
    for text, line in ((f"{good}\n{deep}\n", 2), (f"{deep}\n{good}\n", 1)):
        with pytest.raises(LinkInputError, match=rf"r\.jsonl line {line}: not JSON \(nested too"):
            parse_records(text, "r.jsonl")


def test_batch_output_lines_are_read_and_failed_lines_counted() -> None:
    ok = {"id": "a", "ok": True, "record": record("a", event("x")).model_dump(mode="json")}
    failed = {"id": "b", "ok": False, "error": {"code": "endpoint_error", "message": "down"}}
    bare = record(None, event("y")).model_dump(mode="json")
    text = "\n".join(json.dumps(x) for x in (ok, failed, bare))
    records, skipped = parse_records(text, "out.jsonl")
    assert [r.id for r in records] == ["a", "out.jsonl:3"] and skipped == 1


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "link", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_cli_links_the_seeds_to_acled_csv_and_html(tmp_path: Path) -> None:
    out, html = tmp_path / "events.csv", tmp_path / "map.html"
    done = run_cli(
        "-", "-o", str(out), "--format", "acled-csv", "--html", str(html), stdin=gold_jsonl()
    )
    assert done.returncode == 0, done.stderr
    assert "19 reports in 5 records -> 13 events (6 from several articles" in done.stderr
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(ACLED_COLUMNS)
    assert "<svg" in html.read_text(encoding="utf-8")


def test_cli_bad_input_is_one_line_and_leaves_the_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    out.write_text("earlier run\n", encoding="utf-8")
    records = tmp_path / "records.jsonl"
    records.write_text('{"id": "a", "events": []}\nnot json\n', encoding="utf-8")
    done = run_cli(str(records), "-o", str(out))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: records.jsonl line 2: not JSON (Expecting value at column 1)"
    ]
    assert out.read_text(encoding="utf-8") == "earlier run\n"
    assert set(tmp_path.iterdir()) == {out, records}  # no temporary file left behind


def test_the_link_route_and_client_return_linked_events(tmp_path: Path) -> None:
    records = list(load_link_gold().records.values())
    with serving(create_app(dead_endpoint(tmp_path))) as url, Client(url) as client:
        answer = client.link(records)
        assert len(answer.events) == 13
        assert answer.stats["comparisons"] == link_records(records).stats.comparisons
        assert {tuple(e.articles) for e in answer.events if len(e.sources) > 1} == {
            ("000_7142a26cd5ceeaa4", "002_7170401a18cb68b4"),
            ("002_7170401a18cb68b4", "004_e703eae0c918574b"),
            ("003_2e80b37fffd6de0c", "004_e703eae0c918574b"),
        }
        with pytest.raises(ServiceError, match="HTTP 422 bad_records: no events to link"):
            client.link([record("a"), record("b")])


def test_evals_links_scores_batch_output_named_by_file(tmp_path: Path) -> None:
    lines = [
        {"id": f"{rid}.txt", "ok": True, "record": r.model_dump(mode="json") | {"id": f"{rid}.txt"}}
        for rid, r in load_link_gold().records.items()
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    done = CliRunner().invoke(main, [str(path)])
    assert done.exit_code == 0, done.output
    assert "pairwise  P 1.000  R 1.000  F1 1.000" in done.output


def test_a_country_written_as_the_place_is_no_place() -> None:
    """Small models often put the country in `place`: it must not count as a shared site."""
    quote = "A US airstrike hit a militia base"
    a = event(quote + " on Monday", attacker="United States", place="Iraq")
    b = event("Rockets struck a market on Friday", attacker="United States", place="Iraq")
    events = linked(record("a", a), record("b", b))
    assert [e.location.place for e in events] == [None, None]
    assert all(e.coordinates is None for e in events)
