"""The extraction pipeline: text -> prompt -> model (cached, retried) -> checked records."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from typing import Any

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, ValidationError

from schemas.draft import ArticleDraft
from schemas.events import ArticleEvents, Event, Usage
from service.backends import EndpointManager
from service.cache import ResponseCache, cache_key
from service.config import Settings
from service.dates import find_published
from service.errors import EndpointError, ExtractionError, ModelOutputError
from service.logs import CallLog
from service.pipeline import extract_events
from service.pipeline.types import Ask
from service.records import build_event, grounded_headlines, merge_duplicates
from service.retry import is_transient, root_cause, transport_retrying
from service.templates import PromptTemplate, load_template
from service.text import chunk_text, read_article

log = logging.getLogger(__name__)


class Extractor:
    """A reusable extractor: keeps the embedded server, cache and log open across calls.

    Thread-safe: concurrent `extract` calls share one model and one cache.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self.template: PromptTemplate = load_template(self.settings.prompt)
        self.endpoints = EndpointManager(self.settings)
        cache_dir = self.settings.cache_dir
        self.cache = ResponseCache(cache_dir / "responses" if self.settings.use_cache else None)
        self.calls = CallLog(cache_dir / "logs.db" if self.settings.log_prompts else None)
        self._client: instructor.Instructor | None = None
        self._client_lock = threading.Lock()

    # -- public API
    def extract(
        self,
        text: str | bytes,
        *,
        id: str | None = None,
        published: dt.date | None = None,
    ) -> ArticleEvents:
        """Events of one article. Raises a subclass of `ExtractionError` on failure."""
        started = time.perf_counter()
        article = read_article(text, max_chars=self.settings.max_chars)
        stated = find_published(article)
        reference = published or stated
        usage = Usage()

        def ask(stage: str, messages: list[dict[str, str]], model: type[BaseModel]) -> Any:
            return self._ask(stage, messages, model, usage)

        if self.template.staged:
            headlines: list[str] = []
            events, warnings = extract_events(
                ask, self.template, article, reference, self.settings.chunk_chars
            )
        else:
            events, headlines, warnings = self._one_shot(ask, article, reference)
        usage.cached = usage.model_calls == 0 and usage.cache_hits > 0
        usage.seconds = round(time.perf_counter() - started, 3)
        return ArticleEvents(
            id=id,
            headlines=headlines,
            published=reference,
            published_from="caller" if published else ("text" if stated else None),
            events=events,
            text_sha256=hashlib.sha256(article.encode()).hexdigest(),
            chars=len(article),
            model=self.endpoints.ref().name,
            prompt=self.template.ref,
            usage=usage,
            warnings=warnings,
        )

    def with_prompt(self, prompt: str) -> Extractor:
        """The same model, cache and log under another prompt template: no second server.

        Close only the original; the copy shares everything it holds.
        """
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update={"prompt": prompt})
        other.template = load_template(prompt)
        return other

    def close(self) -> None:
        self.endpoints.close()
        self.cache.close()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one_shot(
        self, ask: Ask, article: str, reference: dt.date | None
    ) -> tuple[list[Event], list[str], list[str]]:
        """The baseline: one prompt, one `ArticleDraft` per chunk (extract_events@vN)."""
        events: list[Event] = []
        headlines: list[str] = []
        warnings: list[str] = []
        chunks = chunk_text(article, self.settings.chunk_chars)
        if len(chunks) > 1:
            warnings.append(f"long article: read in {len(chunks)} overlapping chunks")
        for chunk in chunks:
            draft = ask("draft", self.template.render(chunk.text), ArticleDraft)
            events += [build_event(e, article, reference) for e in draft.events]
            headlines += draft.headlines
        headlines, dropped = grounded_headlines(headlines, article)
        events = merge_duplicates(events)
        warnings += dropped
        warnings += [
            f"event {i}: evidence not found in the article"
            for i, e in enumerate(events)
            if not e.grounded
        ]
        return events, headlines, warnings

    # -- one model call, through the cache
    def _ask(
        self,
        stage: str,
        messages: list[dict[str, str]],
        response_model: type[BaseModel],
        usage: Usage,
    ) -> Any:
        """A validated answer: from the cache, or from the model (then cached and logged)."""
        ref = self.endpoints.ref()
        s = self.settings
        sampling = {"temperature": s.temperature, "seed": s.seed, "max_tokens": s.max_tokens}
        key = cache_key(
            endpoint=ref.identity,
            mode=ref.mode.value,
            template=[self.template.ref, self.template.sha256],
            schema=response_model.model_json_schema(),
            messages=messages,
            sampling=sampling,
            max_reasks=s.max_reasks,
            llguidance=s.uses_llguidance(),
        )
        hit = self.cache.get(key)
        if hit is not None:
            usage.cache_hits += 1
            return response_model.model_validate(hit["draft"])
        started = time.perf_counter()
        endpoint = self.endpoints.endpoint()  # starts the embedded server on the first miss
        row = {
            "endpoint": endpoint.identity,
            "model": endpoint.model,
            "prompt": f"{self.template.ref}:{stage}" if self.template.staged else self.template.ref,
        }
        try:
            answer, completion = self._call(endpoint.model, messages, sampling, response_model)
        except ExtractionError as exc:
            self.calls.record(
                **row,
                cache_key=key,
                messages=messages,
                error=str(exc),
                seconds=time.perf_counter() - started,
            )
            raise
        seconds = time.perf_counter() - started
        tokens = {
            "prompt_tokens": getattr(completion.usage, "prompt_tokens", 0) or 0,
            "completion_tokens": getattr(completion.usage, "completion_tokens", 0) or 0,
        }
        dumped = answer.model_dump(mode="json")
        self.calls.record(
            **row,
            cache_key=key,
            messages=messages,
            response=json.dumps(dumped, ensure_ascii=False),
            seconds=seconds,
            **tokens,
        )
        self.cache.set(key, {"draft": dumped, **tokens, "seconds": seconds})
        usage.model_calls += 1
        usage.prompt_tokens += tokens["prompt_tokens"]
        usage.completion_tokens += tokens["completion_tokens"]
        return answer

    def _call(
        self,
        model: str,
        messages: list[dict[str, str]],
        sampling: dict[str, Any],
        response_model: type[BaseModel],
    ) -> tuple[Any, Any]:
        """The model call with transport retries outside and schema re-asks inside."""
        client = self._instructor()
        try:
            for attempt in transport_retrying(self.settings.max_attempts):
                with attempt:
                    return client.chat.completions.create_with_completion(
                        model=model,
                        messages=messages,  # type: ignore[arg-type]
                        response_model=response_model,
                        max_retries=self.settings.max_reasks,
                        strict=False,
                        **sampling,
                    )
        except Exception as exc:
            raise _typed(exc, self.settings) from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _instructor(self) -> instructor.Instructor:
        with self._client_lock:
            if self._client is None:
                self._client = self.endpoints.client()
            return self._client


def _typed(exc: Exception, settings: Settings) -> ExtractionError:
    """One line that says what failed, with no secret and no stack trace."""
    if isinstance(exc, ExtractionError):
        return exc
    cause = root_cause(exc)
    secret = settings.api_key.get_secret_value() if settings.api_key else None
    if is_transient(exc):
        return EndpointError(
            f"model endpoint failed {settings.max_attempts} times: {type(cause).__name__}: "
            f"{_short(cause, secret)}"
        )
    if isinstance(cause, openai.APIStatusError):  # 400, 401, 404...: our request was refused
        return EndpointError(
            f"model endpoint refused the request (HTTP {cause.status_code}): "
            f"{_short(cause, secret)}"
        )
    if isinstance(cause, IncompleteOutputException):
        return ModelOutputError(f"the answer was cut off at max_tokens={settings.max_tokens}")
    if isinstance(cause, ValidationError | ValueError) or isinstance(exc, InstructorRetryException):
        return ModelOutputError(
            f"the model's answer did not fit the schema after {settings.max_reasks} re-ask(s): "
            f"{_short(cause, secret)}"
        )
    return EndpointError(f"model call failed: {type(cause).__name__}: {_short(cause, secret)}")


def _short(exc: BaseException, secret: str | None) -> str:
    """The first 300 characters of an error, with the API key cut out (servers echo it)."""
    text = " ".join(str(exc).split())
    return (text.replace(secret, "[redacted]") if secret else text)[:300]
