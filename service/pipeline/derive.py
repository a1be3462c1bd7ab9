"""Stage 4, derive: from one filled attack to an `Event`, everything code does better.

- Evidence: the attack's sentences, exact offsets from the splitter.
- Spans: the offsets of each text field's phrase.
- Country: from the place, by gazetteer (`places`), never from the model.
- Sub-event type: the model's choice, unless the weapon phrase names exactly one
  ACLED means ("drone" is an air/drone strike, "car bomb" a remote explosive): the
  codebook maps means to sub-event types, and a phrase is firmer than a judgement.
- Date: the "when" phrase resolved against the publication or caller's date (`dates`).
- Deaths: UCDP best/low/high from the stated figure (`records.deaths`).
"""

from __future__ import annotations

import datetime as dt
import re

from schemas.events import Event, Evidence, Location, Span
from schemas.vocab import MatchKind, Prominence, SubEventType
from service.dates import resolve_date
from service.pipeline.fill import Filled
from service.pipeline.places import gazetteer
from service.pipeline.types import Numbered
from service.records import deaths

# ACLED means -> sub-event type, matched on the weapon phrase only.
_MEANS: dict[SubEventType, re.Pattern[str]] = {
    SubEventType.SUICIDE_BOMB: re.compile(r"\bsuicide\b", re.I),
    SubEventType.AIR_DRONE_STRIKE: re.compile(
        r"\b(?:drones?|air ?strikes?|aircraft|warplanes?|jets?|helicopters?|air raids?)\b", re.I
    ),
    SubEventType.SHELLING_MISSILE: re.compile(
        r"\b(?:rockets?|missiles?|mortars?|shells?|shelling|artillery)\b", re.I
    ),
    SubEventType.REMOTE_EXPLOSIVE: re.compile(
        r"\b(?:ieds?|roadside bombs?|car bombs?|landmines?|mines?|explosive devices?|bombs?)\b",
        re.I,
    ),
    SubEventType.GRENADE: re.compile(r"\bgrenades?\b", re.I),
}
_FIELD_OF_SPAN = {"when": "date", "source": "reported_by"}


def sub_event_type(chosen: SubEventType, weapon: str | None) -> SubEventType:
    """The model's type, overridden when the weapon phrase names exactly one means."""
    if not weapon:
        return chosen
    named = [kind for kind, cue in _MEANS.items() if cue.search(weapon)]
    if SubEventType.SUICIDE_BOMB in named:
        return SubEventType.SUICIDE_BOMB  # "suicide car bomb" is a suicide bomb
    return named[0] if len(named) == 1 else chosen


def build_event(
    filled: Filled, sentences: list[Numbered], article: str, reference: dt.date | None
) -> Event:
    text = {name: p.text for name, p in filled.spans.items()}
    evidence = [
        Evidence(quote=s.text, start=s.start, end=s.end, match=MatchKind.EXACT) for s in sentences
    ]
    context = " ".join(s.text for s in sentences)
    kind = sub_event_type(filled.type, text.get("weapon"))
    target = text.get("target")
    if target is not None and target == text.get("attacker"):
        target = None  # one phrase cannot be both sides
    spans = {
        _FIELD_OF_SPAN.get(name, name): Span(start=p.start, end=p.end)
        for name, p in filled.spans.items()
        if name != "target" or target is not None
    }
    return Event(
        event_type=kind.event_type,
        sub_event_type=kind,
        attacker=text.get("attacker"),
        target=target,
        weapon=text.get("weapon"),
        victims=text.get("victims"),
        location=Location(
            place=text.get("place"),
            country=gazetteer().country_of(text.get("place"), context, article),
        ),
        date=resolve_date(text.get("when"), reference),
        deaths=deaths(filled.killed, context),
        injured=filled.injured,
        reported_by=text.get("source"),
        certainty=filled.certainty,
        prominence=Prominence.MAIN if filled.main else Prominence.BACKGROUND,
        evidence=evidence,
        grounded=True,
        spans=spans,
    )
