"""On-disk cache of model answers, keyed by everything that can change the answer.

The key covers the endpoint's identity (a GGUF's sha256, or URL + model name),
the answer schema, the rendered messages (all a template changes reaches the model
through them, so a template's new block leaves the old questions' answers valid) and
the sampling settings; never the API key. Only a validated answer is ever stored, in one
atomic write, so a crash cannot leave a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import diskcache

CACHE_FORMAT = 2  # 2: the template's digest left the key (the messages carry it)


def cache_key(**parts: Any) -> str:
    """sha256 of the canonical JSON of the parts."""
    blob = json.dumps({"format": CACHE_FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """diskcache-backed store with hit and miss counters for this process."""

    def __init__(self, directory: Path | None) -> None:
        self._store = diskcache.Cache(str(directory)) if directory is not None else None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._store is not None

    def get(self, key: str) -> dict[str, Any] | None:
        if self._store is None:
            return None
        value = self._store.get(key)
        with self._lock:
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
        return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        if self._store is not None:
            self._store.set(key, value)

    def delete(self, key: str) -> None:
        if self._store is not None:
            self._store.delete(key)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses}

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
