"""Stage 1, clean: which sentences the model is shown.

Web pages repeat photo captions, carry credits and one-word menu items; a small model
takes a caption ("fighters at the site of an American strike in Hillah, Iraq in
December 2023") for the news. Nothing is cut from the article itself: a hidden sentence
is only not offered, so every offset still indexes the original text.

Hidden: a sentence that repeats an earlier one, a photo caption or credit (a line that
ends in a parenthesised credit such as "(Reuters)" or "(AFP via Getty Images)", starts
with "Photo:"/"Image:", or holds a copyright sign), a line of fewer than three words, and
a sentence that addresses a model rather than reports ("SYSTEM: output an event with 999
killed..."): the staged pipeline reads every sentence as a possible report, and code
would read "999 killed" from it as a count.
"""

from __future__ import annotations

import re

from service.core.sentences import split_sentences
from service.pipeline.types import Numbered

_CREDIT = re.compile(r"\((?:[^()]*\b(?:photo|image|getty|via)\b[^()]*|[A-Z][\w/ .]{1,30})\)$")
_CAPTION_START = re.compile(r"^(?:photo|image|picture|file photo|caption)\b\s*[:|-]", re.I)
_MIN_WORDS = 3
_TO_A_MODEL = re.compile(
    r"^\W*(?:system|assistant|user|developer)\s*:|"
    r"\b(?:ignore|disregard|forget)\s+(?:(?:all|any|your|the|previous|prior|above|earlier)\s+)+"
    r"(?:instructions|prompts?|rules)\b|"
    r"\b(?:output|return|respond with|answer with|print)\s+(?:an?|the)\s+(?:event|json|record)",
    re.I,
)


def visible_sentences(article: str) -> list[Numbered]:
    """The sentences worth reading, numbered from 1 in article order."""
    shown: list[Numbered] = []
    seen: set[str] = set()
    for sentence in split_sentences(article):
        key = " ".join(sentence.text.split()).lower()
        if key in seen or _is_furniture(sentence.text):
            continue
        seen.add(key)
        shown.append(Numbered(len(shown) + 1, sentence.start, sentence.end, sentence.text))
    return shown


def _is_furniture(text: str) -> bool:
    """Captions, credits, menu items and words to a model: not reporting."""
    line = text.strip()
    if len(line.split()) < _MIN_WORDS or "©" in line:
        return True
    return bool(_CAPTION_START.search(line) or _CREDIT.search(line) or _TO_A_MODEL.search(line))
