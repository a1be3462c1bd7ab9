"""From the model's draft to checked records: everything code does better than a model.

Evidence offsets, calendar dates, ACLED parent types and UCDP death ranges are
derived here, deterministically, from the draft and the article text.
"""

from __future__ import annotations

import datetime as dt
import re

from schemas.draft import EventDraft
from schemas.events import Deaths, Event, Location
from schemas.vocab import MatchKind, Prominence
from service.dates import resolve_date
from service.grounding import locate

_NOTHING = {"", "null", "none", "n a", "unknown", "not stated", "not specified", "unspecified"}
_OPEN_ENDED = re.compile(r"\b(at least|more than|over|upwards of|no fewer than)\s+\w+", re.I)


def build_event(draft: EventDraft, text: str, reference: dt.date | None) -> Event:
    evidence = locate(draft.quote, text)
    return Event(
        event_type=draft.type.event_type,
        sub_event_type=draft.type,
        attacker=_blank(draft.attacker),
        target=_blank(draft.target),
        weapon=_blank(draft.weapon),
        victims=_blank(draft.victims),
        location=Location(
            place=_blank(draft.place), admin1=_blank(draft.region), country=_blank(draft.country)
        ),
        date=resolve_date(_blank(draft.when), reference),
        deaths=deaths(draft.killed, evidence.quote),
        injured=draft.injured,
        reported_by=_blank(draft.source),
        certainty=draft.certainty,
        prominence=Prominence.MAIN if draft.main else Prominence.BACKGROUND,
        evidence=[evidence],
        grounded=evidence.match is not MatchKind.MISSING,
    )


def deaths(killed: int | None, quote: str) -> Deaths:
    """UCDP best/low/high from one stated figure: open-ended wording leaves `high` unknown."""
    if killed is None:
        return Deaths()
    high = None if _OPEN_ENDED.search(quote) else killed
    return Deaths(best=killed, low=killed, high=high)


def merge_duplicates(events: list[Event]) -> list[Event]:
    """One event per attacker-target-place-day: later mentions only add evidence."""
    kept: dict[tuple[str, ...], Event] = {}
    for event in events:
        key = _identity(event)
        if key not in kept:
            kept[key] = event
            continue
        first = kept[key]
        spans = {(e.start, e.quote) for e in first.evidence}
        extra = [e for e in event.evidence if (e.start, e.quote) not in spans]
        evidence = first.evidence + extra
        kept[key] = first.model_copy(
            update={
                "evidence": evidence,
                "grounded": any(e.match is not MatchKind.MISSING for e in evidence),
            }
        )
    return list(kept.values())


def _identity(event: Event) -> tuple[str, ...]:
    date = event.date.value.isoformat() if event.date.value else (event.date.text or "")
    parts = (event.attacker, event.target, event.location.place, date)
    return (event.sub_event_type.value, *(_norm(p) for p in parts))


def _norm(value: str | None) -> str:
    """Case, punctuation and abbreviation dots do not make a different actor ('U.S.' = 'US')."""
    return re.sub(r"[^a-z0-9]+", " ", (value or "").lower().replace(".", "")).strip()


def _blank(value: str | None) -> str | None:
    """Models write 'null', 'N/A' or '' for nothing; records say None."""
    if value is None or _norm(value) in _NOTHING:
        return None
    return value.strip()


def grounded_headlines(headlines: list[str], text: str) -> tuple[list[str], list[str]]:
    """Headlines found in the article (in its own wording), and warnings for the rest."""
    found: list[str] = []
    warnings: list[str] = []
    for headline in headlines:
        evidence = locate(headline, text)
        if evidence.match is MatchKind.MISSING:
            warnings.append(f"headline not found in the article, dropped: {headline[:80]!r}")
        elif evidence.quote not in found:
            found.append(evidence.quote)
    return found, warnings
