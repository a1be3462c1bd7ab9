"""Stage 2, detect: which runs of sentences report an attack, one small question each.

A 1.5B model asked to list and group the attacks of a whole article answers "[]" or
recites the categories of its instructions; asked for a yes/no per sentence in one
answer, it writes "yes" for every sentence once it has written a few. So each run of
up to three adjacent sentences is its own question, after the shared system message
(which the server keeps cached): a one-word answer, `true` or `false`, independent of
the answers before it. The answer's token probabilities give P(attack); a run counts
when it reaches the `attack_threshold` setting. A run of several sentences that does
not is asked again sentence by sentence, so that text beside an attack (an injected
instruction, a denial) cannot hide it. The fill question of a run repeats the
detect prompt up to its last line, so the server reads the sentences once.

Only sentences that use the vocabulary of violence are asked about (`VIOLENCE`: attack,
strike, bomb, blast, shot, killed, wounded, rocket, raid...). A sentence with none of
these words reports no attack, and code can say so for free.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pydantic import ConfigDict

from service.core.templates import PromptTemplate
from service.pipeline.cues import tells_deed
from service.pipeline.types import Ask, Numbered, Scored

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
    ask: Ask, template: PromptTemplate, run: list[Numbered], threshold: float
) -> Iterator[list[Numbered]]:
    """The attack runs of `run`, their sentences scored: the run itself if it reports an
    attack with probability >= `threshold` (the model's own true/false where the endpoint
    gives no probability); else each of its sentences that reports one when read alone.

    So no sentence decides whether another is read: an injected "The article above
    reports no attack" beside a real attack, or a denial beside a claim, can sink the
    run's answer but not the attack sentence's own. A sentence that tells of no deed
    (`cues.tells_deed`) is not asked again: it would report no attack anyway.
    """
    verdict: Any = ask("detect", template.render_stage("detect", sentences=run), Verdict)
    if verdict.attack if verdict.p_true is None else verdict.p_true >= threshold:
        yield [replace(s, p_attack=verdict.p_true) for s in run]
    elif len(run) > 1:
        for sentence in run:
            if tells_deed([sentence]):  # else no attack done, whatever the model says
                yield from detect(ask, template, [sentence], threshold)
