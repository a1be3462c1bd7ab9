"""Killed and injured, read from the dependency parse of an attack's sentences.

A figure belongs to a word of killing or hurting by its grammatical role, not by how
near it stands: the object of "killed" ("killed an estimated 50 people", "killing 3
soldiers and 2 civilians": 5), the passive subject of "were wounded", the subject of
"died", the number a noun of the dead counts ("12 deaths", "14 dead", "the deaths of
three soldiers", "the killing of a judge"), and what a death toll rose to or stands at.
"No one was killed" and an unqualified "no casualties" are 0; "no civilian casualties"
leaves the others unsaid. Where the parse gives the word of killing no argument with a
figure, the numeral right after it counts ("killed four and injured dozens": the parser
hangs "four" on "injured").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from text_to_num import text2num

from service.pipeline.cues import about_another
from service.pipeline.parse import parse
from service.pipeline.types import Numbered

if TYPE_CHECKING:
    from spacy.tokens import Token

# Lemmas of the words a count of the dead or hurt is stated beside.
_KILL = frozenset({"kill", "slay", "assassinate", "murder", "massacre", "execute", "behead"})
_KILLING = frozenset({"killing", "murder", "assassination", "massacre", "execution"})
_DIE = frozenset({"die", "perish"})
_DEAD = frozenset({"dead", "death", "fatality", "life", "body", "toll"})
_HARM = frozenset({"injure", "wound", "hurt", "maim"})
_HARMED = frozenset({"injury", "injured", "wounded", "wound"})
_NOBODY = frozenset({"nobody", "none"})
_ANYONE = frozenset({"one", "person", "people", "body"})  # "no one", "no people"
_ARGUMENTS = frozenset({"dobj", "nsubjpass", "oprd", "attr"})
_PERSONAL = frozenset({"him", "her"})
_YEARS = range(1900, 2100)
_FIGURE_PARTS = frozenset({"compound", "quantmod", "nummod"})


def counts(sentences: list[Numbered]) -> tuple[int | None, int | None]:
    """Killed and injured as the sentences state them: the first stated figure wins; 0
    only where they say nobody was; None where they say nothing. Not the dead of another
    attack a clause tells of (`cues.about_another`)."""
    killed: list[tuple[int, int, int]] = []
    injured: list[tuple[int, int, int]] = []
    for i, s in enumerate(sentences):
        for token in parse(s.text):
            if about_another(s.text, token.idx):
                continue
            lemma = token.lemma_.lower()
            kind = _kind(token, lemma)
            if kind is None or any(c.dep_ == "neg" for c in token.children):
                continue
            figure = _figure_of(token, lemma)
            if figure is not None:
                (killed if kind == "killed" else injured).append((i, token.i, figure))
    none = _nobody(sentences)
    return _first(killed, none[0]), _first(injured, none[1])


def _kind(token: Token, lemma: str) -> str | None:
    """'killed' or 'injured' for a word the dead or hurt are counted by."""
    nominal = lemma in _DEAD or lemma in _KILLING
    if lemma in _KILL or lemma in _DIE or (nominal and token.pos_ != "VERB"):
        if lemma == "toll" and any(c.lemma_.lower() == "injury" for c in token.children):
            return "injured"
        return "killed"
    if lemma in _HARM or (lemma in _HARMED and token.pos_ in ("NOUN", "ADJ")):
        return "injured"
    return None


def _figure_of(token: Token, lemma: str) -> int | None:
    """The figure a word of killing or hurting is stated with, by its role."""
    if lemma == "toll":
        return _toll(token)
    own = [c for c in token.children if c.dep_ == "nummod"]
    if own:  # "12 deaths", "14 dead"
        return _value(own[0])
    if token.pos_ == "NOUN":  # "the deaths of three soldiers", "the killing of a judge"
        return next((n for o in _of(token) if (n := _count(o)) is not None), None)
    if token.dep_ in ("amod", "acl") and _value(token.head) is not None:
        return _value(token.head)  # "12 dead after a bombing": the parser heads it on 12
    if token.pos_ not in ("VERB", "AUX"):
        return None
    roles = set(_ARGUMENTS)
    if lemma in _DIE or (token.tag_ == "VBN" and not _has(token, "auxpass", "dobj")):
        roles.add("nsubj")  # "7 people died", "... and two wounded"
    figures = [_count(a) for a in token.children if a.dep_ in roles]
    stated = [f for f in figures if f is not None]
    if stated:
        return stated[0]
    return _numeral_after(token)


def _count(argument: Token) -> int | None:
    """How many people a killed or hurt argument names, conjuncts added ("3 soldiers and
    2 civilians": 5); one for a singular name ("a judge", "Soleimani", "him")."""
    parts = [argument, *argument.conjuncts]
    figures = [_named(p) for p in parts]
    if any(f is None for f in figures):
        return figures[0] if len(parts) == 1 else None
    return sum(f for f in figures if f is not None)


def _named(word: Token) -> int | None:
    if word.lemma_.lower() in _NOBODY or _none_of(word):
        return None  # "nobody", "no one": told by `_nobody`
    value = _value(word)
    if value is not None:
        return value
    numbers = [c for c in word.children if c.dep_ == "nummod"]
    if numbers:
        return _value(numbers[0])
    if word.lower_ in _PERSONAL or (word.tag_ in ("NN", "NNP") and word.lower_ not in _ANYONE):
        return 1
    return None


def _value(word: Token) -> int | None:
    """A figure word as a number, with the words that make it up ("two hundred",
    "1,200"); a year is no figure."""
    if not word.like_num:
        return None
    parts = sorted([word, *(c for c in word.children if c.dep_ in _FIGURE_PARTS and c.like_num)])
    text = " ".join(p.text for p in parts).replace(",", "")
    try:
        value = int(text) if text.isdigit() else text2num(text.lower(), "en")
    except ValueError:
        return None
    if len(parts) == 1 and word.text.isdigit() and len(word.text) == 4 and value in _YEARS:
        return None
    return value


def _toll(token: Token) -> int | None:
    """What a death toll is: "rose to 25", "stands at 31", "a toll of 12", "the toll is 9"."""
    heads = [token, token.head]
    for head in heads:
        for prep in head.children:
            if prep.dep_ == "prep" and prep.lower_ in ("to", "at", "of"):
                for number in prep.children:
                    if number.dep_ == "pobj" and (value := _value(number)) is not None:
                        return value
    for attr in token.head.children:
        if attr.dep_ == "attr" and (value := _value(attr)) is not None:
            return value
    return None


def _numeral_after(token: Token) -> int | None:
    """The numeral right after a word of killing ("killed four and ..."), if any."""
    nxt = token.nbor(1) if token.i + 1 < len(token.doc) else None
    return _value(nxt) if nxt is not None else None


def _of(token: Token) -> list[Token]:
    """The objects of the word's "of" ("the deaths of three soldiers": soldiers)."""
    return [
        o
        for p in token.children
        if p.dep_ == "prep" and p.lower_ == "of"
        for o in p.children
        if o.dep_ == "pobj"
    ]


def _has(token: Token, *deps: str) -> bool:
    return any(c.dep_ in deps for c in token.children)


def _nobody(sentences: list[Numbered]) -> tuple[bool, bool]:
    """Whether the sentences say nobody was killed, and nobody hurt: "no one was killed",
    "nobody was hurt", "no casualties" (not "no civilian casualties": a qualified group
    leaves the others unsaid)."""
    dead = hurt = False
    for s in sentences:
        for token in parse(s.text):
            lemma = token.lemma_.lower()
            if lemma == "casualty" and _none_of(token) and not _has(token, "amod", "compound"):
                dead = hurt = True
            if (lemma in _NOBODY or (lemma in _ANYONE and _none_of(token))) and token.dep_ in (
                "nsubjpass",
                "nsubj",
            ):
                kind = _kind(token.head, token.head.lemma_.lower())
                dead = dead or kind is not None  # nobody hurt: nobody killed either
                hurt = hurt or kind == "injured"
    return dead, hurt


def _none_of(token: Token) -> bool:
    """Whether 'no' governs the word, directly or as the head of its conjunction ("no
    damage or casualties")."""
    governors = [token, token.head] if token.dep_ == "conj" else [token]
    return any(c.dep_ == "det" and c.lower_ == "no" for g in governors for c in g.children)


def _first(found: list[tuple[int, int, int]], nobody: bool) -> int | None:
    if found:
        return min(found)[2]
    return 0 if nobody else None
