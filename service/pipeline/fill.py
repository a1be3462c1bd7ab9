"""Stage 3, fill: the fields of one attack, read from its own sentences only.

Every text field is constrained, per request, to a run of words of the attack's own
sentences (an enum of word spans in the JSON schema), and casualty figures to numbers
those sentences state in digits or words. So the model can choose wrongly, but it
cannot invent: no "Rebels" copied from an example, no 10^12 dead, and every value has
offsets in the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model
from text_to_num import alpha2digit

from schemas.vocab import Certainty, SubEventType
from service.pipeline.types import Ask, Numbered
from service.templates import PromptTemplate

MAX_SPAN_WORDS = 8  # longest phrase a field may take
MAX_CANDIDATES = 4000  # bound on the schema's size for pathological "sentences"
SPAN_FIELDS = ("attacker", "target", "weapon", "place", "when", "victims", "source")
_TOKEN = re.compile(r"\S+")
_EDGE = "\"'“”‘’()[]{},;:!?"
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\w])|(?<![\w.])\d+(?![\w.]\d)")
_NONE = re.compile(r"\b(?:no|none|nobody|no one|zero|without)\b", re.I)
_YEAR = range(1900, 2100)


@dataclass(frozen=True)
class Phrase:
    text: str
    start: int
    end: int


def phrases(sentences: list[Numbered], max_words: int = MAX_SPAN_WORDS) -> list[Phrase]:
    """Every run of 1..max_words words of each sentence, first occurrence kept.

    Words are white-space tokens with surrounding quotes and punctuation trimmed; a
    final period stays only on abbreviations ("U.S."), so "Baghdad." offers "Baghdad".
    """
    out: dict[str, Phrase] = {}
    for s in sentences:
        words = [
            w for w in (_trim(s.text, m.start(), m.end()) for m in _TOKEN.finditer(s.text)) if w
        ]
        for i in range(len(words)):
            for j in range(i, min(i + max_words, len(words))):
                start, end = words[i][0], words[j][1]
                text = s.text[start:end]
                if text not in out:
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


def numbers(sentences: list[Numbered]) -> list[int]:
    """Counts the sentences state, in digits or words ('killing three' -> 3); 0 only on
    'no'/'nobody'/'without'. Years are not counts."""
    found: set[int] = set()
    for s in sentences:
        text = alpha2digit(s.text, "en", threshold=0)
        for m in _NUMBER.finditer(text):
            value = int(m.group().replace(",", ""))
            if value not in _YEAR:
                found.add(value)
        if _NONE.search(s.text):
            found.add(0)
    return sorted(found)


def fill_model(candidates: list[Phrase], counts: list[int]) -> type[BaseModel]:
    """The per-request answer schema: phrases of the attack's sentences, stated counts."""
    phrase: Any = None
    if candidates:
        values = {f"p{i}": p.text for i, p in enumerate(candidates)}
        phrase = Enum("Phrase", values) | None  # type: ignore[misc]  # one $defs entry
    count: Any = Literal[tuple(counts)] | None if counts else None  # type: ignore[valid-type]
    fields: dict[str, Any] = {
        "attacker": (phrase, ...),
        "target": (phrase, ...),
        "weapon": (phrase, ...),
        "type": (SubEventType, ...),
        "place": (phrase, ...),
        "when": (phrase, ...),
        "killed": (count, ...),
        "injured": (count, ...),
        "victims": (phrase, ...),
        "source": (phrase, ...),
        "certainty": (Certainty, ...),
        "main": (bool, ...),
    }
    return create_model("Attack", __config__=ConfigDict(extra="forbid"), **fields)


@dataclass(frozen=True)
class Filled:
    """One attack as read: chosen phrases (with offsets), counts and judgements."""

    spans: dict[str, Phrase]  # field -> phrase, for the fields the model filled
    type: SubEventType
    killed: int | None
    injured: int | None
    certainty: Certainty
    main: bool


def fill(
    ask: Ask, template: PromptTemplate, shown: list[Numbered], event: list[Numbered]
) -> Filled:
    """Ask for one attack's fields, constrained to what its sentences say."""
    candidates = phrases(event)
    by_text = {p.text: p for p in candidates}
    numbers_ = ", ".join(str(s.number) for s in event)
    messages = template.render_stage(
        "fill", sentences=shown, event_sentences=event, numbers=numbers_
    )
    answer: Any = ask("fill", messages, fill_model(candidates, numbers(event)))
    spans = {}
    for name in SPAN_FIELDS:
        value = getattr(answer, name)
        if value is not None:
            spans[name] = by_text[value.value if isinstance(value, Enum) else value]
    return Filled(spans, answer.type, answer.killed, answer.injured, answer.certainty, answer.main)
