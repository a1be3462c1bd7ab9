"""Stage 3b, fill: the judgements of one attack, read from its own sentences only.

The model decides only what needs judgement: who attacked whom and who was hurt (each
a run of words of the attack's own sentences, an enum in the per-request JSON schema),
where and who says so (among the candidates `cues` found), and how certain the
sentences are. So the model can choose wrongly, but it
cannot invent: no "Rebels" copied from an example, and every value has offsets in the
article. Weapon, date, counts and type come from `cues`, in code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from schemas.vocab import Certainty, SubEventType
from service.core.templates import PromptTemplate
from service.pipeline import cues
from service.pipeline.counts import counts
from service.pipeline.cues import Phrase
from service.pipeline.types import Ask, Numbered, Scored

MAX_SPAN_WORDS = 6  # longest phrase an actor or victims value may take
MAX_CANDIDATES = 4000  # bound on the schema's size for pathological "sentences"
_TOKEN = re.compile(r"\S+")
_EDGE = "\"'“”‘’()[]{},;:!?"
_BREAKS = re.compile(r"[,;:()\[\]\"“”]")  # between two words: a phrase stops there


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_CLAUSE_WORDS = _words(
    "is was were are be been being has have had do does did said says say told according "
    "killed killing injured injuring wounded wounding carried launched struck hit claimed "
    "confirmed announced conducted fired attacked targeted shelled bombed raided stormed "
    "ambushed shot exploded detonated not no who whom which that when while after before "
    "because if since but and or he she it they we you them him itself themselves"
)
_POSSESSIVE = re.compile(r"['’]s$", re.I)
_PREPOSITIONS = (
    "of in on at to for with by from as near against into over under during "
    "through across toward towards about around between among amid via"
)
_DANGLING = _words(f"{_PREPOSITIONS} the a an its their his her")
_NO_START = _words(_PREPOSITIONS)


def phrases(sentences: list[Numbered], max_words: int = MAX_SPAN_WORDS) -> list[Phrase]:
    """Every run of 1..max_words words of each sentence, first occurrence kept.

    Words are white-space tokens with surrounding quotes and punctuation trimmed; a
    final period stays only on abbreviations ("U.S."), so "Baghdad." offers "Baghdad".
    A phrase stops before a verb, a conjunction, a pronoun, a comma or a bracket or
    quotation mark ("front (fmln" and "Hezbollah's “headquarters" are no one's name), and
    neither starts nor ends on a preposition or "the": "four people and injured three",
    "the persons they kidnap" or "US troops and has" name nobody, and a 1.5B model picks
    such runs when they are offered. A phrase that ends on a possessive ends before it:
    "Israel's strike" offers "Israel" ("Israel's strike" too), not "Israel's".
    """
    out: dict[str, Phrase] = {}
    for s in sentences:
        words = [
            w for w in (_trim(s.text, m.start(), m.end()) for m in _TOKEN.finditer(s.text)) if w
        ]
        lowered = [_POSSESSIVE.sub("", s.text[a:b].lower()) for a, b in words]
        for i in range(len(words)):
            if lowered[i] in _NO_START:
                continue
            for j in range(i, min(i + max_words, len(words))):
                between = s.text[words[j - 1][1] : words[j][0]] if j > i else ""
                if lowered[j] in _CLAUSE_WORDS or _BREAKS.search(between):
                    break  # a phrase names someone or something; it does not run on
                if lowered[j] in _DANGLING:
                    continue
                start, end = words[i][0], words[j][1]
                if _POSSESSIVE.search(s.text[start:end]):
                    end -= 2
                text = s.text[start:end]
                if text and text not in out:
                    out[text] = Phrase(text, s.start + start, s.start + end)
                if len(out) >= MAX_CANDIDATES:
                    return list(out.values())
    return list(out.values())


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and (text[end - 1] in _EDGE or _bare_period(text[start:end])):
        end -= 1
    return (start, end) if start < end else None


def _bare_period(word: str) -> bool:
    """A sentence's closing period, not an abbreviation's ('U.S.' keeps its dot)."""
    return word.endswith(".") and "." not in word[:-1]


def fill_model(
    candidates: list[Phrase], places: list[Phrase], sources: list[Phrase]
) -> type[BaseModel]:
    """The per-request answer schema: who against whom, among phrases of the attack's
    sentences; where and who says so, among the candidates code found (the field is
    left out when there are none); and how certain the sentences are."""
    fields: dict[str, Any] = {
        "attacker": (_choice("Phrase", [p.text for p in candidates]), ...),
        "target": (_choice("Phrase", [p.text for p in candidates]), ...),
        "victims": (_choice("Phrase", [p.text for p in candidates]), ...),
    }
    if places:
        fields["place"] = (_choice("Place", [p.text for p in places]), ...)
    if sources:
        fields["source"] = (_choice("Source", [p.text for p in sources]), ...)
    fields["certainty"] = (Certainty, ...)
    return create_model("Attack", __base__=_Answer, **fields)


class _Answer(Scored):
    """The fill answer's base: scored per field (`p_chosen`), no other keys."""

    model_config = ConfigDict(extra="forbid")


def _choice(name: str, values: list[str]) -> Any:
    """One of `values` or null (an enum in one `$defs` entry, shared by the fields)."""
    if not values:
        return None
    return Enum(name, {f"p{i}": v for i, v in enumerate(values)}) | None  # type: ignore[misc]


@dataclass(frozen=True)
class Filled:
    """One attack as read: chosen phrases (with offsets), counts and judgements."""

    spans: dict[str, Phrase]  # field -> phrase, for the fields found
    chosen: dict[str, float]  # field -> the model's probability of the value it wrote
    type: SubEventType
    killed: int | None
    injured: int | None
    certainty: Certainty


_ACTORS = ("attacker", "target", "victims")


def _text(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def fill(
    ask: Ask, template: PromptTemplate, event: list[Numbered], threshold: float, lede: str
) -> Filled:
    """Ask for one attack's judgement fields; code reads the rest (`cues`; `lede`, the
    story's first sentences, for the date). A field the model gave less than `threshold`
    probability is left null: a confident wrong value is worse than none."""
    candidates = phrases(event)
    places, sources = cues.places(event), cues.sources(event)
    messages = template.render_stage("fill", sentences=event)
    answer: Any = ask("fill", messages, fill_model(candidates, places, sources))
    spans: dict[str, Phrase] = {}
    chosen = answer.p_chosen or {}
    for name, offered in (
        ("attacker", candidates),
        ("target", candidates),
        ("victims", candidates),
        ("place", places),
        ("source", sources),
    ):
        value = getattr(answer, name, None)
        if value is None or chosen.get(name, 1.0) < threshold:
            continue
        if not (name in _ACTORS and cues.is_weapon(_text(value))):
            spans[name] = next(p for p in offered if p.text == _text(value))
    for name, found in (("weapon", cues.weapon(event)), ("when", cues.when(event, lede))):
        if found is not None:
            spans[name] = found
    killed, injured = counts(event)
    weapon = spans["weapon"].text if "weapon" in spans else None
    kind = cues.attack_type(weapon, event)
    return Filled(spans, chosen, kind, killed, injured, answer.certainty)
