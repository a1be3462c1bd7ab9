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
from service.config import Settings
from service.core.checks import check_events
from service.core.dates import find_published
from service.core.logprobs import p_chosen, p_true
from service.core.records import build_event, grounded_headlines, merge_duplicates
from service.core.templates import PromptTemplate, load_template
from service.core.text import chunk_text, read_article
from service.errors import (
    Cancelled,
    DeadlineExceeded,
    EndpointError,
    ExtractionError,
    ModelOutputError,
)
from service.infra.backends import EndpointManager
from service.infra.cache import ResponseCache, cache_key
from service.infra.logs import CallLog
from service.infra.redact import redact, register_url, reveal, scrub
from service.infra.retry import is_transient, root_cause, transport_retrying
from service.infra.transport import AnswerTooLarge, Budget, budget
from service.pipeline import extract_events
from service.pipeline.accept import acceptor_for
from service.pipeline.types import Scored

log = logging.getLogger(__name__)
TOP_LOGPROBS = 5  # alternatives per token: enough to hold both "true" and "false"


class Extractor:
    """A reusable extractor: keeps the embedded server, cache and log open across calls.

    Thread-safe: concurrent `extract` calls share one model and one cache.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        base = settings or Settings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        reveal(self.settings.api_key)  # registered at once: no output may show it,
        register_url(self.settings.base_url)  # nor a password or token in the URL
        self.template: PromptTemplate = load_template(self.settings.prompt)
        self.endpoints = EndpointManager(self.settings)
        cache_dir = self.settings.cache_dir
        self.cache = ResponseCache(cache_dir / "responses" if self.settings.use_cache else None)
        self.calls = CallLog(cache_dir / "logs.db" if self.settings.log_prompts else None)
        self._client: instructor.Instructor | None = None
        self._client_lock = threading.Lock()
        self._active: set[Budget] = set()  # extractions in progress, for cancel()

    # -- public API
    def extract(
        self,
        text: str | bytes,
        *,
        id: str | None = None,
        published: dt.date | None = None,
    ) -> ArticleEvents:
        """Events of one article. Raises a subclass of `ExtractionError` on failure.

        The whole extraction, every chunk, retry and re-ask, ends within the `deadline`
        setting or raises `DeadlineExceeded`.
        """
        with budget(self.settings.deadline) as spent:
            with self._client_lock:
                self._active.add(spent)
            try:
                return self._extract(text, id, published, spent)
            finally:
                with self._client_lock:
                    self._active.discard(spent)

    def cancel(self) -> None:
        """Start no further model request for the extractions in progress (Ctrl-C).

        Each ends with `Cancelled` once its request in flight returns; a process that
        is exiting need not wait for that.
        """
        with self._client_lock:
            for spent in self._active:
                spent.cancel()

    def _extract(
        self, text: str | bytes, id: str | None, published: dt.date | None, spent: Budget
    ) -> ArticleEvents:
        started = time.perf_counter()
        article = read_article(text, max_chars=self.settings.max_chars)
        stated = find_published(article)
        reference = published or stated
        usage = Usage()
        if self.template.staged:
            headlines: list[str] = []
            events, warnings = self._staged(article, reference, usage, spent)
        else:
            events, headlines, warnings = self._one_shot(article, reference, usage, spent)
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

    def with_prompt(self, prompt: str | PromptTemplate, **settings: Any) -> Extractor:
        """The same model, cache and log under another prompt template: no second server.

        `prompt` is a 'name@version' or a template itself; `settings` may change how it
        is asked (sampling, thresholds, `llguidance`), not which model. Close only the
        original; the copy shares everything it holds but its client.
        """
        template = load_template(prompt) if isinstance(prompt, str) else prompt
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update={"prompt": template.ref, **settings})
        other.template = template
        other._client = None  # its own: the settings choose the transport
        return other

    def close(self) -> None:
        self.cancel()
        self.endpoints.close()
        self.cache.close()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _one_shot(
        self, article: str, reference: dt.date | None, usage: Usage, spent: Budget
    ) -> tuple[list[Event], list[str], list[str]]:
        """The baseline: one prompt, one `ArticleDraft` per chunk (extract_events@vN)."""
        events: list[Event] = []
        headlines: list[str] = []
        warnings: list[str] = []
        chunks = chunk_text(article, self.settings.chunk_chars)
        if len(chunks) > 1:
            warnings.append(f"long article: read in {len(chunks)} overlapping chunks")
        for done, chunk in enumerate(chunks):
            try:
                draft, call = self._ask("draft", self.template.render(chunk), ArticleDraft, spent)
            except DeadlineExceeded as exc:
                if len(chunks) == 1:
                    raise
                raise DeadlineExceeded(
                    f"{exc}; {done} of {len(chunks)} chunks were done and are cached"
                ) from None
            _count(usage, call)
            built, notes = self._events_of(draft, call, article, reference)
            events += built
            warnings += notes
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

    def _staged(
        self, article: str, reference: dt.date | None, usage: Usage, spent: Budget
    ) -> tuple[list[Event], list[str]]:
        """The staged pipeline (`service.pipeline`): many small constrained questions.

        Its answers are constrained to the article and validated per request, so each is
        cached as soon as it arrives; the built events then pass the same checks.
        """

        def ask(stage: str, messages: list[dict[str, str]], model: type[BaseModel]) -> Any:
            answer, call = self._ask(stage, messages, model, spent)
            _count(usage, call)
            if call["entry"] is not None:
                self.cache.set(call["key"], call["entry"])
            return answer

        events, warnings = extract_events(
            ask,
            self.template,
            article,
            reference,
            threshold=self.settings.resolved_attack_threshold(),
            field_threshold=self.settings.field_threshold,
            accept=acceptor_for(model) if (model := self.settings.acceptor_model()) else None,
        )
        checked, notes = check_events(events, article, reference)
        return checked, warnings + notes

    def _events_of(
        self, draft: ArticleDraft, call: dict[str, Any], text: str, reference: dt.date | None
    ) -> tuple[list[Event], list[str]]:
        """Checked records of one answer, and warnings; only an answer that builds is cached.

        An answer that fits the draft schema but not the record (a value out of range)
        is the model's error, typed, and never stored: a rerun asks the model again.
        Implausible values (a figure the evidence does not state, a future date) are
        set to None with a warning by `check_events`.
        """
        try:
            events = [build_event(e, text, reference) for e in draft.events]
        except (ValueError, ArithmeticError) as exc:  # ValidationError is a ValueError
            self.cache.delete(call["key"])  # an old entry must not fail every rerun
            raise ModelOutputError(
                f"the model's answer cannot become a record: {_short(exc)}"
            ) from None
        if call["entry"] is not None:
            self.cache.set(call["key"], call["entry"])
        return check_events(events, text, reference)

    # -- one model call, through the cache
    def _ask(
        self,
        stage: str,
        messages: list[dict[str, str]],
        response_model: type[BaseModel],
        spent: Budget,
    ) -> tuple[Any, dict[str, Any]]:
        """A validated answer, from the cache or the model.

        A fresh answer comes back with its cache `entry`; the caller stores it once it
        has become records (`_events_of`), or at once for the staged pipeline.
        """
        ref = self.endpoints.ref()
        s = self.settings
        sampling = {"temperature": s.temperature, "seed": s.seed, "max_tokens": s.max_tokens}
        if issubclass(response_model, Scored):
            sampling |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
        key = cache_key(
            endpoint=ref.identity,
            mode=ref.mode.value,
            schema=response_model.model_json_schema(),
            messages=messages,
            sampling=sampling,
            max_reasks=s.max_reasks,
            llguidance=s.uses_llguidance(),
        )
        hit = self.cache.get(key)
        if hit is not None:
            answer = response_model.model_validate(hit["draft"])
            cached = {"prompt_tokens": 0, "completion_tokens": 0, "model_calls": 0, "cached": True}
            return answer, {**cached, "key": key, "entry": None}
        endpoint = self.endpoints.endpoint()  # starts the embedded server on the first miss
        row = {
            "endpoint": endpoint.identity,
            "model": endpoint.model,
            "prompt": f"{self.template.ref}:{stage}" if self.template.staged else self.template.ref,
            "cache_key": key,
            "messages": messages,
        }
        first = len(spent.attempts)
        with self.calls.attempts() as logged:  # filled by instructor's hooks (`CallLog.watch`)
            try:
                parsed = self._call(endpoint.model, messages, sampling, spent, response_model)
            except ExtractionError as exc:
                self.calls.record(row, logged, failure=str(exc))
                raise
        attempts = spent.attempts[first:]
        answer = parsed.model_dump(mode="json")
        if (clean := scrub(answer)) != answer:  # a server echoed the key into its answer
            answer, parsed = clean, response_model.model_validate(clean)
        self.calls.record(row, logged, response=json.dumps(answer, ensure_ascii=False))
        tokens = {
            "prompt_tokens": sum(a.prompt_tokens for a in attempts),
            "completion_tokens": sum(a.completion_tokens for a in attempts),
        }
        entry = {"draft": answer, **tokens, "seconds": sum(a.seconds for a in attempts)}
        call = {**tokens, "model_calls": len(attempts), "cached": False}
        return parsed, {**call, "key": key, "entry": entry}

    def _call(
        self,
        model: str,
        messages: list[dict[str, str]],
        sampling: dict[str, Any],
        spent: Budget,
        response_model: type[BaseModel],
    ) -> Any:
        """The model call with transport retries outside and schema re-asks inside."""
        client = self._instructor()
        try:
            for attempt in transport_retrying(self.settings.max_attempts, spent):
                with attempt:
                    parsed, completion = client.chat.completions.create_with_completion(
                        model=model,
                        messages=messages,  # type: ignore[arg-type]
                        response_model=response_model,
                        max_retries=self.settings.max_reasks,
                        strict=False,
                        **sampling,
                    )
                    if isinstance(parsed, Scored):
                        parsed.p_true = p_true(completion)
                        parsed.p_chosen = p_chosen(completion, list(parsed.model_fields_set))
                    return parsed
        except Exception as exc:
            if spent.cancelled:
                raise Cancelled("the extraction was cancelled: the extractor closed") from None
            if spent.expired:
                raise _deadline_error(exc, spent, self.settings) from None
            raise _as_extraction_error(exc, self.settings) from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _instructor(self) -> instructor.Instructor:
        with self._client_lock:
            if self._client is None:
                self._client = self.endpoints.client(self.settings.uses_llguidance())
                self.calls.watch(self._client)
            return self._client


def _count(usage: Usage, call: dict[str, Any]) -> None:
    usage.prompt_tokens += call["prompt_tokens"]
    usage.completion_tokens += call["completion_tokens"]
    usage.model_calls += call["model_calls"]  # every request: retries and re-asks too
    usage.cache_hits += 1 if call["cached"] else 0


def _deadline_error(exc: Exception, spent: Budget, settings: Settings) -> DeadlineExceeded:
    """Past the deadline, or stopped short of it because the next retry would pass it."""
    deadline = f"its deadline of {settings.deadline:g} s (setting deadline)"
    last = f"last error: {type(root_cause(exc)).__name__}"
    if spent.retry_wait is None:
        return DeadlineExceeded(f"the article took longer than {deadline}; {last}")
    return DeadlineExceeded(
        f"the article stopped short of {deadline}: the next retry was due in "
        f"{spent.retry_wait:.1f} s, past it; {last}"
    )


def _as_extraction_error(exc: Exception, settings: Settings) -> ExtractionError:
    """One line that says what failed, with no secret and no stack trace."""
    if isinstance(exc, ExtractionError):
        return exc
    cause = root_cause(exc)
    if isinstance(cause, AnswerTooLarge):
        return EndpointError(f"model endpoint sent {_short(cause)}")
    if is_transient(exc):
        return EndpointError(
            f"model endpoint failed {settings.max_attempts} times: {type(cause).__name__}: "
            f"{_short(cause)}"
        )
    if isinstance(cause, openai.APIStatusError):  # 400, 401, 404...: our request was refused
        return EndpointError(
            f"model endpoint refused the request (HTTP {cause.status_code}): {_short(cause)}"
        )
    if isinstance(cause, IncompleteOutputException):
        return ModelOutputError(f"the answer was cut off at max_tokens={settings.max_tokens}")
    if isinstance(cause, ValidationError | ValueError) or isinstance(exc, InstructorRetryException):
        return ModelOutputError(
            f"the model's answer did not fit the schema after {settings.max_reasks} re-ask(s): "
            f"{_short(cause)}"
        )
    return EndpointError(f"model call failed: {type(cause).__name__}: {_short(cause)}")


def _short(exc: BaseException) -> str:
    """The first 300 characters of an error, with the API key cut out (servers echo it)."""
    return redact(" ".join(str(exc).split()))[:300]
