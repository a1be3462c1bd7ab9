"""The staged extraction pipeline: each thing the model decides is small and constrained.

Stages, in order (one module each):

1. `clean`   - split into sentences (pysbd), hide repeated captions, credits and menus,
               number the rest.
2. `detect`  - sentences that use the words of violence, in runs of at most three
               adjacent ones; one small model call per run: "does it report an
               attack?", scored by the probability of `true`. A run that tells of no
               attack done (threats, plans, fears, weapons found: `cues.tells_deed`)
               reports none, whatever the model says.
3. `cues`    - code reads each attack run: weapon, date phrase, counts, type, and
               candidate places and sources.
   `fill`    - one model call per run: attacker, target and victims (phrases of the
               run), place and source (among the candidates), and certainty.
4. `derive`  - code: evidence and span offsets, country by gazetteer, dates, UCDP
               deaths, main or background (the lede tells the story's own attack; a
               run opening on "those blasts" is placed and ranked by the sentence
               that told them, `cues.antecedent`); an attack placed in two countries
               is a campaign, and dropped.
5. merge     - code (`service.core.records`): a run that goes on from the one before
               (`continues`: nothing stated in both disagrees but target or place wording,
               nor the attacker when it says "the strike" and gives no date) joins its
               event as it is read; then runs about one attack anywhere become one event
               (`merge_duplicates`: shared evidence or agreeing fields; shared nulls are
               not evidence).
6. `accept`  - code, opt-in (`accept` setting): logistic regressions fitted on MUC-4
               train answers keep or drop each event, and each attacker, target and
               victims value (built-in model only; `accept.json`).

Every call sends the same system message first, so llama.cpp keeps its KV cache across
questions and articles; a question quotes only its own sentences (a 1.5B model reading
2 cores' worth of article for every article cost half the time and decided nothing
better). Output is one word per sentence and a few short phrases per attack.
"""

from __future__ import annotations

import datetime as dt

from schemas.events import Event
from service.core.records import continues, merge_duplicates, merged
from service.core.templates import PromptTemplate
from service.pipeline import cues
from service.pipeline.accept import Acceptor
from service.pipeline.clean import visible_sentences
from service.pipeline.derive import build_event, is_campaign
from service.pipeline.detect import VIOLENCE, detect
from service.pipeline.fill import fill
from service.pipeline.types import Ask, Numbered

MAX_RUNS = 60  # runs read per article (up to about 7 s each on 2 cores)


def extract_events(
    ask: Ask,
    template: PromptTemplate,
    article: str,
    reference: dt.date | None,
    threshold: float,
    field_threshold: float,
    accept: Acceptor | None = None,
) -> tuple[list[Event], list[str]]:
    """Events of one article, and warnings for the caller; with an `accept`or, only the
    events it keeps."""
    warnings: list[str] = []
    sentences = visible_sentences(article)
    lede = " ".join(s.text for s in sentences if s.number <= cues.LEDE)
    violent = [s for s in sentences if VIOLENCE.search(s.text)]
    runs = adjacent(violent)
    if len(runs) > MAX_RUNS:
        warnings.append(f"{len(runs)} runs of violent sentences: only the first {MAX_RUNS} read")
    events: list[Event] = []
    previous: list[Numbered] = []  # the attack run read just before, if it gave an event
    for attack in (a for run in runs[:MAX_RUNS] for a in detect(ask, template, run, threshold)):
        if not cues.tells_deed(attack):
            previous = []  # threats, plans, fears, weapons found: no attack done
            continue
        # Fill right after detect: the server still holds the run's sentences.
        filled = fill(ask, template, attack, field_threshold, lede)
        told = cues.antecedent(attack, sentences)
        event = build_event(filled, attack, article, reference, told)
        if is_campaign(event, article):
            previous = []  # an aggregate, not one event: nothing goes on from it
            continue
        if (
            previous
            and previous[-1].number + 1 == attack[0].number
            and continues(events[-1], event, told=cues.refers_back(attack))
        ):
            events[-1] = merged(events[-1], event)
        else:
            events.append(event)
        previous = attack
    events = merge_duplicates(events)
    if accept is not None:
        events = [accept.kept_roles(e, article) for e in events if accept.keeps(e, article)]
    return events, warnings


def adjacent(sentences: list[Numbered], most: int = 3) -> list[list[Numbered]]:
    """Runs of consecutive sentence numbers, at most `most` long.

    News tells one attack in neighbouring sentences; reading them together costs one
    question instead of several. Runs that still describe one attack are merged later.
    """
    groups: list[list[Numbered]] = []
    for sentence in sentences:
        last = groups[-1] if groups else None
        if last and last[-1].number + 1 == sentence.number and len(last) < most:
            last.append(sentence)
        else:
            groups.append([sentence])
    return groups
