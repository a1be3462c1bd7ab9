"""Every event of every record as one row of plain arrays, so pairs are scored in bulk.

A "mention" is one article's report of an event (record id, event index). What the
blocking and the score need is computed once per mention here: canonical names (the
alias table the evals also score by, `service.core.aliases`), the period the date allows,
the weekday a date names, the casualty range, and a TF-IDF vector of the evidence.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from schemas.events import ArticleEvents, Event, Location
from schemas.vocab import DatePrecision, EventType, Prominence, SubEventType
from service.core.aliases import canonical, spellings
from service.core.names import normalise
from service.link import geo

#: Event types that can describe one incident: a killing with no stated method is coded
#: "Attack" (Violence against civilians) by one article and "Air/drone strike" by another.
FAMILY: dict[EventType, int] = {
    EventType.EXPLOSIONS: 0,
    EventType.VIOLENCE_AGAINST_CIVILIANS: 0,
    EventType.BATTLES: 1,
}
_SUB_ID = {sub: number for number, sub in enumerate(SubEventType)}
#: An unresolved date of an article with a publication date: main news and anything
#: with date words ("days after") happened within this many days before publication,
#: a background mention with no date words within `BACKGROUND_DAYS` (older context
#: comes with a date: "In 2020").
RECENT_DAYS = 62
BACKGROUND_DAYS = 365
#: Periods start one day early, so reports one day apart (a night strike) still overlap.
SLACK_DAYS = 1
UNBOUNDED_LO, UNBOUNDED_HI = -(10**9), 10**9
OPEN_HIGH = 10**9  # deaths.high None: open-ended ("at least 16")
NULL = -1
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.I)
# fmt: off
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "by", "and", "or", "for", "with", "from",
    "as", "that", "this", "it", "its", "was", "were", "is", "are", "be", "been", "had", "has",
    "have", "he", "she", "they", "their", "his", "her", "which", "who", "said", "says", "told",
    "would", "could",
})
# fmt: on


@dataclass(frozen=True)
class Ref:
    article: str
    index: int

    def __str__(self) -> str:
        return f"{self.article}#{self.index}"


def is_unidentified(name: str) -> bool:
    """'Unidentified combatants', 'unknown gunmen': no actor named, so no evidence either way."""
    return name.startswith(("unidentified", "unknown", "unspecified"))


def place_name(location: Location) -> str | None:
    """The place below the country, if any: a model sometimes writes the country there."""
    place = location.place
    return None if not place or geo.country_code(place) is not None else place


class Names:
    """Canonical names as small ints, so equality is an array comparison."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.text: list[str] = []

    def id(self, value: str | None, *, actor: bool = False) -> int:
        if not value:
            return NULL
        key = canonical(value)
        if not key or (actor and is_unidentified(key)):
            return NULL
        if key not in self.ids:
            self.ids[key] = len(self.text)
            self.text.append(key)
        return self.ids[key]


def period(event: Event, published: dt.date | None) -> tuple[int, int]:
    """Days (proleptic ordinals) the event may fall on; unresolved dates widen, never block."""
    date = event.date
    if date.value is not None and date.precision is not None:
        end = _period_end(date.value, date.precision)
        return date.value.toordinal() - SLACK_DAYS, end.toordinal()
    if published is None:
        return UNBOUNDED_LO, UNBOUNDED_HI
    recent = event.prominence is Prominence.MAIN or bool(date.text)
    back = RECENT_DAYS if recent else BACKGROUND_DAYS
    return published.toordinal() - back, published.toordinal()


def _period_end(start: dt.date, precision: DatePrecision) -> dt.date:
    if precision is DatePrecision.WEEK:
        return start + dt.timedelta(days=6)
    if precision is DatePrecision.MONTH:
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if precision is DatePrecision.YEAR:
        return start.replace(month=12, day=31)
    return start


def weekday(event: Event) -> int:
    """0-6 for a day-precise date or an unresolved phrase naming one weekday, else NULL."""
    date = event.date
    if date.value is not None:
        return date.value.weekday() if date.precision is DatePrecision.DAY else NULL
    named = {m.lower() for m in _WEEKDAY.findall(date.text or "")}
    return _WEEKDAYS.index(named.pop()) if len(named) == 1 else NULL


def _tokens(event: Event) -> list[str]:
    text = " ".join([*(e.quote for e in event.evidence), event.victims or ""])
    return [t for t in normalise(text).split() if t not in _FUNCTION_WORDS and len(t) > 1]


def tfidf(docs: list[list[str]]) -> sparse.csr_matrix:
    """Rows of unit length: sublinear tf times smoothed idf, 1 + log((1 + N) / (1 + df)).

    Smoothed, as scikit-learn does, so a word two reports share still counts when only
    two records are linked (plain log(N / df) would give it 0).
    """
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for row, doc in enumerate(docs):
        for word, count in Counter(doc).items():
            rows.append(row)
            cols.append(vocab.setdefault(word, len(vocab)))
            vals.append(1.0 + math.log(count))
    shape = (len(docs), max(len(vocab), 1))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float64)
    df = np.bincount(matrix.indices, minlength=shape[1])
    idf = 1.0 + np.log((1 + len(docs)) / (1 + df))
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1 / np.where(norms > 0, norms, 1)) @ matrix)


@dataclass
class Mentions:
    """Column arrays, one entry per mention; `refs[i]` names mention i."""

    refs: list[Ref]
    events: list[Event]
    published: list[dt.date | None]
    names: Names
    article: np.ndarray
    family: np.ndarray
    sub: np.ndarray
    country: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    resolved_day: np.ndarray  # ordinal of a day-precise date, else NULL
    weekday: np.ndarray
    attacker: np.ndarray
    target: np.ndarray
    target_listed: np.ndarray  # the target is a canonical entry of the alias table
    place: np.ndarray
    place_big: np.ndarray
    main: np.ndarray
    published_day: np.ndarray  # ordinal of the record's publication date, else NULL
    weapon: np.ndarray
    d_low: np.ndarray
    d_best: np.ndarray
    d_high: np.ndarray
    lat: np.ndarray  # gazetteer coordinates of the place, NaN when it cannot be located
    lon: np.ndarray
    vectors: sparse.csr_matrix

    def __len__(self) -> int:
        return len(self.refs)


def build(records: list[ArticleEvents]) -> Mentions:
    """Mentions of every event of every record (records need distinct, non-empty ids)."""
    names = Names()
    listed = spellings().keys()
    refs, events, published, cols = [], [], [], defaultdict(list)
    coords: list[tuple[float, float]] = []
    for number, record in enumerate(records):
        for index, event in enumerate(record.events):
            refs.append(Ref(record.id or "", index))
            events.append(event)
            published.append(record.published)
            lo, hi = period(event, record.published)
            target = names.id(event.target, actor=True)
            place = names.id(place_name(event.location))
            deaths = event.deaths
            day = event.date.value if event.date.precision is DatePrecision.DAY else None
            hit = geo.locate(place_name(event.location), event.location.country)
            coords.append((hit.town.latitude, hit.town.longitude) if hit else (math.nan, math.nan))
            values = {
                "article": number,
                "family": FAMILY[event.event_type],
                "sub": _SUB_ID[event.sub_event_type],
                "country": names.id(event.location.country),
                "lo": lo,
                "hi": hi,
                "resolved_day": day.toordinal() if day else NULL,
                "weekday": weekday(event),
                "attacker": names.id(event.attacker, actor=True),
                "target": target,
                "target_listed": target != NULL and names.text[target] in listed,
                "place": place,
                "place_big": hit is not None
                and hit.precision == 1
                and hit.town.population >= geo.BIG_CITY,
                "main": event.prominence is Prominence.MAIN,
                "published_day": record.published.toordinal() if record.published else NULL,
                "weapon": names.id(event.weapon),
                "d_low": _figure(deaths.low if deaths.low is not None else deaths.best),
                "d_best": _figure(deaths.best),
                "d_high": _figure(deaths.high if deaths.high is not None else OPEN_HIGH)
                if deaths.best is not None
                else NULL,
            }
            for key, value in values.items():
                cols[key].append(value)
    arrays = {k: np.asarray(v, dtype=np.int64) for k, v in cols.items()}
    lat, lon = np.asarray(coords, dtype=np.float64).reshape(-1, 2).T
    return Mentions(
        refs=refs,
        events=events,
        published=published,
        names=names,
        lat=lat,
        lon=lon,
        vectors=tfidf([_tokens(e) for e in events]),
        **arrays,
    )


def _figure(value: int | None) -> int:
    return NULL if value is None else value
