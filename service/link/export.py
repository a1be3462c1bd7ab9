"""Linked events out: JSONL (the full records) or the CSV columns an ACLED user expects.

One CSV row per linked event. ACLED's own conventions where they apply: `time_precision`
1 = day, 2 = week, 3 = month (a date known only to the year gets no code, and the notes
say so); `fatalities` is the most conservative figure any source gives; `geo_precision`
1 = the named town, 2 = a place near or within it. Where ACLED writes 0 for "no report"
we leave the cell empty: "not stated" is never 0 in this project. The notes keep every
source's own figure side by side, with who gave it.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from schemas.events import Deaths, Event
from schemas.linked import LinkedEvent
from schemas.vocab import DatePrecision

ACLED_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "country",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
)
_TIME_PRECISION = {DatePrecision.DAY: 1, DatePrecision.WEEK: 2, DatePrecision.MONTH: 3}


def figure(deaths: Deaths) -> str:
    """'4 killed', 'at least 1 killed', '3-4 killed', 'no deaths', 'no figure'."""
    best, low, high = deaths.best, deaths.low, deaths.high
    if best is None:
        return "no figure"
    if high is None:
        return f"at least {low if low is not None else best} killed"
    if high == 0:
        return "no deaths"
    low = low if low is not None else best
    return f"{low} killed" if low == high else f"{low}-{high} killed"


def source_note(article: str, event: Event) -> str:
    """One source's own account: its figure, who gave it, and its first evidence quote."""
    said = f"{figure(event.deaths)}"
    if event.injured is not None:
        said += f", {event.injured} injured"
    said += (
        f", reported by {event.reported_by}" if event.reported_by else ", in the article's words"
    )
    quote = event.evidence[0].quote
    return f'[{article}] {said}: "{quote}"'


def acled_row(event: LinkedEvent) -> dict[str, Any]:
    date, coords = event.date, event.coordinates
    notes = [f"{len(event.sources)} report(s)."]
    if date.precision is DatePrecision.YEAR and date.value is not None:
        notes.append(f"Date known to the year only ({date.value.year}).")
    inferred = [s.article for s in event.sources if s.inferred_date is not None]
    if inferred:
        notes.append(f"Date from {event.date_from}, inferred for {', '.join(inferred)}.")
    notes += [source_note(s.article, s.event) for s in event.sources]
    return {
        "event_id_cnty": event.id,
        "event_date": date.value.isoformat() if date.value else "",
        "year": date.value.year if date.value else "",
        "time_precision": _TIME_PRECISION.get(date.precision, "") if date.precision else "",
        "event_type": event.event_type.value,
        "sub_event_type": event.sub_event_type.value,
        "actor1": event.attacker or "",
        "actor2": event.target or "",
        "country": event.location.country or "",
        "admin1": event.location.admin1 or "",
        "location": event.location.place or "",
        "latitude": f"{coords.latitude:.4f}" if coords else "",
        "longitude": f"{coords.longitude:.4f}" if coords else "",
        "geo_precision": coords.geo_precision if coords else "",
        "source": "; ".join(event.articles),
        "notes": " ".join(notes),
        "fatalities": "" if event.deaths.low is None else event.deaths.low,
    }


def write_acled_csv(events: Iterable[LinkedEvent], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=ACLED_COLUMNS)
    writer.writeheader()
    writer.writerows(acled_row(e) for e in events)


def write_jsonl(events: Iterable[LinkedEvent], out: IO[str]) -> None:
    for event in events:
        out.write(event.model_dump_json() + "\n")


WRITERS: dict[str, Callable[[Iterable[LinkedEvent], IO[str]], None]] = {
    "jsonl": write_jsonl,
    "acled-csv": write_acled_csv,
}


@contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """Write beside `path` and rename over it only when done: a failure leaves the old file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
