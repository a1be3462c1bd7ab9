"""The process-wide extractors behind `service.extract`: one per distinct configuration."""

from __future__ import annotations

import atexit
import datetime as dt
import threading

from schemas.events import ArticleEvents
from service.config import Settings
from service.extractor import Extractor
from service.infra.redact import reveal

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
