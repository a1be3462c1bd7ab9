"""Stage 2, detect: which sentences report an attack, one small question per sentence.

A 1.5B model asked to list and group the attacks of a whole article answers "[]" or
recites the categories of its instructions; asked for a yes/no per sentence in one
answer, it writes "yes" for every sentence once it has written a few. So each sentence
is its own question, quoted after the shared article prefix (which the server keeps
cached): about 40 new prompt tokens and a one-word answer, `true` or `false`,
independent of the answers before it.

Only sentences that use the vocabulary of violence are asked about (`VIOLENCE`: attack,
strike, bomb, blast, shot, killed, wounded, rocket, raid...). A sentence with none of
these words reports no attack, and code can say so for free.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from service.pipeline.types import Ask, Numbered
from service.templates import PromptTemplate

VIOLENCE = re.compile(
    r"\b(?:attack|strike|struck|bomb|blast|explo|detonat|shell|rocket|missile|mortar|drone|"
    r"grenade|ied\b|shot|shoot|gunfire|gunm[ae]n|fire[ds]? (?:on|at)|opened fire|kill|dead|"
    r"death|died|wound|injur|hurt|casualt|raid|ambush|clash|fight|assassinat|massacre|"
    r"hostage|kidnap|abduct|burn|arson|sabotag|destroy|damag|target|airstrike|air strike|"
    r"bombard|artillery|sniper|stab|behead|murder|execut|terror|insurg|militan|guerrill)",
    re.I,
)


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attack: bool


def detect(ask: Ask, template: PromptTemplate, shown: list[Numbered]) -> list[Numbered]:
    """The shown sentences the model says report an attack, in article order."""
    found = []
    for sentence in (s for s in shown if VIOLENCE.search(s.text)):
        messages = template.render_stage("detect", sentences=shown, sentence=sentence)
        if ask("detect", messages, Verdict).attack:  # type: ignore[attr-defined]
            found.append(sentence)
    return found
