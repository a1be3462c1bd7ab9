"""Linked events: one real-world event, every article that reported it.

`ArticleEvents` holds what one article says; a `LinkedEvent` holds what several say
about one event. Each source keeps its own record untouched (its figures, its
attribution, its evidence with offsets into its own text), so conflicting figures
stay side by side; the canonical fields on top are chosen by the rules in
docs/linking.md and say which source they came from where that matters (`date_from`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from schemas.events import Deaths, Event, EventDate, Location
from schemas.vocab import Certainty, DatePrecision, EventType, Prominence, SubEventType


class InferredDate(BaseModel):
    """A date this source does not give, taken from a linked source that resolves one."""

    model_config = ConfigDict(extra="forbid")

    value: dt.date
    precision: DatePrecision
    from_article: str = Field(description="Id of the article whose resolved date this is.")


class SourceReport(BaseModel):
    """One article's report of the event: its own record, unchanged, and where it is."""

    model_config = ConfigDict(extra="forbid")

    article: str = Field(description="The article's record id.")
    event_index: NonNegativeInt = Field(description="Index of the event in that record.")
    published: dt.date | None = None
    event: Event
    inferred_date: InferredDate | None = Field(
        default=None, description="Set when this source has no resolved date of its own."
    )


class LinkDecision(BaseModel):
    """Why two reports were joined: the pair's link score (docs/linking.md)."""

    model_config = ConfigDict(extra="forbid")

    a: str = Field(description="'article#event_index'")
    b: str
    score: float = Field(description="Summed log-odds weights; linked at >= the threshold.")


class Coordinates(BaseModel):
    """Where a gazetteer puts the place, with an ACLED-style geo-precision code."""

    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    geo_precision: Literal[1, 2] = Field(
        description="1: the named town itself; 2: a place described near or within that town."
    )
    gazetteer_name: str


class LinkedEvent(BaseModel):
    """One real-world event with one canonical record and every source that reported it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable: derived from the member reports' ids.")
    event_type: EventType
    sub_event_type: SubEventType
    attacker: str | None = None
    target: str | None = None
    weapon: str | None = None
    location: Location = Field(default_factory=Location)
    coordinates: Coordinates | None = None
    date: EventDate = Field(default_factory=EventDate)
    date_from: str | None = Field(
        default=None, description="Article whose date was chosen (the finest resolved one)."
    )
    deaths: Deaths = Field(
        default_factory=Deaths,
        description="Across sources: best = low = lowest figure given, high = highest.",
    )
    injured: NonNegativeInt | None = None
    certainty: Certainty
    prominence: Prominence
    sources: list[SourceReport] = Field(min_length=1)
    links: list[LinkDecision] = Field(default_factory=list)

    @property
    def articles(self) -> list[str]:
        return sorted({s.article for s in self.sources})
