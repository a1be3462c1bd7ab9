"""Dates resolve only against a date the article supports; otherwise they stay as written."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.vocab import DatePrecision
from service.core.dates import find_published, resolve_date
from tests.conftest import seed

THURSDAY = dt.date(2024, 2, 8)


@pytest.mark.parametrize(
    ("phrase", "value", "precision"),
    [
        ("Wednesday evening", dt.date(2024, 2, 7), DatePrecision.DAY),
        ("on Tuesday", dt.date(2024, 2, 6), DatePrecision.DAY),
        ("on Thursday", THURSDAY, DatePrecision.DAY),  # the reference's own weekday is that day
        ("last week", dt.date(2024, 1, 29), DatePrecision.WEEK),  # Monday of that week
        ("in February", dt.date(2024, 2, 1), DatePrecision.MONTH),
        ("Oct. 7", dt.date(2023, 10, 7), DatePrecision.DAY),  # no year: the past one
    ],
)
def test_relative_phrases_resolve_against_the_reference(
    phrase: str, value: dt.date, precision: DatePrecision
) -> None:
    date = resolve_date(phrase, THURSDAY)
    assert (date.text, date.value, date.precision) == (phrase, value, precision)


@pytest.mark.parametrize("phrase", ["on Tuesday", "last week", "Oct. 7"])
def test_without_a_reference_relative_phrases_stay_unresolved(phrase: str) -> None:
    date = resolve_date(phrase, None)
    assert (date.text, date.value, date.precision) == (phrase, None, None)


def test_a_full_date_needs_no_reference() -> None:
    date = resolve_date("May 21, 2024", None)
    assert (date.value, date.precision) == (dt.date(2024, 5, 21), DatePrecision.DAY)


def test_a_date_after_the_article_is_not_accepted() -> None:
    assert resolve_date("March 3, 2025", THURSDAY).value is None


def test_no_phrase_no_date() -> None:
    assert resolve_date(None, THURSDAY).model_dump() == {
        "text": None,
        "value": None,
        "precision": None,
    }


@pytest.mark.parametrize(
    ("name", "published"),
    [
        ("000_7142a26cd5ceeaa4.txt", None),  # a caption's "May 21, 2024" is not a dateline
        ("001_9324dd8dc375645c.txt", None),
        ("002_7170401a18cb68b4.txt", None),
        ("003_2e80b37fffd6de0c.txt", dt.date(2024, 2, 8)),  # "First Published Feb 8, 2024"
        ("004_e703eae0c918574b.txt", dt.date(2024, 2, 8)),  # "date 2024-02-08"
    ],
)
def test_publication_dates_stated_in_the_seeds(name: str, published: dt.date | None) -> None:
    assert find_published(seed(name)) == published
