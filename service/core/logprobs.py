"""Scores read from an answer's token log-probabilities, to abstain where the model is unsure.

llama.cpp, vLLM and OpenAI send, with `logprobs`/`top_logprobs`, each output token and
its most likely alternatives. A JSON answer's decisions sit at known tokens: the first
boolean (`detect`'s "does it report an attack?") and the token after each key (a value
or null, and which value). Reading them costs no extra call and no output token.
"""

from __future__ import annotations

import itertools
import math
from typing import Any


def _tokens(completion: Any) -> list[Any]:
    """The answer's tokens with their top log-probabilities; [] when the endpoint sent none."""
    choice = completion.choices[0] if getattr(completion, "choices", None) else None
    return getattr(getattr(choice, "logprobs", None), "content", None) or []


def p_true(completion: Any) -> float | None:
    """P(true) against P(false) at the first boolean token of an answer, from its top
    log-probabilities; None when the endpoint sent none (some do not support them)."""
    for token in _tokens(completion):
        if token.token.strip() not in ("true", "false"):
            continue
        mass = {"true": 0.0, "false": 0.0}
        for alt in token.top_logprobs or [token]:
            if (word := alt.token.strip()) in mass:
                mass[word] += math.exp(alt.logprob)
        total = mass["true"] + mass["false"]
        return mass["true"] / total if total else None
    return None


def p_chosen(completion: Any, fields: list[str]) -> dict[str, float] | None:
    """Each field's probability of the value the model wrote, from its tokens' top
    log-probabilities: P(a value rather than null) times each token of the value's text.

    After `"field":` the answer's next character is `"` (a value) or `n` (null). The
    first token that reaches past the colon and fixes that character is the decision;
    its alternatives are sorted by the character they would put there. An alternative
    that stops at the colon counts against a value: tokenizers write `":"` when a string
    follows (compact JSON), so `":` alone leads to null. A null scores its own
    probability. None without log-probabilities.
    """
    tokens = _tokens(completion)
    if not tokens:
        return None
    content = "".join(t.token for t in tokens)
    starts = list(itertools.accumulate((len(t.token) for t in tokens), initial=0))
    found: dict[str, float] = {}
    for field in fields:
        key = content.find(f'"{field}":')
        if key < 0:
            continue
        colon = key + len(field) + 3  # just after the colon
        for i, (start, token) in enumerate(zip(starts, tokens, strict=False)):
            end = start + len(token.token)
            if end < colon or (chosen := _decides(content[:end], colon)) == "":
                continue  # the value is not decided before this token
            mass = {'"': 0.0, "n": 0.0, "": 0.0}
            for alt in token.top_logprobs or [token]:
                if (decided := _decides(content[:start] + alt.token, colon)) in mass:
                    mass[decided] += math.exp(alt.logprob)
            if (total := sum(mass.values())) and chosen in ('"', "n"):
                found[field] = mass[chosen] / total
                if chosen == '"':  # and the text between the quotes, token by token
                    opening = content.index('"', colon)
                    closing = content.find('"', opening + 1)
                    for later, rest in zip(starts[i + 1 :], tokens[i + 1 :], strict=False):
                        if later >= closing:
                            break
                        found[field] *= math.exp(rest.logprob)
            break
    return found


def _decides(text: str, colon: int) -> str | None:
    """What `text` puts after the colon: '"' (a value), 'n' (null), '' (nothing yet), or
    None (text that never reaches the colon, or something else)."""
    if len(text) < colon:
        return None
    rest = text[colon:].lstrip()
    return rest[:1] if rest[:1] in ('"', "n", "") else None
