"""Typed event records from news articles.

    from service import extract
    record = extract(open("seeds/004_e703eae0c918574b.txt").read())
    for event in record.events:
        print(event.sub_event_type, event.attacker, "->", event.target, event.evidence[0].quote)

`extract` keeps one `Extractor` (and so one embedded model server) per settings
for the life of the process; create an `Extractor` yourself to control that.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading

from schemas.events import ArticleEvents
from service.config import Settings
from service.errors import (
    DeadlineExceeded,
    EndpointError,
    ExtractionError,
    InputError,
    ModelOutputError,
    ModelUnavailableError,
)
from service.extractor import Extractor
from service.redact import reveal

__all__ = [
    "ArticleEvents",
    "DeadlineExceeded",
    "EndpointError",
    "ExtractionError",
    "Extractor",
    "InputError",
    "ModelOutputError",
    "ModelUnavailableError",
    "Settings",
    "extract",
    "shared_extractor",
]

_shared: dict[tuple[str, str | None], Extractor] = {}
_shared_lock = threading.Lock()


def extract(
    text: str | bytes,
    *,
    settings: Settings | None = None,
    id: str | None = None,
    published: dt.date | None = None,
) -> ArticleEvents:
    """Extract the events of one article (str, or UTF-8 bytes; plain text or HTML)."""
    return shared_extractor(settings or Settings()).extract(text, id=id, published=published)


def shared_extractor(settings: Settings) -> Extractor:
    """The process-wide Extractor for these settings, created on first use.

    The key holds the API key itself (only in memory): its JSON form masks secrets,
    and two keys must not share one client.
    """
    key = (settings.model_dump_json(), reveal(settings.api_key))
    with _shared_lock:
        extractor = _shared.get(key)
        if extractor is None:
            extractor = _shared[key] = Extractor(settings)
        return extractor


@atexit.register
def _close_shared() -> None:
    for extractor in _shared.values():
        extractor.close()
    _shared.clear()
