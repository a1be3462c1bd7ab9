"""One canonical record per cluster, each field by a stated rule (docs/linking.md).

Sources are ordered main reports first, then by article id, and that order breaks
every tie. Names are compared as alias-table canonical names and written as the
table writes them ("United States"), or as the first source spelled them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from schemas.events import Deaths, Event, EventDate, Location
from schemas.linked import Coordinates, InferredDate, LinkDecision, LinkedEvent, SourceReport
from schemas.vocab import Certainty, DatePrecision, Prominence
from service.core.aliases import canonical, display
from service.link import geo
from service.link.mentions import Mentions, is_unidentified, place_name

T = TypeVar("T")
_PRECISION_RANK = {
    DatePrecision.DAY: 0,
    DatePrecision.WEEK: 1,
    DatePrecision.MONTH: 2,
    DatePrecision.YEAR: 3,
}
_CERTAINTY_RANK = {Certainty.CONFIRMED: 0, Certainty.CLAIMED: 1, Certainty.UNCLEAR: 2}


def _vote(values: Sequence[T | None], key: Callable[[T], Hashable] = lambda v: v) -> T | None:
    """The value most sources give (nulls abstain); ties go to the earliest source."""
    counts: Counter[Hashable] = Counter()
    first: dict[Hashable, T] = {}
    for value in values:
        if value is not None:
            k = key(value)
            counts[k] += 1
            first.setdefault(k, value)
    if not counts:
        return None
    return first[max(counts, key=counts.__getitem__)]  # max keeps the first of equal counts


def _name(values: Sequence[str | None], *, actor: bool = False) -> str | None:
    """The canonical name most sources use, written as the alias table writes it."""
    named = [v for v in values if v and not (actor and is_unidentified(canonical(v)))]
    chosen = _vote(named or list(values), canonical)
    return None if chosen is None else display().get(canonical(chosen), chosen)


def _place(events: Sequence[Event]) -> str | None:
    """Most specific: a place whose name holds another's, then not a big city, then votes."""
    places = [p for p in (place_name(e.location) for e in events) if p]
    if not places:
        return None
    country = _name([e.location.country for e in events])
    counts = Counter(canonical(p) for p in places)

    def rank(place: str) -> tuple[int, int, int, int]:
        holds = sum(geo.words_within(o, place) for o in places if canonical(o) != canonical(place))
        big = geo.is_big_city(place, country)
        return (holds, not big, counts[canonical(place)], -places.index(place))

    best = max(places, key=rank)
    return display().get(canonical(best), best)


def _date(sources: Sequence[SourceReport]) -> tuple[EventDate, str | None]:
    """The finest resolved date (votes, then source order, break ties); else the first words."""
    ranked = [
        (_PRECISION_RANK[s.event.date.precision], s) for s in sources if s.event.date.precision
    ]
    if ranked:
        finest = min(rank for rank, _ in ranked)
        chosen = _vote([s for rank, s in ranked if rank == finest], lambda s: s.event.date.value)
    else:
        chosen = next((s for s in sources if s.event.date.text), None)
    if chosen is None:
        return EventDate(), None
    return chosen.event.date, chosen.article


def _deaths(events: Sequence[Event]) -> Deaths:
    """Across sources, as the guidelines do within one: lowest figure, highest, open if any is."""
    stated = [e.deaths for e in events if e.deaths.best is not None]
    if not stated:
        return Deaths()
    lows = [d.low if d.low is not None else d.best for d in stated]
    highs = [d.high for d in stated]
    low = min(x for x in lows if x is not None)
    high = None if any(h is None for h in highs) else max(h for h in highs if h is not None)
    return Deaths(best=low, low=low, high=high)


def _coordinates(location: Location) -> Coordinates | None:
    hit = geo.locate(location.place, location.country)
    if hit is None:
        return None
    return Coordinates(
        latitude=hit.town.latitude,
        longitude=hit.town.longitude,
        geo_precision=1 if hit.precision == 1 else 2,
        gazetteer_name=hit.town.name,
    )


def linked_event(
    m: Mentions, members: Sequence[int], edges: Sequence[tuple[int, int, float]]
) -> LinkedEvent:
    """The linked event of one cluster of mentions."""
    order = sorted(
        members,
        key=lambda k: (m.events[k].prominence is not Prominence.MAIN, m.refs[k].article, k),
    )
    sources = [
        SourceReport(
            article=m.refs[k].article,
            event_index=m.refs[k].index,
            published=m.published[k],
            event=m.events[k],
        )
        for k in order
    ]
    events = [s.event for s in sources]
    date, date_from = _date(sources)
    if date.value is not None and date.precision is not None and date_from is not None:
        inferred = InferredDate(value=date.value, precision=date.precision, from_article=date_from)
        for source in sources:
            if source.event.date.value is None:
                source.inferred_date = inferred
    sub = _vote([e.sub_event_type for e in events])
    assert sub is not None  # a cluster has at least one event
    location = Location(
        place=_place(events),
        admin1=_name([e.location.admin1 for e in events]),
        country=_name([e.location.country for e in events]),
    )
    injured = [e.injured for e in events if e.injured is not None]
    refs = sorted(str(m.refs[k]) for k in members)
    return LinkedEvent(
        id="ev-" + hashlib.sha1("\n".join(refs).encode()).hexdigest()[:12],
        event_type=sub.event_type,
        sub_event_type=sub,
        attacker=_name([e.attacker for e in events], actor=True),
        target=_name([e.target for e in events], actor=True),
        weapon=_name([e.weapon for e in events]),
        location=location,
        coordinates=_coordinates(location),
        date=date,
        date_from=date_from,
        deaths=_deaths(events),
        injured=min(injured) if injured else None,
        certainty=min((e.certainty for e in events), key=_CERTAINTY_RANK.__getitem__),
        prominence=Prominence.MAIN
        if any(e.prominence is Prominence.MAIN for e in events)
        else Prominence.BACKGROUND,
        sources=sources,
        links=[
            LinkDecision(a=str(m.refs[a]), b=str(m.refs[b]), score=round(s, 3)) for a, b, s in edges
        ],
    )
