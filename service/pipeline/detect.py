"""Stage 2, detect: which sentences report attacks, grouped one list per attack.

The model answers with sentence numbers only (a few tokens, not a copied quote), and
the per-request schema allows only numbers that exist, so evidence is exact by
construction: its offsets come from the sentence splitter.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from service.pipeline.types import Ask, Numbered
from service.templates import PromptTemplate

MAX_EVENTS = 12  # a cap on one article's (or one window's) answer, against runaway lists
MAX_SENTENCES = 8  # sentences cited for one attack


def detect_model(numbers: list[int]) -> type[BaseModel]:
    """{"events": [[3, 5], [9]]}, where only the shown sentence numbers are allowed."""
    number = Literal[tuple(numbers)]  # type: ignore[valid-type]
    group = Annotated[list[number], Field(min_length=1, max_length=MAX_SENTENCES)]
    return create_model(
        "Attacks",
        __config__=ConfigDict(extra="forbid"),
        events=(list[group], Field(max_length=MAX_EVENTS)),  # type: ignore[valid-type]
    )


def detect(ask: Ask, template: PromptTemplate, shown: list[Numbered]) -> list[list[Numbered]]:
    """Groups of sentences, one group per attack, in the order the model gave them.

    Repeated numbers inside a group and groups identical to an earlier one are dropped:
    the same attack listed twice is one attack.
    """
    if not shown:
        return []
    by_number = {s.number: s for s in shown}
    messages = template.render_stage("detect", sentences=shown)
    answer = ask("detect", messages, detect_model(list(by_number)))
    groups: list[list[Numbered]] = []
    seen: set[tuple[int, ...]] = set()
    for numbers in answer.events:  # type: ignore[attr-defined]
        unique = tuple(dict.fromkeys(numbers))
        if unique in seen:
            continue
        seen.add(unique)
        groups.append([by_number[n] for n in unique])
    return groups
