"""Find each evidence quote in the article and record its character offsets.

Small models copy almost, not exactly: straight for curly quotes, a dropped clause.
So: exact match first, then a case-insensitive one, then the most similar sentence
(or pair of sentences) of the article, then the best fuzzy window snapped to word
boundaries; each fuzzy candidate must reach a similarity threshold (rapidfuzz). The
stored quote is always the article's own text, so `text[start:end] == quote` holds
for every located quote.
"""

from __future__ import annotations

import itertools
import re

from rapidfuzz import fuzz, process

from schemas.events import Evidence
from schemas.vocab import MatchKind

FUZZY_THRESHOLD = 85.0
_MIN_QUOTE = 12  # shorter "quotes" match by chance
_SENTENCE = re.compile(r"[^\s][^\n]*?(?:[.!?][\"”’)]*(?=\s)|(?=\n)|$)")


def locate(quote: str, text: str) -> Evidence:
    """Evidence for `quote`: offsets into `text`, or match='missing' if it is not there."""
    needle = quote.strip()
    if len(needle) < _MIN_QUOTE:
        return Evidence(quote=quote, match=MatchKind.MISSING, score=0.0)
    start = text.find(needle)
    if start == -1:
        start = text.lower().find(needle.lower())
    if start != -1:
        return _span(text, start, start + len(needle), MatchKind.EXACT, 100.0)
    best = _best_sentences(needle, text) or _best_window(needle, text)
    if best is None:
        return Evidence(quote=quote, match=MatchKind.MISSING, score=0.0)
    start, end, score = best
    return _span(text, start, end, MatchKind.FUZZY, round(score, 1))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line fragment of the article."""
    return [m.span() for m in _SENTENCE.finditer(text) if m.group().strip()]


def _best_sentences(needle: str, text: str) -> tuple[int, int, float] | None:
    spans = sentence_spans(text)
    candidates = spans + [(a[0], b[1]) for a, b in itertools.pairwise(spans)]
    choices = {i: text[s:e] for i, (s, e) in enumerate(candidates)}
    found = process.extractOne(needle, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
    if found is None:
        return None
    start, end = candidates[found[2]]
    return start, end, found[1]


def _best_window(needle: str, text: str) -> tuple[int, int, float] | None:
    """A fragment of a sentence: align, widen to whole words, and check again."""
    found = fuzz.partial_ratio_alignment(needle, text, score_cutoff=FUZZY_THRESHOLD)
    if found is None:
        return None
    start, end = found.dest_start, found.dest_end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    score = fuzz.ratio(needle, text[start:end])
    return (start, end, score) if score >= FUZZY_THRESHOLD else None


def _span(text: str, start: int, end: int, match: MatchKind, score: float) -> Evidence:
    return Evidence(quote=text[start:end], start=start, end=end, match=match, score=score)
