"""Scores read from token log-probabilities: what abstention and thresholds rest on.

The completions are shaped as llama.cpp's OpenAI-compatible server sends them (one entry
per output token, each with its top alternatives), built with openai's own types.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from service.core.logprobs import p_chosen, p_true


def _completion(tokens: list[tuple[str, dict[str, float]]]) -> ChatCompletion:
    """A completion whose answer is the chosen tokens, each with its alternatives."""
    content = [
        {
            "token": chosen,
            "logprob": math.log(alternatives.get(chosen, 1.0)),
            "bytes": None,
            "top_logprobs": [
                {"token": t, "logprob": math.log(p), "bytes": None} for t, p in alternatives.items()
            ],
        }
        for chosen, alternatives in tokens
    ]
    return _chat("".join(t for t, _ in tokens), {"content": content})


def _chat(answer: str, logprobs: dict[str, Any] | None) -> ChatCompletion:
    """A one-choice completion with `answer` as its text."""
    choice = {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": answer},
        "logprobs": logprobs,
    }
    return ChatCompletion.model_validate(
        {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}
    )


def _sure(token: str) -> tuple[str, dict[str, float]]:
    return token, {token: 1.0}


def test_p_true_weighs_true_against_false_at_the_first_boolean() -> None:
    answer = [_sure('{"'), _sure("attack"), _sure('":'), ("true", {"true": 0.6, "false": 0.2})]
    assert p_true(_completion([*answer, _sure("}")])) == pytest.approx(0.75)


def test_compact_json_decides_a_value_or_null_right_after_the_key() -> None:
    """`{"attacker":"US","victims":null}`: a string follows in the same token as the
    colon (`":"`); a null leaves the colon alone (`":`) and is written next."""
    answer = [
        _sure('{"'),
        _sure("attacker"),
        ('":"', {'":"': 0.8, '":': 0.2}),
        _sure("US"),
        _sure('","'),
        _sure("victims"),
        ('":', {'":': 0.7, '":"': 0.3}),
        ("null", {"null": 0.9, '"': 0.1}),
        _sure("}"),
    ]
    scores = p_chosen(_completion(answer), ["attacker", "victims", "place"])
    assert scores == pytest.approx({"attacker": 0.8, "victims": 0.9})  # no place key


def test_spaced_json_decides_at_the_token_after_the_space_then_weighs_the_words() -> None:
    """`{"place": "Al Hillah"}`: a value (0.5), then "Al" (0.4 against "Baghdad")."""
    answer = [
        _sure('{"'),
        _sure("place"),
        _sure('":'),
        (' "', {' "': 0.5, " null": 0.5}),
        ("Al", {"Al": 0.4, "Baghdad": 0.6}),
        _sure(" Hillah"),
        _sure('"}'),
    ]
    assert p_chosen(_completion(answer), ["place"]) == pytest.approx({"place": 0.2})


def test_without_log_probabilities_there_is_no_score() -> None:
    bare = _chat('{"attack": true}', None)
    assert p_true(bare) is None and p_chosen(bare, ["attack"]) is None
