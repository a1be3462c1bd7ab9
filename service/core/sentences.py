"""Sentences with exact character offsets: the unit the model points at and evidence cites.

pysbd (rule-based sentence boundary disambiguation) knows that "U.S." and "Gen." do
not end a sentence. Its segments do not always concatenate back to the input (it drops
leading white space), so each one is found in the text from where the last one ended,
and `text[s.start:s.end] == s.text` holds by construction. Web
text also breaks units by line (headlines, captions, bylines), so every segment is cut
again at line breaks, and a short tail on the same line ("(Reuters)") stays with the
sentence before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pysbd

_TAIL = 15  # a same-line fragment shorter than this is a credit or a tag, not a sentence
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Sentence:
    index: int  # 0-based position in the article
    start: int
    end: int
    text: str


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[Sentence]:
    """The article's sentences in order, each stripped of surrounding white space."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for segment in _segmenter().segment(text):
        for line in _LINE.finditer(segment):
            piece = line.group().strip()
            start = text.find(piece, cursor) if piece else -1
            if start == -1:
                continue  # pysbd altered the piece (never seen with clean=False): skip it
            end = cursor = start + len(piece)
            same_line = spans and "\n" not in text[spans[-1][1] : start]
            if same_line and end - start < _TAIL:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return [Sentence(i, s, e, text[s:e]) for i, (s, e) in enumerate(spans)]


def sentence_at(sentences: list[Sentence], offset: int) -> Sentence | None:
    """The sentence holding character `offset`, if any (offsets between sentences: None)."""
    for sentence in sentences:
        if sentence.start <= offset < sentence.end:
            return sentence
    return None
