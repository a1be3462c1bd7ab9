"""Blocking: which pairs of mentions are worth scoring, in near-linear time.

Two ways in, both within one event-type family (`mentions.FAMILY`):

- **Time sweep** for mentions with a country and a period of at most `SWEEP_DAYS`
  (a resolved day, week or month, or an unresolved date of an article with a
  publication date): sorted by (family, country, start), a mention is paired with the
  ones that start before its period ends. Comparisons grow with how many events share
  a country and a window, not with the size of the input.
- **Shared keys** for the rest (a year, an unresolved date with no publication date, no
  country): such a mention is paired with every mention, wide or narrow, that shares a
  canonical place, attacker or target in the same country, or the country, or the place
  whatever the country, within the family. A key held by
  more than `MAX_BLOCK` mentions is dropped ("block purging": a name that common does
  not identify an event), which keeps this path linear too.

An unresolved date therefore widens a mention's window rather than blocking it; what
the pairs must still agree on (country, overlapping periods) is checked by the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.link.mentions import NULL, UNBOUNDED_HI, UNBOUNDED_LO, Mentions

SWEEP_DAYS = 63
MAX_BLOCK = 200


@dataclass(frozen=True)
class Candidates:
    i: np.ndarray  # i[k] < j[k]
    j: np.ndarray
    from_sweep: int
    from_keys: int
    purged_blocks: int


def _ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (p, q) for every p and every q in starts[p] <= q < ends[p], without a loop."""
    counts = np.maximum(ends - starts, 0)
    total = int(counts.sum())
    p = np.repeat(np.arange(len(starts)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return p, np.repeat(starts, counts) + offsets


def _sweep(m: Mentions, narrow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.flatnonzero(narrow)
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    group = m.family[idx] * (len(m.names.text) + 1) + m.country[idx]
    lo, hi = m.lo[idx], m.hi[idx]
    base, span = lo.min(), int(hi.max() - lo.min()) + 1
    key = group * span + (lo - base)
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    ends = np.searchsorted(key_sorted, group[order] * span + (hi[order] - base), side="right")
    p, q = _ranges(np.arange(1, len(idx) + 1), ends)
    return idx[order[p]], idx[order[q]]


def _keys(m: Mentions, wide: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    width = len(m.names.text) + 1  # name ids run from NULL = -1 to len - 1
    anywhere = np.full(len(m), NULL)
    fields = [  # (name, country): a key names one thing in one country
        (m.place, m.country),
        (m.attacker, m.country),
        (m.target, m.country),
        (m.country, anywhere),
        (m.place, anywhere),  # a place with no country still meets its namesakes
    ]
    owner = np.concatenate([np.arange(len(m))] * len(fields))
    value = np.concatenate([v for v, _ in fields])
    where = np.concatenate([c for _, c in fields])
    field = np.repeat(np.arange(len(fields)), len(m))
    keep = value != NULL
    owner, value, where, field = owner[keep], value[keep], where[keep], field[keep]
    key = ((m.family[owner] * len(fields) + field) * width + value) * width + where + 1
    order = np.argsort(key, kind="stable")
    owner, key = owner[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    pairs_i, pairs_j, purged = [], [], 0
    for start, end in zip(starts, ends, strict=True):
        members = owner[start:end]
        if len(members) < 2:
            continue
        if len(members) > MAX_BLOCK:
            purged += 1
            continue
        wides = members[wide[members]]
        if len(wides):
            pairs_i.append(np.repeat(wides, len(members)))
            pairs_j.append(np.tile(members, len(wides)))
    if not pairs_i:
        return np.empty(0, np.int64), np.empty(0, np.int64), purged
    return np.concatenate(pairs_i), np.concatenate(pairs_j), purged


def candidates(m: Mentions) -> Candidates:
    """Distinct pairs (i < j) of mentions from different articles that blocking keeps."""
    bounded = (m.lo > UNBOUNDED_LO) & (m.hi < UNBOUNDED_HI)
    narrow = bounded & (m.country != NULL) & (m.hi - m.lo <= SWEEP_DAYS)
    si, sj = _sweep(m, narrow)
    ki, kj, purged = _keys(m, ~narrow)
    i, j = np.concatenate([si, ki]), np.concatenate([sj, kj])
    i, j = np.minimum(i, j), np.maximum(i, j)
    keep = m.article[i] != m.article[j]
    pair = np.unique(i[keep] * len(m) + j[keep])
    from_sweep = int(np.count_nonzero(m.article[si] != m.article[sj]))
    return Candidates(pair // len(m), pair % len(m), from_sweep, len(pair) - from_sweep, purged)
