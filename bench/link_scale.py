"""Linking at scale: records/second and comparisons made for 1k, 10k and 100k records.

    python bench/link_scale.py [--sizes 1000,10000,100000] [--per-day 50] [--undated 0.1]

The records are perturbed copies of the five gold seed records, as a news feed would
bring them. Each synthetic story is one seed record's events moved to a random day in a
random country, at a town of that country from the gazetteer or, 40% of the time, a
made-up village; half the stories keep the seed's actors, half get two of six made-up
armed groups of their country. A story is reported by one to four articles, each
published within two days of it, some with no publication date (`--undated`, like seeds
000-002), each dropping some background events, actor names, places and figures,
spelling actors by other aliases and moving casualty figures by one. Articles arrive at
`--per-day` a day, so 100k records span about 5.5 years.

Printed per size: records, reports (events), candidate pairs scored ("comparisons"),
comparisons per report, seconds, records per second, and pairwise link precision /
recall / F1 against the synthetic truth (which copies are one story event). Evidence
quotes are the seed's with the new place, its other capitalised words (names of people
and units) replaced by made-up names of the story, 30% of the words dropped per
source, and three more made-up names per story event: the details that set one event's
reports apart from another's, as they do in real reports. Near-linear
growth shows as flat comparisons per report. The 1-minute load average is printed too:
on a shared 2-core machine other jobs slow every figure but the comparisons. No figure
here is asserted by a test.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from itertools import combinations

import click

from evals.links import load_link_gold
from schemas.events import ArticleEvents, Deaths, Event, EventDate, Evidence, Location
from schemas.vocab import DatePrecision, Prominence
from service.core import geonames
from service.core.aliases import display, spellings
from service.core.dates import period_start
from service.link import link_records

COUNTRIES = {
    "IQ": "Iraq", "SY": "Syria", "LB": "Lebanon", "JO": "Jordan", "IR": "Iran", "YE": "Yemen",
    "AF": "Afghanistan", "PK": "Pakistan", "SO": "Somalia", "NG": "Nigeria", "ML": "Mali",
    "SD": "Sudan", "UA": "Ukraine", "MM": "Myanmar", "CD": "Democratic Republic of the Congo",
    "ET": "Ethiopia", "LY": "Libya", "BF": "Burkina Faso", "CO": "Colombia", "MX": "Mexico",
}  # fmt: skip
START = dt.date(2015, 1, 1)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def towns() -> dict[str, list[str]]:
    by_country: dict[str, list[str]] = {code: [] for code in COUNTRIES}
    for city in geonames.cities():
        if city["countrycode"] in by_country:
            by_country[city["countrycode"]].append(city["name"])
    return by_country


def name(rng: random.Random) -> str:
    """A made-up proper name: what tells one event's reports from another's (who, which unit)."""
    return "".join(rng.choice("bdfghklmnrstz") + rng.choice("aeiou") for _ in range(3)).title()


def alias(name: str | None, rng: random.Random) -> str | None:
    """Another spelling the alias table accepts for the same actor, sometimes none at all."""
    if name is None or rng.random() < 0.15:
        return None
    key = next((k for k, v in display().items() if v == name), None)
    return rng.choice(spellings()[key]) if key else name


def report(
    event: Event, story: dict, k: int, published: dt.date | None, rng: random.Random
) -> Event:
    """One article's report of the story's k-th event."""
    day, country, place = story["days"][k], story["countries"][k], story["places"][k]
    attacker, target = story["actors"][k]
    date = event.date
    if date.text or date.value:
        precision = date.precision or DatePrecision.DAY
        text = WEEKDAYS[day.weekday()] if precision is DatePrecision.DAY else date.text
        value = period_start(day, precision) if published else None
        date = EventDate(text=text, value=value, precision=precision if value else None)
    deaths = event.deaths
    if deaths.best and rng.random() < 0.3:
        best = max(0, deaths.best + rng.choice((-1, 1)))
        deaths = Deaths(best=best, low=best, high=None if deaths.high is None else best)
    old = event.location.place
    quotes = []
    for quote in (
        e.quote.replace(old, place) if old and place else e.quote for e in event.evidence
    ):
        names = story["names"][k]  # the story's own people and units, the same in every copy
        words = [
            names.setdefault(w, name(rng)) if n and w[:1].isupper() and w != place else w
            for n, w in enumerate(quote.split())
            if rng.random() > 0.3  # each source words it its own way
        ]
        quotes.append(" ".join([*words, *story["details"][k]]))
    return event.model_copy(
        update={
            "attacker": alias(attacker, rng),
            "target": alias(target, rng),
            "location": Location(place=place if rng.random() > 0.2 else None, country=country),
            "date": date,
            "deaths": deaths if rng.random() > 0.2 else Deaths(),
            "evidence": [Evidence(quote=q, start=0, end=len(q)) for q in quotes],
        }
    )


def synthetic(
    n: int, per_day: int, undated: float, seed: int
) -> tuple[list[ArticleEvents], dict[str, str]]:
    """n records and, for each report 'id#index', the id of the story event it reports."""
    rng = random.Random(seed)
    gold = list(load_link_gold().records.values())
    places = towns()
    groups = {code: [f"{name(rng)} Brigades" for _ in range(6)] for code in COUNTRIES}
    records: list[ArticleEvents] = []
    truth: dict[str, str] = {}
    number = 0
    while len(records) < n:
        source = rng.choice(gold)
        day = START + dt.timedelta(days=len(records) // per_day)
        code = rng.choice(list(COUNTRIES))
        story: dict[str, list] = {
            "days": [],
            "countries": [],
            "places": [],
            "details": [],
            "names": [],
            "actors": [],
        }
        for e in source.events:
            main = e.prominence is Prominence.MAIN
            story["days"].append(day - dt.timedelta(days=0 if main else rng.randint(2, 400)))
            story["countries"].append(COUNTRIES[code] if e.location.country else None)
            town = rng.choice(places[code]) if rng.random() < 0.6 else f"{name(rng)} village"
            story["places"].append(town if e.location.place else None)
            story["details"].append([name(rng) for _ in range(3)])
            story["names"].append({})
            local = rng.random() < 0.5  # half the stories are about local armed groups
            story["actors"].append(
                tuple(
                    rng.choice(groups[code]) if local and a else a for a in (e.attacker, e.target)
                )
            )
        for copy in range(rng.randint(1, 4)):
            published = None if rng.random() < undated else day + dt.timedelta(rng.randint(0, 2))
            rid = f"s{number}-{copy}"
            events = []
            for k, e in enumerate(source.events):
                if e.prominence is Prominence.BACKGROUND and rng.random() < 0.3:
                    continue
                truth[f"{rid}#{len(events)}"] = f"s{number}/{k}"
                events.append(report(e, story, k, published, rng))
            records.append(ArticleEvents(id=rid, published=published, events=events))
        number += 1
    records = records[:n]
    kept = {r.id for r in records}
    return records, {m: t for m, t in truth.items() if m.split("#")[0] in kept}


def pairwise(clusters: list[list[str]], truth: dict[str, str]) -> tuple[float, float, float]:
    predicted = {frozenset(p) for c in clusters for p in combinations(c, 2)}
    by_event: dict[str, list[str]] = {}
    for mention, event in truth.items():
        by_event.setdefault(event, []).append(mention)
    gold = {frozenset(p) for c in by_event.values() for p in combinations(c, 2)}
    right = len(predicted & gold)
    p = right / len(predicted) if predicted else 1.0
    r = right / len(gold) if gold else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


@click.command()
@click.option("--sizes", default="1000,10000,100000", show_default=True)
@click.option("--per-day", default=50, show_default=True, help="Articles a day in the feed.")
@click.option("--undated", default=0.1, show_default=True, help="Share with no publication date.")
@click.option("--seed", default=0, show_default=True)
def main(sizes: str, per_day: int, undated: float, seed: int) -> None:
    click.echo(
        f"{'records':>8} {'reports':>8} {'comparisons':>12} {'per report':>10} {'seconds':>8} "
        f"{'records/s':>10} {'P':>6} {'R':>6} {'F1':>6} {'load':>5}"
    )
    for n in (int(s) for s in sizes.split(",")):
        records, truth = synthetic(n, per_day, undated, seed)
        started = time.perf_counter()
        result = link_records(records)
        seconds = time.perf_counter() - started
        clusters = [[f"{s.article}#{s.event_index}" for s in e.sources] for e in result.events]
        p, r, f1 = pairwise(clusters, truth)
        s = result.stats
        click.echo(
            f"{n:>8} {s.mentions:>8} {s.comparisons:>12} {s.comparisons / s.mentions:>10.2f} "
            f"{seconds:>8.1f} {n / seconds:>10.0f} {p:>6.3f} {r:>6.3f} {f1:>6.3f} "
            f"{os.getloadavg()[0]:>5.1f}"
        )


if __name__ == "__main__":
    main()
