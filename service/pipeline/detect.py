"""Stage 2, detect: which sentences report an attack, one small question per sentence.

A 1.5B model asked to list and group the attacks of a whole article answers "[]" or
recites the categories of its instructions; asked for a yes/no per sentence in one
answer, it writes "yes" for every sentence once it has written a few. So each sentence
is its own question, after the shared system message (which the server keeps
cached): about 40 new prompt tokens and a one-word answer, `true` or `false`,
independent of the answers before it. The answer's token probabilities give
P(attack); a sentence counts when it reaches the `attack_threshold` setting.

Only sentences that use the vocabulary of violence are asked about (`VIOLENCE`: attack,
strike, bomb, blast, shot, killed, wounded, rocket, raid...). A sentence with none of
these words reports no attack, and code can say so for free.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pydantic import ConfigDict

from service.pipeline.types import Ask, Numbered, Scored
from service.templates import PromptTemplate

VIOLENCE = re.compile(
    r"\b(?:attack|strike|struck|bomb|blast|explo|detonat|shell|rocket|missile|mortar|drone|"
    r"grenade|ied\b|shot|shoot|gunfire|gunm[ae]n|fire[ds]? (?:on|at)|opened fire|kill|dead|"
    r"death|died|wound|injur|hurt|casualt|raid|ambush|clash|fight|assassinat|massacre|"
    r"hostage|kidnap|abduct|burn|arson|sabotag|destroy|damag|target|airstrike|air strike|"
    r"bombard|artillery|sniper|stab|behead|murder|execut|terror|insurg|militan|guerrill)",
    re.I,
)


class Verdict(Scored):
    model_config = ConfigDict(extra="forbid")

    attack: bool


def detect(
    ask: Ask, template: PromptTemplate, shown: list[Numbered], threshold: float
) -> list[Numbered]:
    """The shown sentences that report an attack with probability >= `threshold`, in
    article order (the model's own true/false where the endpoint gives no probability)."""
    found = []
    for sentence in (s for s in shown if VIOLENCE.search(s.text)):
        messages = template.render_stage("detect", sentence=sentence)
        verdict: Any = ask("detect", messages, Verdict)
        if verdict.attack if verdict.p_true is None else verdict.p_true >= threshold:
            found.append(replace(sentence, p_attack=verdict.p_true))
    return found
