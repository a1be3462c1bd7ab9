"""The staged extraction pipeline: each thing the model decides is small and constrained.

Stages, in order (one module each):

1. `clean`   - split into sentences (pysbd), hide repeated captions, credits and menus,
               number the rest; long articles are read in windows.
2. `detect`  - one small model call per sentence that uses the words of violence:
               "does it report an attack?", scored by the probability of `true`.
3. `cues`    - code reads each run of adjacent attack sentences (at most three):
               weapon, date phrase, counts, type, and candidate places and sources.
   `fill`    - one model call per run: attacker, target and victims (phrases of the
               run), place and source (among the candidates), certainty, main.
4. `derive`  - code: evidence and span offsets, country by gazetteer, dates, UCDP
               deaths.
5. merge     - code (`service.records.merge_duplicates`): runs about one attack become
               one event (shared evidence or agreeing fields; shared nulls are not evidence).

Every call of one window shares the system message and the numbered article as its
prefix, so llama.cpp computes the article once and each later question costs only its
own tokens. Output is one word per sentence and a few short phrases per attack.
"""

from __future__ import annotations

import datetime as dt

from schemas.events import Event
from service.pipeline.clean import visible_sentences, windows
from service.pipeline.derive import build_event
from service.pipeline.detect import detect
from service.pipeline.fill import fill
from service.pipeline.types import Ask, Numbered
from service.records import merge_duplicates
from service.templates import PromptTemplate

MAX_GROUPS = 10  # per window: each costs one fill call (about 7 s on 2 cores)


def extract_events(
    ask: Ask,
    template: PromptTemplate,
    article: str,
    reference: dt.date | None,
    window_chars: int,
    threshold: float,
) -> tuple[list[Event], list[str]]:
    """Events of one article, and warnings for the caller."""
    events: list[Event] = []
    warnings: list[str] = []
    parts = windows(visible_sentences(article), window_chars)
    if len(parts) > 1:
        warnings.append(f"long article: read in {len(parts)} windows of sentences")
    for shown in parts:
        for group in adjacent(detect(ask, template, shown, threshold))[:MAX_GROUPS]:
            filled = fill(ask, template, shown, group)
            events.append(build_event(filled, group, article, reference))
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
