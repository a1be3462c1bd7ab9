"""Dates come from the text, never from the model's imagination.

The model copies the phrase ("on Tuesday"); code resolves it only against a date
the article itself supports (its stated publication date, or one the caller gives)
and records how precise the result is. Anything else stays unresolved.
"""

from __future__ import annotations

import datetime as dt
import re

from dateparser.date import DateDataParser

from schemas.events import EventDate
from schemas.vocab import DatePrecision

_PUBLISHED = [
    re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b", re.I | re.M),
    re.compile(
        r"\b(?:first\s+)?published(?:\s+on)?\s*:?\s*([A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}"
        r"|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}|\d{4}-\d{2}-\d{2})",
        re.I,
    ),
]
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
#: "The next day", "two days later", "earlier in the day": a time counted from another
#: event's, not from the dateline, so never resolved; and an attack told so is not the
#: one told just before.
AFTERWARDS = re.compile(
    r"\b(?:(?:the|a) (?:next|following|previous) (?:day|night|morning|week)|"
    r"(?:a|one|two|three|four|five|six|\d+) days? (?:later|earlier|before)|"
    r"the day (?:before|after)|"
    r"(?:earlier|later) (?:in the|that) (?:day|morning|afternoon|evening|night))\b",
    re.I,
)
#: Earliest publication date taken from a text: a "Published: 0001-01-01" is noise,
#: and date arithmetic near year 1 overflows.
EARLIEST_PUBLISHED = dt.date(1900, 1, 1)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIODS = {
    "day": DatePrecision.DAY,
    "part_of_day": DatePrecision.DAY,
    "time": DatePrecision.DAY,
    "week": DatePrecision.WEEK,
    "month": DatePrecision.MONTH,
    "year": DatePrecision.YEAR,
}


def find_published(text: str, today: dt.date | None = None) -> dt.date | None:
    """A publication date the page states near its top ('date 2024-02-08', 'Published ...').

    Only a plausible one: from 1900 to tomorrow (time zones), else it is no date at all.
    """
    head = text[:3000]
    latest = (today or dt.date.today()) + dt.timedelta(days=1)
    for pattern in _PUBLISHED:
        if match := pattern.search(head):
            parsed = _parser(None).get_date_data(match.group(1))
            if parsed.date_obj is not None:
                day = parsed.date_obj.date()
                return day if EARLIEST_PUBLISHED <= day <= latest else None
    return None


def resolve_date(phrase: str | None, reference: dt.date | None) -> EventDate:
    """Resolve a date phrase against the reference date, or leave it unresolved.

    Never raises: a reference at the edge of the calendar (a caller's year 1) leaves
    the phrase unresolved instead of overflowing.
    """
    if not phrase or not phrase.strip():
        return EventDate()
    try:
        return _resolve(phrase.strip(), reference)
    except (OverflowError, ValueError):
        return EventDate(text=phrase.strip())


def _resolve(text: str, reference: dt.date | None) -> EventDate:
    if reference is None and not _YEAR.search(text):
        return EventDate(text=text)  # a weekday or "last week" with nothing to anchor it
    data = _parser(reference).get_date_data(_clean(text))
    if data.date_obj is None or data.period not in _PERIODS:
        return EventDate(text=text)
    day = data.date_obj.date()
    precision = _PERIODS[data.period]
    if reference is not None:
        # dateparser reads the reference's own weekday as a week earlier; news means that day.
        weekday = _WEEKDAYS[reference.weekday()]
        if (
            precision is DatePrecision.DAY
            and weekday in text.lower()
            and day == reference - dt.timedelta(7)
        ):
            day = reference
        if day > reference:
            return EventDate(text=text)  # a past event cannot postdate the article
    return EventDate(text=text, value=period_start(day, precision), precision=precision)


def _clean(text: str) -> str:
    return re.sub(r"^(on|in|at|since|during)\s+", "", text, flags=re.I)


def period_start(day: dt.date, precision: DatePrecision) -> dt.date:
    """First day of the period of `precision` that contains `day` (weeks start Monday)."""
    if precision is DatePrecision.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if precision is DatePrecision.MONTH:
        return day.replace(day=1)
    if precision is DatePrecision.YEAR:
        return day.replace(month=1, day=1)
    return day


def _parser(reference: dt.date | None) -> DateDataParser:
    settings: dict[str, object] = {"PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True}
    if reference is not None:
        settings["RELATIVE_BASE"] = dt.datetime.combine(reference, dt.time())
    return DateDataParser(languages=["en"], settings=settings)
