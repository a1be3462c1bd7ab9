"""The evals' alias table (`evals/aliases.json`) seen from the service: spellings and display.

`evals.fields.AliasTable` maps any spelling to a normalised canonical key; linking also
needs the other direction (every spelling of a place, to look it up in a gazetteer) and
the canonical name as written ("United States", not "united states") for output.
"""

from __future__ import annotations

import json
from functools import cache

from evals.fields import ALIASES_PATH, load_aliases
from service.names import normalise


@cache
def _table() -> dict[str, list[str]]:
    return json.loads(ALIASES_PATH.read_text(encoding="utf-8"))


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
