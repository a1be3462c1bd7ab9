"""Stage 4, derive: from one filled attack to an `Event`, everything code does better.

- Evidence: the attack's sentences, exact offsets from the splitter.
- Spans: the offsets of each text field's phrase.
- Country: from the place, by gazetteer (`places`), never from the model. A place that
  is only a country's name ("in Iraq") is the country, not a place; a bare kind of
  site ("the region") names no place, and is null.
- Roles: victims only where their sentence says someone was killed or hurt, and not in
  a clause about an earlier attack ("days after US forces killed the leader..."); a
  phrase chosen both as target and as victims is the victims when it names people ("US
  troops"), else the target ("Iraq's Popular Mobilization Forces"). A phrase whose head
  is a kind of site ("security forces headquarters") is neither the attacker nor the
  victims. The attacker is not named within the victims ("US forces" in "three US soldiers",
  "Peruvian presidential guards" in "seven Peruvian presidential guards": the same
  names, not counting the words any armed side is called by), unless the sentences say
  how ("blew himself up", "suicide"): a small model names the murdered as the murderer,
  and the side hit as the side that struck ("militants" in "two militants were killed":
  counts name no side). Nor is the attacker a bystander, a name each mention of which
  tells of the attack ("police said", "the Guards confirmed his death", "the group's
  spokesman posted") or is what it hit ("three attacks on U.S. forces"), unless one
  says it did it ("said it fired").
- Sub-event type: read by `cues` from the weapon and the wording.
- Date: the "when" phrase resolved against the publication or caller's date (`dates`).
- Deaths: UCDP best/low/high from the stated figure (`records.deaths`).
- Main or background: an attack told in the headline or the first sentences is the
  story's own (news puts it there); one told only later is background. A run that opens
  on an attack as one already told ("Those blasts killed four people") goes back to the
  last sentence naming it (`cues.antecedent`): when that is in the lede, the attack is
  the story's own, and where the run names no place, the place that sentence gives
  right after the attack's name ("the blasts reported earlier at a base south of
  Baghdad") is its place.
- Confidence: the highest P(attack) among the sentences, as `detect` scored them.

`is_campaign` tells the pipeline which attacks are no one event: one placed in two
countries or more ("airstrikes ... in Iraq and Syria", "attacking positions in Iraq,
Syria and Jordan") is a campaign, which ACLED codes as one event per country and the
guidelines leave out as an aggregate.
"""

from __future__ import annotations

import datetime as dt
import re

from schemas.events import Event, Evidence, Location, Span
from schemas.vocab import MatchKind, Prominence
from service.core.dates import resolve_date
from service.core.records import deaths, named_within
from service.pipeline.cues import (
    HURT,
    LEDE,
    Phrase,
    Told,
    about_another,
    bystander,
    is_generic_site,
    names_people,
    names_site,
    place_after,
)
from service.pipeline.fill import Filled
from service.pipeline.places import gazetteer
from service.pipeline.types import Numbered

_FIELD_OF_SPAN = {"when": "date", "source": "reported_by"}
# "blew himself up", "a suicide bomber": how an attacker is also among the victims.
_OWN_HARM = re.compile(r"\b(?:himself|herself|themselves|suicide)\b", re.I)
# "the border between Iraq and Syria" is one place, though it names two countries.
_BORDER = re.compile(r"\b(?:border|frontier|between)\b", re.I)
# A list of names going on from a phrase: ", Syria and Jordan".
_NAME = r"(?:the\s+)?[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*)*"
_LIST = re.compile(rf"(?:(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+){_NAME})*")
_WHERE = re.compile(r"\b(?:in|across|throughout|inside)\s+", re.I)


def build_event(
    filled: Filled,
    sentences: list[Numbered],
    article: str,
    reference: dt.date | None,
    told: Told | None = None,
) -> Event:
    """`told`: the earlier sentence that told the attack the run opens on as already told
    ("Those blasts killed four"). It places an attack the run does not, and makes it the
    story's own when the lede told it. It is not cited as evidence: it may tell another
    attack too ("if the US strike was the same as the blasts"), and shared evidence
    merges events."""
    chosen = _roles(filled.spans, sentences)
    if told and "place" not in chosen and (where := place_after(told)):
        chosen["place"] = where
    text = {name: p.text for name, p in chosen.items()}
    evidence = [
        Evidence(quote=s.text, start=s.start, end=s.end, match=MatchKind.EXACT) for s in sentences
    ]
    first = (told.sentence if told else sentences[0]).number  # told before the run, if at all
    context = " ".join(s.text for s in sentences)
    kind = filled.type
    spans = {
        _FIELD_OF_SPAN.get(name, name): Span(
            start=p.start, end=p.end, confidence=filled.chosen.get(name)
        )
        for name, p in chosen.items()
        if name != "place" or _is_place(p.text)
    }
    return Event(
        event_type=kind.event_type,
        sub_event_type=kind,
        attacker=text.get("attacker"),
        target=text.get("target"),
        weapon=text.get("weapon"),
        victims=text.get("victims"),
        location=Location(
            place=text["place"] if "place" in spans else None,
            country=gazetteer().country_of(text.get("place"), context, article),
        ),
        date=resolve_date(text.get("when"), reference),
        deaths=deaths(filled.killed, context),
        injured=filled.injured,
        reported_by=text.get("source"),
        certainty=filled.certainty,
        prominence=Prominence.MAIN if first <= LEDE else Prominence.BACKGROUND,
        evidence=evidence,
        grounded=True,
        confidence=max((s.p_attack for s in sentences if s.p_attack is not None), default=None),
        spans=spans,
    )


def is_campaign(event: Event, article: str) -> bool:
    """Whether the attack's place, or where its target is, spans countries: "Iraq and
    Syria", "positions in Iraq, Syria and Jordan" (the phrase and the list of names that
    goes on from it; a target's countries must follow "in": "the US and Britain" is who)."""
    for field in ("place", "target"):
        span = event.spans.get(field)
        if span is None:
            continue
        listed = _LIST.match(article, span.end)  # matches, if only the empty string
        phrase = article[span.start : listed.end() if listed else span.end]
        if field == "target":
            phrase = phrase[m.end() :] if (m := _WHERE.search(phrase)) else ""
        if not _BORDER.search(phrase) and len(gazetteer().country_in(phrase)) > 1:
            return True
    return False


def _roles(spans: dict[str, Phrase], sentences: list[Numbered]) -> dict[str, Phrase]:
    """The model's phrases, each in one role it can hold (rules in the module docstring)."""
    chosen = dict(spans)
    attacker, target, victims = (chosen.get(k) for k in ("attacker", "target", "victims"))
    if target and attacker and target.text == attacker.text:
        del chosen["target"]  # one phrase cannot be both sides
    elif target and victims and target.text == victims.text:
        del chosen["target" if names_people(victims.text) else "victims"]
    victims = chosen.get("victims")
    said = _sentence_of(victims, sentences) if victims else None
    if victims and not (said and HURT.search(said.text)):
        del chosen["victims"]  # its sentence tells of nobody killed or hurt
    elif victims and said and about_another(said.text, victims.start - said.start):
        del chosen["victims"]  # the dead of an earlier attack a clause tells of
    if "attacker" in chosen and names_site(chosen["attacker"].text):
        del chosen["attacker"]  # a site is hit; it attacks no one
    elif "attacker" in chosen and bystander(chosen["attacker"].text, sentences):
        del chosen["attacker"]  # who tells of the attack or was hit, not who did it
    victims = chosen.get("victims")
    if (
        victims
        and "attacker" in chosen
        and named_within(chosen["attacker"].text, victims.text)
        and not any(_OWN_HARM.search(s.text) for s in sentences)
    ):
        del chosen["attacker"]  # the side hit did not strike, unless by its own hand
    if "victims" in chosen and names_site(chosen["victims"].text):
        del chosen["victims"]  # a site is not who was hurt
    return chosen


def _sentence_of(phrase: Phrase, sentences: list[Numbered]) -> Numbered | None:
    return next((s for s in sentences if s.start <= phrase.start < s.end), None)


def _is_place(text: str) -> bool:
    """A place below the country that names somewhere ("base south of Baghdad", "a
    crowded city street"), not a country ("Iraq") nor a bare kind of site ("the region")."""
    return not (gazetteer().is_country(text) or is_generic_site(text))
