"""Which failures are worth another try, and how long to wait before it.

Transport trouble (connection, timeout, 429, 5xx) is retried with exponential
backoff and jitter, honouring a server's Retry-After (seconds or an HTTP date). An
answer over the size cap is refused, not retried. A schema-invalid answer is
not a transport problem: instructor re-asks the model for those, a bounded number
of times, before we give up with a typed error.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math

import openai
from instructor.core.exceptions import InstructorRetryException
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from service.infra.transport import AnswerTooLarge, Budget, MalformedAnswer

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 120.0
_backoff = wait_exponential_jitter(initial=1, max=30, jitter=1)


def root_cause(exc: BaseException) -> BaseException:
    """instructor wraps endpoint errors in InstructorRetryException; look beneath.

    openai reports a malformed or oversized 200 as a connection error: name what it was.
    """
    while isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, openai.APIConnectionError) and isinstance(
        exc.__cause__, MalformedAnswer | AnswerTooLarge
    ):
        return exc.__cause__
    return exc


def is_transient(exc: BaseException) -> bool:
    cause = root_cause(exc)
    if isinstance(cause, (openai.APIConnectionError, openai.APITimeoutError, MalformedAnswer)):
        return True  # APITimeoutError is a subclass, listed for the reader
    if isinstance(cause, openai.APIStatusError):
        return cause.status_code in (408, 409, 429) or cause.status_code >= 500
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After header), if it said so.

    RFC 9110 allows seconds or an HTTP date; a date in the past means now.
    """
    cause = root_cause(exc)
    if not isinstance(cause, openai.APIStatusError):
        return None
    value = cause.response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _until(value)
    if seconds is None or not math.isfinite(seconds):
        return None  # 'nan', 'inf' or no date is no answer either
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _until(date: str) -> float | None:
    """Seconds from now to an HTTP date, or None when it is no date."""
    try:
        when = email.utils.parsedate_to_datetime(date)
    except (ValueError, OverflowError):  # no date; or a day number past any C long
        return None
    if when.tzinfo is None:  # "-0000" or the asctime form: HTTP dates are in UTC
        when = when.replace(tzinfo=dt.UTC)
    return (when - dt.datetime.now(dt.UTC)).total_seconds()


def _wait(state: RetryCallState) -> float:
    backoff = _backoff(state)
    exc = state.outcome.exception() if state.outcome else None
    asked = retry_after(exc) if exc else None
    return max(asked, backoff) if asked is not None else backoff


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning(
        "transient endpoint error (%s), attempt %d, retrying in %.1fs",
        type(root_cause(exc)).__name__ if exc else "?",
        state.attempt_number,
        state.upcoming_sleep,
    )


class _out_of_time(stop_base):
    """Stop when the wait before the next attempt would pass the article's deadline."""

    def __init__(self, spent: Budget) -> None:
        self.spent = spent

    def __call__(self, state: RetryCallState) -> bool:
        left = self.spent.remaining()
        if not self.spent.expired and left <= state.upcoming_sleep:
            self.spent.expired = True
            if left > 0:  # stopped short of the deadline, not past it
                self.spent.retry_wait = state.upcoming_sleep
        return self.spent.expired


def transport_retrying(max_attempts: int, spent: Budget | None = None) -> Retrying:
    """tenacity policy for one model call; with a budget, no retry starts past its deadline."""
    stop = stop_after_attempt(max_attempts)
    return Retrying(
        stop=stop if spent is None else stop | _out_of_time(spent),
        wait=_wait,
        retry=retry_if_exception(is_transient),
        before_sleep=_log_retry,
        reraise=True,
    )
