"""The link score of a pair of mentions: summed log-odds weights, and the hard conflicts.

Each field both reports state adds a weight for agreeing or against disagreeing (in
the spirit of Fellegi-Sunter match weights, set by hand and listed in docs/linking.md);
a field either report leaves empty adds nothing, so a weak record with nulls is neither
helped nor hurt by what it does not say. A pair links at `THRESHOLD` or more.

Hard conflicts never link, whatever the score: two events of one article (the
guidelines already merge mentions within an article), different countries, periods
that do not overlap, and weekdays more than a day apart.

Context (collective linking): two articles that already share `STRONG` links report the
same news, so each such other link adds `W_CONTEXT`; between articles sharing two, an
unresolved "on Tuesday" means the same Tuesday (`W_SAME_WEEKDAY_IN_CONTEXT`). Two main
reports in articles published within `CLOSE_DAYS` of each other get `W_PUBLISHED_CLOSE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from service.link import geo
from service.link.mentions import NULL, Mentions

THRESHOLD = 3.0
STRONG = 3.5

W_SUB_SAME, W_SUB_DIFF = 0.5, -1.0
W_ATTACKER_SAME, W_ATTACKER_CLOSE, W_ATTACKER_DIFF = 1.0, 0.5, -1.5
W_TARGET_SAME, W_TARGET_DIFF, W_TARGET_DIFF_LISTED = 1.0, -0.5, -1.5
W_PLACE_SAME, W_PLACE_SAME_BIG_CITY, W_PLACE_DIFF = 2.5, 1.5, -2.0
W_PLACE_NEAR, NEAR_KM, W_PLACE_FAR, FAR_KM = 0.5, 25.0, -4.0, 100.0
W_WEAPON_SAME, W_WEAPON_DIFF = 0.5, -0.5
W_DAY_SAME, W_DAY_NEXT = 2.0, 1.0
W_WEEKDAY_SAME, W_WEEKDAY_NEXT, W_SAME_WEEKDAY_IN_CONTEXT = 0.5, -0.5, 2.0
W_PUBLISHED_CLOSE, CLOSE_DAYS = 1.0, 2
W_DEATHS_DIFF, W_DEATHS_OVERLAP = -1.0, 0.25
W_EVIDENCE, EVIDENCE_BASE = 5.0, 0.2
W_CONTEXT, MAX_CONTEXT = 1.0, 2
FUZZY_NAME = 80  # rapidfuzz token-sort ratio: a spelling variant, not another actor


def deaths_weight(best: np.ndarray) -> np.ndarray:
    """Agreeing on a figure: 0 and 1 are common, a larger equal count rarely is chance."""
    return np.select([best == 0, best == 1, best < 5], [0.25, 0.5, 1.0], 1.5)


def distance_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance (haversine); NaN where a place has no coordinates."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


@dataclass(frozen=True)
class Scored:
    score: np.ndarray
    conflict: np.ndarray
    evidence: np.ndarray  # cosine of the evidence vectors, for the record


def _pairwise(ids_a: np.ndarray, ids_b: np.ndarray, test: Callable[[int, int], bool]) -> np.ndarray:
    """A Python test over the distinct id pairs only (names repeat a lot)."""
    if not len(ids_a):
        return np.zeros(0, dtype=bool)
    width = int(max(ids_a.max(), ids_b.max())) + 1
    codes, inverse = np.unique(ids_a * width + ids_b, return_inverse=True)
    results = np.array([test(int(c // width), int(c % width)) for c in codes], dtype=bool)
    return results[inverse]


def cosine(m: Mentions, i: np.ndarray, j: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    parts = [
        np.asarray(m.vectors[i[s : s + chunk]].multiply(m.vectors[j[s : s + chunk]]).sum(1))
        for s in range(0, len(i), chunk)
    ]
    return np.concatenate(parts).ravel() if parts else np.empty(0)


def conflicts(m: Mentions, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Pairs that must never be in one linked event."""
    same_article = m.article[i] == m.article[j]
    countries = (m.country[i] != NULL) & (m.country[j] != NULL) & (m.country[i] != m.country[j])
    apart = (m.lo[i] > m.hi[j]) | (m.lo[j] > m.hi[i])
    days = np.abs(m.weekday[i] - m.weekday[j])
    both = (m.weekday[i] != NULL) & (m.weekday[j] != NULL)
    weekdays = both & (np.minimum(days, 7 - days) > 1)
    families = m.family[i] != m.family[j]
    return same_article | countries | apart | weekdays | families


def _actors(m: Mentions, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Attacker and target; a spelling variant of an unlisted attacker counts half."""
    text = m.names.text
    a, b = m.attacker[i], m.attacker[j]
    both = (a != NULL) & (b != NULL)
    differ = both & (a != b)
    close = np.zeros(len(i), dtype=bool)
    close[differ] = _pairwise(
        a[differ], b[differ], lambda x, y: fuzz.token_sort_ratio(text[x], text[y]) >= FUZZY_NAME
    )
    w = np.select(
        [both & (a == b), close, differ], [W_ATTACKER_SAME, W_ATTACKER_CLOSE, W_ATTACKER_DIFF]
    )
    a, b = m.target[i], m.target[j]
    both = (a != NULL) & (b != NULL)
    listed = m.target_listed[i].astype(bool) & m.target_listed[j].astype(bool)
    return w + np.select(
        [both & (a == b), both & listed, both], [W_TARGET_SAME, W_TARGET_DIFF_LISTED, W_TARGET_DIFF]
    )


def _place(m: Mentions, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Same place; else one name holding the other, else the gazetteer distance, decides."""
    text = m.names.text
    a, b = m.place[i], m.place[j]
    both = (a != NULL) & (b != NULL)
    differ = both & (a != b)
    within = np.zeros(len(i), dtype=bool)
    within[differ] = _pairwise(
        a[differ],
        b[differ],
        lambda x, y: geo.words_within(text[x], text[y]) or geo.words_within(text[y], text[x]),
    )
    same = np.where(m.place_big[i].astype(bool), W_PLACE_SAME_BIG_CITY, W_PLACE_SAME)
    km = distance_km(m.lat[i], m.lon[i], m.lat[j], m.lon[j])  # NaN compares False
    other = differ & ~within
    return np.select(
        [both & (a == b), other & (km <= NEAR_KM), other & (km > FAR_KM), other],
        [same, W_PLACE_NEAR, W_PLACE_FAR, W_PLACE_DIFF],
    )


def _weapon(m: Mentions, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    text = m.names.text
    a, b = m.weapon[i], m.weapon[j]
    both = (a != NULL) & (b != NULL)
    shared = np.zeros(len(i), dtype=bool)
    shared[both] = _pairwise(
        a[both], b[both], lambda x, y: bool(set(text[x].split()) & set(text[y].split()))
    )
    return np.select([shared, both], [W_WEAPON_SAME, W_WEAPON_DIFF])


def _dates(m: Mentions, i: np.ndarray, j: np.ndarray, context: np.ndarray | None) -> np.ndarray:
    """Resolved days, else named weekdays, else publication dates of two main reports."""
    a, b = m.resolved_day[i], m.resolved_day[j]
    both = (a != NULL) & (b != NULL)
    w = np.select([both & (a == b), both & (np.abs(a - b) == 1)], [W_DAY_SAME, W_DAY_NEXT])
    shared_news = np.zeros(len(i), dtype=bool) if context is None else context >= 2
    weekdays = ~both & (m.weekday[i] != NULL) & (m.weekday[j] != NULL)
    same_weekday = weekdays & (m.weekday[i] == m.weekday[j])
    unresolved = (a == NULL) & (b == NULL)
    w += np.select(
        [same_weekday & unresolved & shared_news, same_weekday, weekdays],
        [W_SAME_WEEKDAY_IN_CONTEXT, W_WEEKDAY_SAME, W_WEEKDAY_NEXT],
    )
    pa, pb = m.published_day[i], m.published_day[j]
    mains = m.main[i].astype(bool) & m.main[j].astype(bool)
    close = mains & ~both & (pa != NULL) & (pb != NULL) & (np.abs(pa - pb) <= CLOSE_DAYS)
    return w + np.where(close, W_PUBLISHED_CLOSE, 0.0)


def _deaths(m: Mentions, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Figures that agree, overlap (low-high ranges) or contradict each other."""
    best_a, best_b = m.d_best[i], m.d_best[j]
    both = (best_a != NULL) & (best_b != NULL)
    overlap = both & (m.d_low[i] <= m.d_high[j]) & (m.d_low[j] <= m.d_high[i])
    return np.select(
        [overlap & (best_a == best_b), overlap, both],
        [deaths_weight(best_a), W_DEATHS_OVERLAP, W_DEATHS_DIFF],
    )


def score(m: Mentions, i: np.ndarray, j: np.ndarray, context: np.ndarray | None = None) -> Scored:
    """Link score and conflict flag of each pair (i[k], j[k]); `context` from `Context`."""
    s = np.where(m.sub[i] == m.sub[j], W_SUB_SAME, W_SUB_DIFF)
    s += _actors(m, i, j) + _place(m, i, j) + _weapon(m, i, j)
    s += _dates(m, i, j, context) + _deaths(m, i, j)
    evidence = cosine(m, i, j)
    s += W_EVIDENCE * (evidence - EVIDENCE_BASE)
    if context is not None:
        s += W_CONTEXT * np.minimum(context, MAX_CONTEXT)
    return Scored(s, conflicts(m, i, j), evidence)


class Context:
    """Strong links per pair of articles, from a first pass over the candidate pairs."""

    def __init__(self, m: Mentions, i: np.ndarray, j: np.ndarray, first: Scored) -> None:
        strong = (first.score >= STRONG) & ~first.conflict
        self._m = m
        self._n = int(m.article.max()) + 1 if len(m) else 1
        self._keys, self._counts = np.unique(self._key(i[strong], j[strong]), return_counts=True)
        self._strong = np.sort(i[strong] * len(m) + j[strong])

    def _key(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ax, ay = self._m.article[x], self._m.article[y]
        return np.minimum(ax, ay) * self._n + np.maximum(ax, ay)

    def counts(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """For each pair (i < j), the strong links between its two articles other than itself."""
        if not len(self._keys):
            return np.zeros(len(i), dtype=np.int64)
        query = self._key(i, j)
        pos = np.minimum(np.searchsorted(self._keys, query), len(self._keys) - 1)
        found = np.where(self._keys[pos] == query, self._counts[pos], 0)
        code = i * len(self._m) + j
        at = np.minimum(np.searchsorted(self._strong, code), len(self._strong) - 1)
        return found - (self._strong[at] == code)
