"""Transient endpoint errors are retried with backoff; everything else fails at once."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import httpx
import openai
import pytest
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel, ValidationError

from service.infra.retry import is_transient, retry_after, transport_retrying

REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def status_error(code: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    response = httpx.Response(code, headers=headers or {}, request=REQUEST)
    cls = {429: openai.RateLimitError, 500: openai.InternalServerError}.get(
        code, openai.APIStatusError
    )
    return cls(f"status {code}", response=response, body=None)


def wrapped(exc: Exception) -> InstructorRetryException:
    """instructor wraps endpoint errors like this."""
    try:
        raise InstructorRetryException("wrapped", n_attempts=1, total_usage=0) from exc
    except InstructorRetryException as outer:
        return outer


def validation_error() -> ValidationError:
    class M(BaseModel):
        x: int

    try:
        M.model_validate({"x": "not a number"})
    except ValidationError as exc:
        return exc
    raise AssertionError


@pytest.mark.parametrize(
    "exc",
    [
        openai.APIConnectionError(request=REQUEST),
        openai.APITimeoutError(request=REQUEST),
        status_error(429),
        status_error(500),
        status_error(503),
        wrapped(status_error(502)),
    ],
)
def test_transport_trouble_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [status_error(400), status_error(401), status_error(404), validation_error(), ValueError("x")],
)
def test_client_errors_and_bad_answers_are_not_retried_as_transport(exc: Exception) -> None:
    assert not is_transient(exc)


def test_retry_after_is_read_and_capped() -> None:
    assert retry_after(status_error(429, {"Retry-After": "7"})) == 7.0
    assert retry_after(status_error(429, {"Retry-After": "100000"})) == 120.0
    assert retry_after(status_error(429)) is None
    assert retry_after(status_error(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(status_error(429, {"Retry-After": "nan"})) is None  # not a ValueError
    assert retry_after(status_error(429, {"Retry-After": "-inf"})) is None


def test_retry_after_as_an_http_date_is_the_seconds_until_it() -> None:
    """RFC 9110: an HTTP date instead of seconds; capped the same; a past date is now."""

    def asked(moment: dt.datetime | str) -> float | None:
        value = moment if isinstance(moment, str) else format_datetime(moment, usegmt=True)
        return retry_after(status_error(429, {"Retry-After": value}))

    now = dt.datetime.now(dt.UTC)
    wait = asked(now + dt.timedelta(seconds=30))
    assert wait is not None and 28 <= wait <= 30  # whole seconds, read a moment later
    assert asked(now + dt.timedelta(days=1)) == 120.0
    assert asked(now - dt.timedelta(hours=1)) == 0.0
    assert asked("Sun Nov  6 08:49:37 1994") == 0.0  # the obsolete asctime form, no zone
    assert asked("Wed, 32 Oct 2026 07:28:00 GMT") is None  # no such day
    assert asked("soon") is None


def test_a_rate_limited_call_is_retried_until_it_succeeds() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise status_error(429, {"Retry-After": "0"})
        return "ok"

    retrying = transport_retrying(max_attempts=4)
    retrying.sleep = lambda seconds: None  # no real waiting in tests
    assert retrying(flaky) == "ok"
    assert len(calls) == 3


def test_retries_are_bounded_and_the_last_error_surfaces() -> None:
    retrying = transport_retrying(max_attempts=2)
    retrying.sleep = lambda seconds: None
    calls = []

    def down() -> None:
        calls.append(1)
        raise openai.APIConnectionError(request=REQUEST)

    with pytest.raises(openai.APIConnectionError):
        retrying(down)
    assert len(calls) == 2


def test_the_wait_honours_retry_after_over_our_backoff() -> None:
    waits: list[float] = []
    retrying = transport_retrying(max_attempts=2)
    retrying.sleep = waits.append

    def limited() -> None:
        raise status_error(429, {"Retry-After": "45"})

    with pytest.raises(openai.RateLimitError):
        retrying(limited)
    assert waits == [45.0]


def test_a_bad_request_is_not_retried() -> None:
    retrying = transport_retrying(max_attempts=5)
    calls = []

    def bad() -> None:
        calls.append(1)
        raise status_error(400)

    with pytest.raises(openai.APIStatusError):
        retrying(bad)
    assert len(calls) == 1
