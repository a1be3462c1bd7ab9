"""Stage 5, merge: sentences about one attack become one event, on positive evidence only.

Each attack sentence was read on its own, so a lede and a later detail of one strike
arrive as two events. They merge when nothing conflicts (no two different attackers,
targets, places, dates or death tolls) and at least two identifying fields agree
(attacker, target, place, resolved date, weapon). Shared nulls are never evidence: two
attacks that both lack a place stay two attacks.
"""

from __future__ import annotations

import re

from schemas.events import Event
from schemas.vocab import MatchKind

_MIN_AGREEING = 2


def merge_events(events: list[Event]) -> list[Event]:
    """Fold each event into the first earlier one it matches; order is kept."""
    kept: list[Event] = []
    for event in events:
        for i, earlier in enumerate(kept):
            if same_attack(earlier, event):
                kept[i] = _fold(earlier, event)
                break
        else:
            kept.append(event)
    return kept


def same_attack(a: Event, b: Event) -> bool:
    pairs = _identifying(a, b)
    if any(x is not None and y is not None and not _agree(x, y) for x, y in pairs):
        return False
    if a.deaths.best is not None and b.deaths.best is not None and a.deaths.best != b.deaths.best:
        return False
    agreeing = sum(x is not None and y is not None and _agree(x, y) for x, y in pairs)
    return agreeing >= _MIN_AGREEING


def _identifying(a: Event, b: Event) -> list[tuple[str | None, str | None]]:
    def date(e: Event) -> str | None:
        return e.date.value.isoformat() if e.date.value else None

    return [
        (a.attacker, b.attacker),
        (a.target, b.target),
        (a.location.place, b.location.place),
        (date(a), date(b)),
        (a.weapon, b.weapon),
    ]


def _norm(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", value.lower().replace(".", "")).strip()


def _agree(x: str, y: str) -> bool:
    """Equal, or one a whole-word part of the other ('the strike' ~ 'strike')."""
    a, b = f" {_norm(x)} ", f" {_norm(y)} "
    return a.strip() != "" and (a in b or b in a)


def _fold(first: Event, other: Event) -> Event:
    """The first event, its gaps filled from the other, with both events' evidence."""
    update: dict[str, object] = {}
    for name in ("attacker", "target", "weapon", "victims", "reported_by", "injured"):
        if getattr(first, name) is None and getattr(other, name) is not None:
            update[name] = getattr(other, name)
            if name in other.spans:
                update.setdefault("spans", dict(first.spans))[name] = other.spans[name]  # type: ignore[index]
    if first.location.place is None and other.location.place is not None:
        update["location"] = other.location
        if "place" in other.spans:
            update.setdefault("spans", dict(first.spans))["place"] = other.spans["place"]  # type: ignore[index]
    if first.date.text is None and other.date.text is not None:
        update["date"] = other.date
        if "date" in other.spans:
            update.setdefault("spans", dict(first.spans))["date"] = other.spans["date"]  # type: ignore[index]
    if first.deaths.best is None and other.deaths.best is not None:
        update["deaths"] = other.deaths
    seen = {(e.start, e.end) for e in first.evidence}
    evidence = first.evidence + [e for e in other.evidence if (e.start, e.end) not in seen]
    update["evidence"] = evidence
    update["grounded"] = any(e.match is not MatchKind.MISSING for e in evidence)
    return first.model_copy(update=update)
