"""Plausibility checks on records: a figure must be in the evidence, a date not in the future.

A small model writes numbers it did not read (10^12 killed where the text says
"killing three") and dates it cannot know. These checks work on `Event` records,
whatever produced them: a value that fails is set to None and a warning says why,
so the event itself is kept.
"""

from __future__ import annotations

import datetime as dt
import re

from text_to_num import alpha2digit

from schemas.events import Deaths, Event, EventDate

#: More than any single attack has killed or injured: a larger figure is noise.
MAX_CASUALTIES = 1_000_000
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_SCALED = re.compile(r"(\d+(?:[.,]\d+)*)\s*(thousand|million)\b", re.I)
_SCALE = {"thousand": 1_000, "million": 1_000_000}
_NONE = re.compile(r"\b(no|none|nobody|zero|without|0)\b", re.I)  # "no one was killed"
_ONE = re.compile(r"\b(a|an|one|single|lone|1)\b", re.I)  # "a man was killed"
_SENTENCE_END = re.compile(r"[.!?\n]")
_REACH = 300  # how far a quote is widened, each way, to its whole sentence


def check_events(
    events: list[Event], text: str, reference: dt.date | None
) -> tuple[list[Event], list[str]]:
    """Every check on every event: the corrected events and one warning per correction."""
    checked: list[Event] = []
    warnings: list[str] = []
    for event in events:
        event, figures = check_figures(event, text)
        event, dates = check_date(event, reference)
        checked.append(event)
        warnings += figures + dates
    return checked, warnings


def check_figures(event: Event, text: str) -> tuple[Event, list[str]]:
    """Deaths and injuries only as the evidence states them, in digits or in words.

    The evidence is each quote widened to its whole sentence in `text` (a quote may be
    a fragment). A figure it does not contain, or one over `MAX_CASUALTIES`, was not
    stated: it becomes None.
    """
    evidence = " ".join(_sentence_of(e.quote, e.start, e.end, text) for e in event.evidence)
    stated = stated_numbers(evidence)
    update: dict[str, object] = {}
    warnings: list[str] = []
    for name, value in (("killed", event.deaths.best), ("injured", event.injured)):
        if value is None or _supported(value, stated, evidence):
            continue
        update["deaths" if name == "killed" else name] = Deaths() if name == "killed" else None
        warnings.append(
            f"{name}={value} is not stated in the evidence {_short(event)}: set to null"
        )
    return (event.model_copy(update=update) if update else event), warnings


def check_date(
    event: Event, reference: dt.date | None, today: dt.date | None = None
) -> tuple[Event, list[str]]:
    """An event cannot postdate the article's (or the caller's) date, nor today.

    A date after that bound is set to None; the phrase as written is kept.
    """
    latest = min(d for d in (reference, today or dt.date.today()) if d is not None)
    value = event.date.value
    if value is None or value <= latest:
        return event, []
    unresolved = event.model_copy(update={"date": EventDate(text=event.date.text)})
    return unresolved, [
        f"date {value.isoformat()} ({event.date.text!r}) is after {latest.isoformat()}, "
        f"the {'publication date' if reference and reference <= latest else 'current date'}: "
        f"set to null {_short(event)}"
    ]


def stated_numbers(text: str) -> set[int]:
    """Whole numbers a text states, in digits ('1,200', '2.5 million') or words ('forty-one')."""
    text = _SCALED.sub(_times_scale, text)  # before text2num reads 'million' on its own
    numbers: set[int] = set()
    for match in _DIGITS.finditer(alpha2digit(text, "en", threshold=0)):
        value = _number(match.group(0))
        if value is not None and value.is_integer():
            numbers.add(int(value))
    return numbers


def _times_scale(match: re.Match[str]) -> str:
    value = _number(match.group(1))
    return match.group(0) if value is None else f"{value * _SCALE[match.group(2).lower()]:.0f}"


def _number(digits: str) -> float | None:
    try:
        return float(digits.replace(",", ""))
    except ValueError:
        return None  # '1.2.3': a version or a date, no count


def _supported(value: int, stated: set[int], evidence: str) -> bool:
    if value > MAX_CASUALTIES:
        return False
    if value == 0:
        return bool(_NONE.search(evidence)) or 0 in stated
    if value == 1:
        return bool(_ONE.search(evidence)) or 1 in stated
    return value in stated


def _sentence_of(quote: str, start: int | None, end: int | None, text: str) -> str:
    """The whole sentence around a located quote; a quote not found stays as it is."""
    if start is None or end is None:
        return quote
    lo, hi = max(0, start - _REACH), min(len(text), end + _REACH)
    ends_before = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    end_after = _SENTENCE_END.search(text, max(start, end - 1), hi)  # the quote's own stop
    return text[ends_before[-1] if ends_before else lo : end_after.end() if end_after else hi]


def _short(event: Event) -> str:
    quote = event.evidence[0].quote
    return f"({quote[:60]!r}{'...' if len(quote) > 60 else ''})"
