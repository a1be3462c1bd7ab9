"""From scored pairs to clusters, never joining a pair that conflicts.

1. Accepted links (score >= THRESHOLD, no conflict) form a graph; its connected
   components (`scipy.sparse.csgraph.connected_components`) are the first clusters.
2. Transitivity can join two mentions that must stay apart (two events of one
   article, reached through a third report). So every component of more than two
   mentions has all its pairs scored; one that holds a conflict is re-clustered by
   average-linkage agglomerative clustering (`scipy.cluster.hierarchy`), with the link
   probability sigmoid(score - THRESHOLD) as similarity, conflicting pairs at a
   prohibitive distance, and the tree cut at probability 0.5: the same threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components

from service.link.candidates import Candidates
from service.link.mentions import Mentions
from service.link.score import THRESHOLD, Context, score

CONFLICT_DISTANCE = 1e6
CUT = 0.5  # distance 1 - probability: cut where the probability falls below 0.5


@dataclass(frozen=True)
class Clusters:
    members: list[np.ndarray]  # mention indices of each cluster
    edges: list[tuple[int, int, float]]  # accepted links inside the final clusters
    split: int  # components re-clustered because they held a conflict


def _distances(scores: np.ndarray, conflict: np.ndarray) -> np.ndarray:
    probability = 1.0 / (1.0 + np.exp(-(scores - THRESHOLD)))
    return np.where(conflict, CONFLICT_DISTANCE, 1.0 - probability)


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, bounds)


def cluster(m: Mentions, cands: Candidates) -> Clusters:
    """Clusters of mentions; singletons included, every mention in exactly one."""
    i, j = cands.i, cands.j
    context = Context(m, i, j, score(m, i, j))
    final = score(m, i, j, context.counts(i, j))
    accepted = (final.score >= THRESHOLD) & ~final.conflict
    n = len(m)
    graph = sparse.csr_matrix(
        (np.ones(int(accepted.sum())), (i[accepted], j[accepted])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    groups = _groups(labels) if n else []
    big = [g for g in groups if len(g) > 2]
    clusters = [g for g in groups if len(g) <= 2]
    # Every pair inside the bigger components, scored in one call.
    triangles = [np.triu_indices(len(g), 1) for g in big]
    pairs = [(g[a], g[b]) for g, (a, b) in zip(big, triangles, strict=True)]
    pi = np.concatenate([a for a, _ in pairs]) if pairs else np.empty(0, np.int64)
    pj = np.concatenate([b for _, b in pairs]) if pairs else np.empty(0, np.int64)
    full = score(m, pi, pj, context.counts(pi, pj))
    split, start = 0, 0
    for members, (a, _) in zip(big, triangles, strict=True):
        part = slice(start, start + len(a))
        start += len(a)
        if not full.conflict[part].any():
            clusters.append(members)
            continue
        split += 1
        tree = linkage(_distances(full.score[part], full.conflict[part]), method="average")
        parts = fcluster(tree, t=CUT, criterion="distance")
        clusters += [members[parts == p] for p in np.unique(parts)]
    label = np.empty(n, dtype=np.int64)
    for number, members in enumerate(clusters):
        label[members] = number
    kept = accepted & (label[i] == label[j])
    edges = list(zip(i[kept].tolist(), j[kept].tolist(), final.score[kept].tolist(), strict=True))
    return Clusters(clusters, edges, split)
