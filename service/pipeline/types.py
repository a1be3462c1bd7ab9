"""What the stages pass to one another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel


@dataclass(frozen=True)
class Numbered:
    """A sentence as the model sees it: `[number] text`, with its offsets in the article."""

    number: int  # 1-based, among the sentences shown to the model
    start: int
    end: int
    text: str


class Ask(Protocol):
    """One cached, retried, logged model call that returns a validated `response_model`."""

    def __call__(
        self, stage: str, messages: list[dict[str, str]], response_model: type[BaseModel]
    ) -> BaseModel: ...
