"""A standalone HTML page of linked events: a plain SVG map and every source's evidence.

No tiles (there is no network): events with coordinates are dots on a longitude /
latitude grid fitted to them (one dot per location, sized by its fatalities, its
tooltip listing the events there); events the
gazetteer cannot place are listed below the map. Jinja2 autoescapes everything: the
quotes and names come from articles and from a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jinja2 import Environment

from schemas.linked import LinkedEvent
from service.link.export import figure

WIDTH, HEIGHT, PAD = 720, 420, 40

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Linked events</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; max-width: 1000px; }
svg { border: 1px solid #ccc; background: #f7f9fb; }
.dot { fill: #c0392b; fill-opacity: .6; stroke: #7b241c; }
.grid { stroke: #dde3ea; } .axis { font-size: 10px; fill: #778; }
.label { font-size: 11px; fill: #223; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
td, th { border-top: 1px solid #ddd; padding: 4px 6px; vertical-align: top; text-align: left; }
blockquote { margin: 2px 0 2px 1em; color: #444; font-style: italic; }
.multi { background: #fff8e6; }
</style></head><body>
<h1>Linked events</h1>
<p>{{ events|length }} events from {{ reports }} reports in {{ articles }} articles;
{{ multi }} events were reported by more than one article.</p>
<svg width="{{ width }}" height="{{ height }}" viewBox="0 0 {{ width }} {{ height }}"
 role="img" aria-label="Map of linked events by latitude and longitude">
{% for x, label in xticks %}<line class="grid" x1="{{ x }}" y1="{{ pad }}" x2="{{ x }}"
 y2="{{ height - pad }}"/><text class="axis" x="{{ x }}" y="{{ height - pad + 14 }}"
 text-anchor="middle">{{ label }}</text>{% endfor %}
{% for y, label in yticks %}<line class="grid" x1="{{ pad }}" y1="{{ y }}" x2="{{ width - pad }}"
 y2="{{ y }}"/><text class="axis" x="{{ pad - 4 }}" y="{{ y + 3 }}"
 text-anchor="end">{{ label }}</text>{% endfor %}
{% for p in points %}<circle class="dot" cx="{{ p.x }}" cy="{{ p.y }}" r="{{ p.r }}">
<title>{{ p.title }}</title></circle>
<text class="label" y="{{ p.y + 4 }}" {% if p.x > width * 0.6 %}x="{{ p.x - p.r - 2 }}"
 text-anchor="end"{% else %}x="{{ p.x + p.r + 2 }}"{% endif %}>{{ p.label }}</text>{% endfor %}
</svg>
{% if unplaced %}<p>Not on the map (no gazetteer match): {{ unplaced|join(", ") }}.</p>{% endif %}
<table><tr><th>date</th><th>event</th><th>where</th><th>deaths</th><th>sources</th></tr>
{% for e in events %}<tr class="{{ 'multi' if e.sources|length > 1 else '' }}" id="{{ e.id }}">
<td>{{ e.date.value or e.date.text or "?" }}{% if e.date.precision %}
 ({{ e.date.precision.value }}){% endif %}</td>
<td>{{ e.sub_event_type.value }}<br>{{ e.attacker or "?" }} &rarr; {{ e.target or "?" }}</td>
<td>{{ e.location.place or "" }} {{ e.location.country or "" }}</td>
<td>{{ fig(e.deaths) }}</td>
<td>{% for s in e.sources %}<div><b>{{ s.article }}</b> #{{ s.event_index }}
 ({{ s.event.prominence.value }}): {{ fig(s.event.deaths) }}{% if s.event.reported_by %},
 per {{ s.event.reported_by }}{% endif %}{% if s.inferred_date %}; date inferred from
 {{ s.inferred_date.from_article }}{% endif %}
{% for ev in s.event.evidence %}<blockquote>{{ ev.quote }}{% if ev.start is not none %}
 [{{ ev.start }}:{{ ev.end }}]{% endif %}</blockquote>{% endfor %}</div>{% endfor %}</td>
</tr>{% endfor %}</table></body></html>
"""


@dataclass(frozen=True)
class _Point:
    x: float
    y: float
    r: float
    label: str
    title: str


def _ticks(
    lo: float, hi: float, to_px: Callable[[float], float], suffix: tuple[str, str]
) -> list[tuple[float, str]]:
    """Whole-degree grid lines, about six of them."""
    step = max(1, math.ceil((hi - lo) / 6))
    values = range(math.ceil(lo), math.floor(hi) + 1, step)
    return [(to_px(v), f"{abs(v)}°{suffix[v < 0]}") for v in values]


def _points(
    placed: Sequence[LinkedEvent], x: Callable[[float], float], y: Callable[[float], float]
) -> list[_Point]:
    """One dot per location, sized by the events' fatalities; its title lists the events."""
    here: dict[tuple[float, float], list[LinkedEvent]] = {}
    for e in placed:
        assert e.coordinates is not None
        here.setdefault((e.coordinates.latitude, e.coordinates.longitude), []).append(e)
    points = []
    for (lat, lon), events in here.items():
        deaths = sum(e.deaths.best or 0 for e in events)
        names = sorted({e.location.place or "" for e in events})
        sources = len(events[0].sources)
        count = (
            f"{len(events)} events"
            if len(events) > 1
            else f"{sources} report" + "s" * (sources > 1)
        )
        lines = [
            f"{e.date.value or e.date.text or '?'} {e.sub_event_type.value}, "
            f"{e.location.place}: {figure(e.deaths)} ({len(e.sources)} reports)"
            for e in events
        ]
        points.append(
            _Point(
                x(lon),
                y(lat),
                round(4 + 2 * math.sqrt(deaths), 1),
                f"{names[0]} ({count})",
                "\n".join(lines),
            )
        )
    return points


def render_html(events: Sequence[LinkedEvent]) -> str:
    """The whole page as one string."""
    placed = [e for e in events if e.coordinates is not None]
    lats = [e.coordinates.latitude for e in placed if e.coordinates]
    lons = [e.coordinates.longitude for e in placed if e.coordinates]
    lat_lo, lat_hi = (min(lats) - 1, max(lats) + 1) if lats else (-60, 75)
    lon_lo, lon_hi = (min(lons) - 1, max(lons) + 1) if lons else (-180, 180)
    scale = min((WIDTH - 2 * PAD) / (lon_hi - lon_lo), (HEIGHT - 2 * PAD) / (lat_hi - lat_lo))
    # Same scale on both axes, the points centred.
    left = (WIDTH - (lon_hi - lon_lo) * scale) / 2
    top = (HEIGHT - (lat_hi - lat_lo) * scale) / 2

    def x(lon: float) -> float:
        return round(left + (lon - lon_lo) * scale, 1)

    def y(lat: float) -> float:
        return round(HEIGHT - top - (lat - lat_lo) * scale, 1)

    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        events=events,
        points=_points(placed, x, y),
        unplaced=sorted(
            {e.location.place or e.location.country or "?" for e in events if not e.coordinates}
        ),
        xticks=_ticks(lon_lo, lon_hi, x, ("E", "W")),
        yticks=_ticks(lat_lo, lat_hi, y, ("N", "S")),
        reports=sum(len(e.sources) for e in events),
        articles=len({s.article for e in events for s in e.sources}),
        multi=sum(1 for e in events if len(e.articles) > 1),
        width=WIDTH,
        height=HEIGHT,
        pad=PAD,
        fig=figure,
    )
