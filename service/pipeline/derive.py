"""Stage 4, derive: from one filled attack to an `Event`, everything code does better.

- Evidence: the attack's sentences, exact offsets from the splitter.
- Spans: the offsets of each text field's phrase.
- Country: from the place, by gazetteer (`places`), never from the model.
- Sub-event type: read by `cues` from the weapon and the wording.
- Date: the "when" phrase resolved against the publication or caller's date (`dates`).
- Deaths: UCDP best/low/high from the stated figure (`records.deaths`).
- Main or background: an attack told in the headline or the first sentences is the
  story's own (news puts it there); one told only later is background.
- Confidence: the highest P(attack) among the sentences, as `detect` scored them.
"""

from __future__ import annotations

import datetime as dt

from schemas.events import Event, Evidence, Location, Span
from schemas.vocab import MatchKind, Prominence
from service.core.dates import resolve_date
from service.core.records import deaths
from service.pipeline.fill import Filled
from service.pipeline.places import gazetteer
from service.pipeline.types import Numbered

LEDE = 3  # headline and first sentences, as numbered by `clean`
LEDE = 3  # headline and first sentences, as numbered by `clean`
_FIELD_OF_SPAN = {"when": "date", "source": "reported_by"}


def build_event(
    filled: Filled, sentences: list[Numbered], article: str, reference: dt.date | None
) -> Event:
    text = {name: p.text for name, p in filled.spans.items()}
    evidence = [
        Evidence(quote=s.text, start=s.start, end=s.end, match=MatchKind.EXACT) for s in sentences
    ]
    context = " ".join(s.text for s in sentences)
    kind = filled.type
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
        prominence=Prominence.MAIN if sentences[0].number <= LEDE else Prominence.BACKGROUND,
        evidence=evidence,
        grounded=True,
        confidence=max((s.p_attack for s in sentences if s.p_attack is not None), default=None),
        spans=spans,
    )
