"""Typed event records: what callers, the batch output and the gold annotations share.

Sources of the design:
- ACLED: event type / sub-type, one event per attacker-target-place-day, date with
  a time precision, place with admin area and country, conservative fatalities.
- UCDP GED: deaths as best / low / high.
- KAIROS Conflict.Attack and Life.Die: attacker, target, instrument, place, victims.
- Ours: who reports the event, how certain it is, main story or background, and
  evidence as verbatim quotes with character offsets into the article.

"Not stated" is always None, never 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

from schemas.vocab import (
    Certainty,
    DatePrecision,
    EventType,
    MatchKind,
    Prominence,
    SubEventType,
)


class Evidence(BaseModel):
    """A verbatim span of the article supporting an event.

    When found, `article_text[start:end] == quote` holds exactly; a quote the model
    made up keeps its text, with no offsets and `match == "missing"`.
    """

    model_config = ConfigDict(extra="forbid")

    quote: str
    start: NonNegativeInt | None = None
    end: NonNegativeInt | None = None
    match: MatchKind = MatchKind.EXACT
    score: float = Field(default=100.0, ge=0, le=100, description="Similarity 0-100.")

    @model_validator(mode="after")
    def _offsets_consistent(self) -> Evidence:
        located = self.start is not None and self.end is not None
        if located != (self.match is not MatchKind.MISSING):
            raise ValueError("offsets must be given exactly when the quote was found")
        if located and self.end - self.start != len(self.quote):  # type: ignore[operator]
            raise ValueError("end - start must equal the quote's length")
        return self


class EventDate(BaseModel):
    """When the event happened: the phrase as written and what it resolves to, if anything."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="The article's words, e.g. 'on Tuesday'.")
    value: dt.date | None = Field(
        default=None, description="First day of the period the text supports; None if unresolved."
    )
    precision: DatePrecision | None = None

    @model_validator(mode="after")
    def _value_has_precision(self) -> EventDate:
        if (self.value is None) != (self.precision is None):
            raise ValueError("a resolved date needs a precision, and only a resolved one")
        return self


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    place: str | None = None
    admin1: str | None = Field(default=None, description="Province or state.")
    country: str | None = None


class Deaths(BaseModel):
    """UCDP-style fatality estimate; all None when the article gives no figure."""

    model_config = ConfigDict(extra="forbid")

    best: NonNegativeInt | None = None
    low: NonNegativeInt | None = None
    high: NonNegativeInt | None = Field(
        default=None, description="None when open-ended ('at least 16')."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Deaths:
        if self.low is not None and self.best is not None and self.low > self.best:
            raise ValueError("deaths.low must not exceed deaths.best")
        if self.high is not None and self.best is not None and self.best > self.high:
            raise ValueError("deaths.best must not exceed deaths.high")
        return self


SpanField = Literal["attacker", "target", "weapon", "victims", "place", "date", "reported_by"]


class Span(BaseModel):
    """Where a field's value stands in the article: `text[start:end]` is the value as written."""

    model_config = ConfigDict(extra="forbid")

    start: NonNegativeInt
    end: NonNegativeInt
    confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The model's probability of this value (staged prompts, from token "
        "log-probabilities): low means it was unsure; None for what code read.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end <= self.start:
            raise ValueError("a span must end after it starts")
        return self


class Event(BaseModel):
    """One attack by one attacker on one target at one place on one day."""

    model_config = ConfigDict(extra="forbid")

    event_type: EventType
    sub_event_type: SubEventType
    attacker: str | None = None
    target: str | None = None
    weapon: str | None = None
    victims: str | None = None
    location: Location = Field(default_factory=Location)
    date: EventDate = Field(default_factory=EventDate)
    deaths: Deaths = Field(default_factory=Deaths)
    injured: NonNegativeInt | None = None
    reported_by: str | None = None
    certainty: Certainty = Certainty.CLAIMED
    prominence: Prominence = Prominence.MAIN
    evidence: list[Evidence] = Field(min_length=1)
    grounded: bool = Field(description="True when at least one evidence quote was found.")
    confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The model's probability that the evidence reports an attack (staged "
        "prompts, from token log-probabilities); None where the endpoint gives none.",
    )
    spans: dict[SpanField, Span] = Field(
        default_factory=dict,
        description="Offsets of the text fields taken verbatim from the article (the date "
        "span is date.text's). A field without a span was not grounded in the text.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Event:
        if self.event_type is not self.sub_event_type.event_type:
            raise ValueError(
                f"sub_event_type {self.sub_event_type.value!r} belongs to "
                f"{self.sub_event_type.event_type.value!r}, not {self.event_type.value!r}"
            )
        found = any(e.match is not MatchKind.MISSING for e in self.evidence)
        if self.grounded != found:
            raise ValueError("grounded must say whether any evidence was found")
        return self


class Usage(BaseModel):
    """What one extraction cost. A cache hit reports zero tokens: nothing was generated."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: NonNegativeInt = 0
    completion_tokens: NonNegativeInt = 0
    seconds: float = 0.0
    cached: bool = Field(default=False, description="True when every chunk came from the cache.")
    model_calls: NonNegativeInt = 0
    cache_hits: NonNegativeInt = 0


class ArticleEvents(BaseModel):
    """All events of one article, plus where they came from and what they cost."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    headlines: list[str] = Field(default_factory=list)
    published: dt.date | None = Field(
        default=None,
        description="Publication date, when the text states one or the caller gave it.",
    )
    published_from: Literal["text", "caller"] | None = None
    events: list[Event] = Field(default_factory=list)
    text_sha256: str | None = Field(
        default=None, description="sha256 of the exact text that the evidence offsets index."
    )
    chars: NonNegativeInt | None = None
    model: str | None = None
    prompt: str | None = Field(default=None, description="Prompt template as 'name@version'.")
    usage: Usage | None = None
    warnings: list[str] = Field(default_factory=list)
