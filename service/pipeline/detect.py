"""Stage 2, detect: which sentences report an attack, one small question per sentence.

A 1.5B model asked to list and group the attacks of a whole article answers "[]" or
recites the categories of its instructions; asked for a yes/no per sentence in one
answer, it writes "yes" for every sentence once it has written a few. So each sentence
is its own question, quoted after the shared article prefix (which the server keeps
cached): about 40 new prompt tokens and a one-word answer, `true` or `false`,
independent of the answers before it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from service.pipeline.types import Ask, Numbered
from service.templates import PromptTemplate


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attack: bool


def detect(ask: Ask, template: PromptTemplate, shown: list[Numbered]) -> list[Numbered]:
    """The shown sentences the model says report an attack, in article order."""
    found = []
    for sentence in shown:
        messages = template.render_stage("detect", sentences=shown, sentence=sentence)
        if ask("detect", messages, Verdict).attack:  # type: ignore[attr-defined]
            found.append(sentence)
    return found
