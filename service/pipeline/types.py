"""What the stages pass to one another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel
from pydantic.json_schema import SkipJsonSchema


@dataclass(frozen=True)
class Numbered:
    """A sentence as the model sees it: `[number] text`, with its offsets in the article."""

    number: int  # 1-based, among the sentences shown to the model
    start: int
    end: int
    text: str
    p_attack: float | None = None  # set by `detect`


class Scored(BaseModel):
    """An answer the model's token probabilities score, to abstain where it is unsure.

    Neither score is part of the schema the model sees: the extractor asks the endpoint
    for log-probabilities and fills `p_true` with P(true) / (P(true) + P(false)) at the
    first boolean the model wrote, and `p_chosen` with each top-level field's probability
    of the value the model wrote. Both stay None where an endpoint returns no
    log-probabilities.
    """

    p_true: SkipJsonSchema[float | None] = None
    p_chosen: SkipJsonSchema[dict[str, float] | None] = None


class Ask(Protocol):
    """One cached, retried, logged model call that returns a validated `response_model`."""

    def __call__(
        self, stage: str, messages: list[dict[str, str]], response_model: type[BaseModel]
    ) -> BaseModel: ...
