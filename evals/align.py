"""Pair predicted events with gold events, one to one, before any field is scored.

An article can report several similar strikes (002 has three rocket attacks in two
days), so pairing greedily by list order would credit the wrong fields. We build a
gold x predicted similarity matrix on the fields that identify an event (sub-event type,
date, location, attacker), take the optimal assignment (`linear_sum_assignment`), and drop
pairs below `MATCH_THRESHOLD`: such a "match" is really a miss plus a false alarm. A pair
must also be anchored: shared evidence characters, or one of date, location and attacker
agreeing; the event type alone never makes a match.

Similarity is a weighted mean of per-component scores in [0, 1]. A component both
sides leave empty (no attacker named, no date) is skipped rather than scored, so an
unstated attacker neither helps nor hurts; one side empty and the other not scores 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from evals.fields import date_credit, name_credit, stated_credit, text_credit
from schemas.events import Event
from service.core.aliases import AliasTable

MATCH_THRESHOLD = 0.5
WEIGHTS = {"sub_event_type": 1.0, "date": 1.0, "location": 1.0, "attacker": 1.0}


@dataclass(frozen=True)
class Alignment:
    pairs: list[tuple[int, int, float]]  # (gold index, predicted index, similarity)
    unmatched_gold: list[int]
    unmatched_pred: list[int]


def _date_similarity(gold: Event, pred: Event, aliases: AliasTable) -> float | None:
    """Resolved dates compare by value; unresolved ones by their words ("on Thursday")."""
    if gold.date.value is not None and pred.date.value is not None:
        return date_credit(gold.date, pred.date, aliases)
    return stated_credit(gold.date.text, pred.date.text, text_credit, aliases)


def _location_similarity(gold: Event, pred: Event, aliases: AliasTable) -> float | None:
    """The most specific level both sides give: place, else country."""
    g, p = gold.location, pred.location
    if g.place is not None and p.place is not None:
        return name_credit(g.place, p.place, aliases)
    if g.country is not None and p.country is not None:
        return name_credit(g.country, p.country, aliases)
    if g.place is None and g.country is None and p.place is None and p.country is None:
        return None
    return 0.0


def evidence_overlap(gold: Event, pred: Event) -> int:
    """Characters of the article that both events cite as evidence."""
    g = _chars(gold)
    return len(g & _chars(pred)) if g else 0


def _chars(event: Event) -> set[int]:
    return {
        i
        for ev in event.evidence
        if ev.start is not None and ev.end is not None
        for i in range(ev.start, ev.end)
    }


def similarity(gold: Event, pred: Event, aliases: AliasTable) -> float:
    """How likely two records describe the same event, in [0, 1].

    A prediction that agrees on nothing but the event type is no match, however the
    weights fall: a pair needs shared evidence or one identifying field that agrees.
    """
    scores = {
        "sub_event_type": 1.0 if gold.sub_event_type is pred.sub_event_type else 0.0,
        "date": _date_similarity(gold, pred, aliases),
        "location": _location_similarity(gold, pred, aliases),
        "attacker": stated_credit(gold.attacker, pred.attacker, name_credit, aliases),
    }
    counted = {k: s for k, s in scores.items() if s is not None}
    anchored = evidence_overlap(gold, pred) > 0 or any(
        s > 0 for k, s in counted.items() if k != "sub_event_type"
    )
    if not anchored:
        return 0.0
    total = sum(WEIGHTS[k] for k in counted)
    return sum(WEIGHTS[k] * s for k, s in counted.items()) / total


def align(
    gold: list[Event],
    pred: list[Event],
    aliases: AliasTable,
    threshold: float = MATCH_THRESHOLD,
) -> Alignment:
    """Optimal one-to-one pairing; pairs scoring below `threshold` stay unmatched."""
    pairs: list[tuple[int, int, float]] = []
    if gold and pred:
        sim = np.array([[similarity(g, p, aliases) for p in pred] for g in gold])
        rows, cols = linear_sum_assignment(sim, maximize=True)
        pairs = [
            (int(r), int(c), float(sim[r, c]))
            for r, c in zip(rows, cols, strict=True)
            if sim[r, c] >= threshold
        ]
    matched_gold = {g for g, _, _ in pairs}
    matched_pred = {p for _, p, _ in pairs}
    return Alignment(
        pairs=pairs,
        unmatched_gold=[i for i in range(len(gold)) if i not in matched_gold],
        unmatched_pred=[j for j in range(len(pred)) if j not in matched_pred],
    )
