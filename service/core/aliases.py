"""The alias table (`aliases.json`, next to this module): every known spelling of a name.

One table serves linking and the evals, so an actor or place that matches in one matches
in the other: `AliasTable` maps any spelling to a normalised canonical key (the scorer
compares by it, the linker groups by it); linking also needs the other direction (every
spelling of a place, to look it up in a gazetteer) and the canonical name as written
("United States", not "united states") for output. It lives in the service, which needs
it at run time; the evals import it from here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from service.core.names import normalise

ALIASES_PATH = Path(__file__).with_name("aliases.json")


class AliasTable:
    """Maps every known spelling of an actor or place to its canonical name."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self._index: dict[str, str] = {}
        for canonical, aliases in table.items():
            key = normalise(canonical)
            for name in (canonical, *aliases):
                if self._index.setdefault(normalise(name), key) != key:
                    raise ValueError(f"alias {name!r} is listed under two canonical names")

    def canonical(self, name: str) -> str:
        """Normalised canonical name, or the normalised name itself when it is not listed."""
        key = normalise(name)
        return self._index.get(key, key)


@cache
def _table(path: Path = ALIASES_PATH) -> dict[str, list[str]]:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def load_aliases(path: Path = ALIASES_PATH) -> AliasTable:
    return AliasTable(_table(path))


@cache
def spellings() -> dict[str, tuple[str, ...]]:
    """Normalised canonical name -> every normalised spelling the table gives it."""
    return {normalise(k): tuple(normalise(n) for n in (k, *v)) for k, v in _table().items()}


@cache
def display() -> dict[str, str]:
    """Normalised canonical name -> the canonical name as the table writes it."""
    return {normalise(k): k for k in _table()}


@cache
def canonical(name: str) -> str:
    """`AliasTable.canonical`, remembered: linking asks for the same few names many times."""
    return load_aliases().canonical(name)
