"""Typed event records from news articles.

    from service import extract
    record = extract(open("seeds/004_e703eae0c918574b.txt").read())
    for event in record.events:
        print(event.sub_event_type, event.attacker, "->", event.target, event.evidence[0].quote)

`extract` keeps one `Extractor` (and so one embedded model server) per settings
for the life of the process; create an `Extractor` yourself to control that.

The names below are imported on first use, not with the package: `service.client`,
all a remote caller needs, must not pay for the model stack (openai, instructor).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from service.errors import (
    DeadlineExceeded,
    EndpointError,
    ExtractionError,
    InputError,
    ModelOutputError,
    ModelUnavailableError,
)

if TYPE_CHECKING:
    from schemas.events import ArticleEvents
    from service.config import Settings
    from service.extractor import Extractor
    from service.shared import extract, shared_extractor

_LAZY = {
    "ArticleEvents": "schemas.events",
    "Settings": "service.config",
    "Extractor": "service.extractor",
    "extract": "service.shared",
    "shared_extractor": "service.shared",
}

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


def __getattr__(name: str) -> Any:
    """The heavy names, imported when first asked for (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'service' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
