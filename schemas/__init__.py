"""Pydantic schemas: `ArticleEvents` records for callers, `ArticleDraft` for the model."""

from schemas.draft import ArticleDraft, EventDraft
from schemas.events import (
    ArticleEvents,
    Deaths,
    Event,
    EventDate,
    Evidence,
    Location,
    Span,
    Usage,
)
from schemas.vocab import (
    Certainty,
    DatePrecision,
    EventType,
    MatchKind,
    Prominence,
    SubEventType,
)

__all__ = [
    "ArticleDraft",
    "ArticleEvents",
    "Certainty",
    "DatePrecision",
    "Deaths",
    "Event",
    "EventDate",
    "EventDraft",
    "EventType",
    "Evidence",
    "Location",
    "MatchKind",
    "Prominence",
    "Span",
    "SubEventType",
    "Usage",
]
