"""The staged extraction pipeline: each thing the model decides is small and constrained.

Stages, in order (one module each):

1. `clean`   - split into sentences (pysbd), hide repeated captions, credits and menus,
               number the rest.
2. `detect`  - one small model call per sentence that uses the words of violence:
               "does it report an attack?", scored by the probability of `true`.
3. `cues`    - code reads each run of adjacent attack sentences (at most three):
               weapon, date phrase, counts, type, and candidate places and sources.
   `fill`    - one model call per run: attacker, target and victims (phrases of the
               run), place and source (among the candidates), and certainty.
4. `derive`  - code: evidence and span offsets, country by gazetteer, dates, UCDP
               deaths, main or background (the lede tells the story's own attack).
5. merge     - code (`service.records.merge_duplicates`): runs about one attack become
               one event (shared evidence or agreeing fields; shared nulls are not evidence).

Every call sends the same system message first, so llama.cpp keeps its KV cache across
questions and articles; a question quotes only its own sentences (a 1.5B model reading
2 cores' worth of article for every article cost half the time and decided nothing
better). Output is one word per sentence and a few short phrases per attack.
"""

from __future__ import annotations

import datetime as dt

from schemas.events import Event
from service.pipeline.clean import visible_sentences
from service.pipeline.derive import build_event
from service.pipeline.detect import detect
from service.pipeline.fill import fill
from service.pipeline.types import Ask, Numbered
from service.records import merge_duplicates
from service.templates import PromptTemplate

MAX_RUNS = 60  # fill calls per article (about 5 s each on 2 cores)


def extract_events(
    ask: Ask,
    template: PromptTemplate,
    article: str,
    reference: dt.date | None,
    threshold: float,
) -> tuple[list[Event], list[str]]:
    """Events of one article, and warnings for the caller."""
    warnings: list[str] = []
    runs = adjacent(detect(ask, template, visible_sentences(article), threshold))
    if len(runs) > MAX_RUNS:
        warnings.append(f"{len(runs)} runs of attack sentences: only the first {MAX_RUNS} read")
    events = [
        build_event(fill(ask, template, run), run, article, reference) for run in runs[:MAX_RUNS]
    ]
    return merge_duplicates(events), warnings


def adjacent(sentences: list[Numbered], most: int = 3) -> list[list[Numbered]]:
    """Runs of consecutive sentence numbers, at most `most` long.

    News tells one attack in neighbouring sentences; reading them together costs one
    fill instead of several. Runs that still describe one attack are merged later.
    """
    groups: list[list[Numbered]] = []
    for sentence in sentences:
        last = groups[-1] if groups else None
        if last and last[-1].number + 1 == sentence.number and len(last) < most:
            last.append(sentence)
        else:
            groups.append([sentence])
    return groups
