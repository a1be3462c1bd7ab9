"""Field credit rules: what one predicted value is worth against one gold value, in [0, 1].

Each scored field of an `Event` has a kind, and each kind has one rule:

- enum (sub_event_type, certainty, prominence): exact match.
- name (attacker, target, place, admin1, country): both names are mapped through the
  alias table (`service/core/aliases.json`, shared with linking); the same canonical name
  is full credit, otherwise the rapidfuzz token-sort ratio of the normalised names, kept
  only when >= `FUZZY_MIN` (a near-miss spelling, not a different actor).
- text (weapon, victims, reported_by): alias match, else token F1 after
  dropping function words.
- date: one fact, one field. Both resolved: exact at the gold precision (a finer
  prediction inside the gold period counts); 0.5 for one day off at day precision or for
  a coarser period that contains the gold date. Otherwise the phrases as written are
  compared as text ("on Tuesday" ~ "Tuesday").
- deaths: the predicted `best` equal to gold `best` is full credit; inside the gold
  low-high range (high None = open-ended) is `PARTIAL`.
- count (injured): exact.

A field "counts" on a side when its getter returns non-None: for dates a resolved value
or a phrase, for deaths a `best` figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from schemas.events import Deaths, Event, EventDate
from schemas.vocab import DatePrecision
from service.core.aliases import AliasTable
from service.core.dates import period_start
from service.core.names import normalise

PARTIAL = 0.5
FUZZY_MIN = 0.8

_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "in", "on", "at", "to", "by", "and", "for", "with", "from", "as"}
    | {"via", "told", "said", "says", "according"}
)


def enum_credit(gold: Any, pred: Any, aliases: AliasTable) -> float:
    return 1.0 if gold == pred else 0.0


def name_credit(gold: str, pred: str, aliases: AliasTable) -> float:
    g, p = aliases.canonical(gold), aliases.canonical(pred)
    if g == p:
        return 1.0
    ratio = fuzz.token_sort_ratio(g, p) / 100
    return ratio if ratio >= FUZZY_MIN else 0.0


def _tokens(value: str) -> Counter[str]:
    return Counter(t for t in normalise(value).split() if t not in _STOPWORDS)


def text_credit(gold: str, pred: str, aliases: AliasTable) -> float:
    if aliases.canonical(gold) == aliases.canonical(pred):
        return 1.0
    g, p = _tokens(gold), _tokens(pred)
    common = sum((g & p).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


_RANK = {DatePrecision.DAY: 0, DatePrecision.WEEK: 1, DatePrecision.MONTH: 2, DatePrecision.YEAR: 3}


def date_credit(gold: EventDate, pred: EventDate, aliases: AliasTable) -> float:
    """Resolved dates by value; otherwise the phrases by the text rule."""
    if not (gold.value and gold.precision and pred.value and pred.precision):
        if gold.text and pred.text:
            return text_credit(gold.text, pred.text, aliases)
        return 0.0
    if _RANK[pred.precision] <= _RANK[gold.precision]:
        if period_start(pred.value, gold.precision) == period_start(gold.value, gold.precision):
            return 1.0
        one_day_off = abs((pred.value - gold.value).days) == 1
        return PARTIAL if gold.precision is DatePrecision.DAY and one_day_off else 0.0
    contains = period_start(gold.value, pred.precision) == period_start(pred.value, pred.precision)
    return PARTIAL if contains else 0.0


def casualty_credit(best: int, low: int | None, high: int | None, pred: int) -> float:
    if pred == best:
        return 1.0
    inside = low is not None and low <= pred and (high is None or pred <= high)
    return PARTIAL if inside else 0.0


def deaths_credit(gold: Deaths, pred: Deaths, aliases: AliasTable) -> float:
    assert gold.best is not None and pred.best is not None
    return casualty_credit(gold.best, gold.low, gold.high, pred.best)


def _stated(date: EventDate) -> EventDate | None:
    return date if date.value is not None or date.text else None


def _with_best(deaths: Deaths) -> Deaths | None:
    return deaths if deaths.best is not None else None


@dataclass(frozen=True)
class FieldSpec:
    """One scored field: how to read it off an event and how to credit a prediction."""

    name: str
    get: Callable[[Event], Any]
    credit: Callable[[Any, Any, AliasTable], float]


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("sub_event_type", lambda e: e.sub_event_type, enum_credit),
    FieldSpec("attacker", lambda e: e.attacker, name_credit),
    FieldSpec("target", lambda e: e.target, name_credit),
    FieldSpec("weapon", lambda e: e.weapon, text_credit),
    FieldSpec("victims", lambda e: e.victims, text_credit),
    FieldSpec("place", lambda e: e.location.place, name_credit),
    FieldSpec("admin1", lambda e: e.location.admin1, name_credit),
    FieldSpec("country", lambda e: e.location.country, name_credit),
    FieldSpec("date", lambda e: _stated(e.date), date_credit),
    FieldSpec("deaths", lambda e: _with_best(e.deaths), deaths_credit),
    FieldSpec("injured", lambda e: e.injured, enum_credit),
    FieldSpec("reported_by", lambda e: e.reported_by, text_credit),
    FieldSpec("certainty", lambda e: e.certainty, enum_credit),
    FieldSpec("prominence", lambda e: e.prominence, enum_credit),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)


def stated_credit(
    gold: Any, pred: Any, credit: Callable[[Any, Any, AliasTable], float], aliases: AliasTable
) -> float | None:
    """The one null rule: None when neither side states a value, 0 when only one does.

    So an unstated value neither helps nor hurts, and a missed or invented one costs.
    """
    if gold is None and pred is None:
        return None
    if gold is None or pred is None:
        return 0.0
    return credit(gold, pred, aliases)


def field_credit(spec: FieldSpec, gold: Event, pred: Event, aliases: AliasTable) -> float | None:
    """Credit of one field of a matched pair; None when neither side states it."""
    return stated_credit(spec.get(gold), spec.get(pred), spec.credit, aliases)
