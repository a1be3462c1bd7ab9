"""What the HTTP app shares between requests: an extractor per prompt, and coalescing."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Literal

from schemas.events import ArticleEvents
from service.core.templates import PromptTemplate
from service.errors import ExtractionError
from service.extractor import Extractor

log = logging.getLogger(__name__)


class Extractors:
    """One Extractor per prompt version, all on the default one's model endpoint.

    Only the prompt differs between them, so they share the endpoint manager and
    with it the one embedded llama.cpp server. Also tracks whether the model loaded.
    """

    def __init__(
        self, default: Extractor, prompts: Iterable[PromptTemplate], *, owned: bool
    ) -> None:
        self.default = default
        self._owned = owned
        self._templates = {t.ref: t for t in prompts} | {default.template.ref: default.template}
        self._by_prompt = {default.template.ref: default}
        self._lock = threading.Lock()
        self.warmed = threading.Event()
        self.load_error: str | None = None

    @property
    def prompts(self) -> list[str]:
        """Every 'name@version' a request may choose."""
        return sorted(self._templates)

    def get(self, prompt: str | None) -> Extractor:
        """The extractor of a prompt in `prompts` (the default's for None)."""
        if prompt is None:
            return self.default
        with self._lock:
            extractor = self._by_prompt.get(prompt)
            if extractor is None:
                template = self._templates[prompt]
                extractor = self._by_prompt[prompt] = self.default.with_prompt(template)
            return extractor

    def warm(self) -> None:
        """Load the model at start-up rather than in the first request; health shows progress."""
        try:
            self.default.endpoints.endpoint()
        except ExtractionError as exc:
            self.load_error = str(exc)
        except Exception:
            log.exception("loading the model failed")
            self.load_error = "unexpected error while loading the model (see the server log)"
        finally:
            self.warmed.set()

    def status(self) -> Literal["ok", "loading", "error"]:
        if not self.warmed.is_set():
            return "loading"
        return "error" if self.load_error else "ok"

    def cancel(self) -> None:
        """Start no further model request (shutdown): nobody will read the answers."""
        with self._lock:
            for extractor in self._by_prompt.values():
                extractor.cancel()

    def close(self) -> None:
        with self._lock:
            if self._owned:  # the prompt variants share the default's model, cache and log
                self.default.close()


class _Flight:
    """One extraction in progress, and the identical requests waiting for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: ExtractionError | None = None
        self.waiters = 0


class Coalescer:
    """Identical concurrent requests share one extraction: its answer or its failure.

    The first runs; the others wait. When it succeeds they read its answer from the
    cache at once; when it fails they get the same typed error at once, instead of
    each retrying an endpoint that is down, one after another.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}

    def run(self, key: str, extract: Callable[[], ArticleEvents]) -> ArticleEvents:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                flight.waiters += 1
            else:
                self._flights[key] = _Flight()
        if flight is not None:
            flight.done.wait()
            if flight.error is not None:
                raise copy.copy(flight.error)
            return extract()  # from the cache now
        flight = self._flights[key]
        try:
            return extract()
        except ExtractionError as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def waiting(self) -> int:
        """Requests waiting for an identical one (for tests and diagnostics)."""
        with self._lock:
            return sum(f.waiters for f in self._flights.values())
