"""Fit the event acceptor (`service/pipeline/accept.py`) on MUC-4 train answers, and
report its calibration on a run it was not fitted on.

An event is a positive when its report has an in-scope incident (attack, bombing) and
one of its evidence sentences holds a mention of that incident's gold fillers; every
other event (a report with no incident, a kidnapping, a sentence about none of the
fillers) is a negative. The runs read must have been made with `NEWSEVENTS_ACCEPT=0`,
so that no event was dropped yet. The threshold is the one that maximises role-filler
F1 on the training runs themselves; calibration (Brier score and a reliability table)
is read on other runs, e.g. MUC-4 dev.

    NEWSEVENTS_ACCEPT=0 python -m evals run --set muc4-train --limit 200 --out runs/t200
    python -m evals fit-accept runs/t200 --check runs/dev20
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evals import muc4
from evals.runner import SETS, read_predictions
from schemas.events import ArticleEvents
from service.pipeline.accept import FEATURES, WEIGHTS, Acceptor, features, from_dict

THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 19)]


def examples(
    run: Path,
) -> tuple[list[list[float]], list[int], list[muc4.GoldDoc], dict[str, ArticleEvents]]:
    """Features and labels of every event of a MUC-4 run, its documents and records."""
    identity = json.loads((run / "run.json").read_text(encoding="utf-8"))
    gold = SETS[identity["set"]]
    predicted, _ = read_predictions(run / "predictions.jsonl")
    docs = [d for d in gold.load() if d.id in predicted]
    x: list[list[float]] = []
    y: list[int] = []
    for doc in docs:
        offsets = [
            mention[1]
            for t in doc.templates
            if t.in_scope
            for entity in (e for role in t.roles.values() for e in role)
            for mention in entity
        ]
        for event in predicted[doc.id].events:
            spans = [(ev.start, ev.end or 0) for ev in event.evidence if ev.start is not None]
            x.append(features(event, len(doc.text)))
            y.append(int(any(s <= o < t for s, t in spans for o in offsets)))
    return x, y, docs, predicted


def _gathered(
    runs: Iterable[Path],
) -> tuple[list[list[float]], list[int], list[muc4.GoldDoc], dict[str, ArticleEvents]]:
    """The examples of several runs, one after another."""
    x: list[list[float]] = []
    y: list[int] = []
    docs: list[muc4.GoldDoc] = []
    predicted: dict[str, ArticleEvents] = {}
    for run in runs:
        rx, ry, rdocs, rpred = examples(run)
        x, y, docs, predicted = x + rx, y + ry, docs + rdocs, predicted | rpred
    return x, y, docs, predicted


def fit(runs: list[Path], model: str) -> tuple[Acceptor, dict[str, Any]]:
    """The acceptor fitted on the runs' events, its threshold chosen on them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y, docs, predicted = _gathered(runs)
    scaler = StandardScaler().fit(x)
    scale = [s if s > 0 else 1.0 for s in scaler.scale_]
    regression = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x), y)
    base = Acceptor(
        model,
        tuple(float(m) for m in scaler.mean_),
        tuple(float(s) for s in scale),
        tuple(float(c) for c in regression.coef_[0]),
        float(regression.intercept_[0]),
        0.0,
    )
    scores = {t: _role_scores(_with(base, t), docs, predicted) for t in [0.0, *THRESHOLDS]}
    best = max(THRESHOLDS, key=lambda t: (scores[t]["role_f1"], -t))
    summary = {
        "events": len(y),
        "positives": sum(y),
        "documents": len(docs),
        "threshold": best,
        "train": {"all kept": scores[0.0], "at the threshold": scores[best]},
    }
    return _with(base, best), summary


def calibration(acceptor: Acceptor, runs: Iterable[Path]) -> dict[str, Any]:
    """Brier score, a reliability table (five bins) and the role scores of other runs."""
    x, y, docs, predicted = _gathered(runs)
    p = [acceptor.probability_of(row) for row in x]
    bins = []
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        inside = [(pi, yi) for pi, yi in zip(p, y, strict=True) if lo <= pi < lo + 0.2 or pi == 1]
        if inside:
            bins.append(
                {
                    "bin": f"{lo:.1f}-{lo + 0.2:.1f}",
                    "events": len(inside),
                    "mean p": round(sum(pi for pi, _ in inside) / len(inside), 3),
                    "share positive": round(sum(yi for _, yi in inside) / len(inside), 3),
                }
            )
    brier = sum((pi - yi) ** 2 for pi, yi in zip(p, y, strict=True)) / max(len(y), 1)
    return {
        "events": len(y),
        "positives": sum(y),
        "brier": round(brier, 4),
        "brier of the base rate": round(_base_brier(y), 4),
        "reliability": bins,
        "all kept": _role_scores(_with(acceptor, 0.0), docs, predicted),
        "at the threshold": _role_scores(acceptor, docs, predicted),
    }


def to_json(acceptor: Acceptor, summary: dict[str, Any], command: str) -> str:
    """The weights file: what `service.pipeline.accept.from_dict` reads, and its origin."""
    data = {
        "model": acceptor.model,
        "features": list(FEATURES),
        "mean": list(acceptor.mean),
        "scale": list(acceptor.scale),
        "coef": list(acceptor.coef),
        "intercept": acceptor.intercept,
        "threshold": acceptor.threshold,
        "fitted": {"command": command, **summary},
    }
    from_dict(data)  # it must load
    return json.dumps(data, indent=1) + "\n"


def _with(acceptor: Acceptor, threshold: float) -> Acceptor:
    return dataclasses.replace(acceptor, threshold=threshold)


def _role_scores(
    acceptor: Acceptor, docs: list[muc4.GoldDoc], predicted: dict[str, ArticleEvents]
) -> dict[str, float]:
    kept = {
        doc.id: predicted[doc.id].model_copy(
            update={
                "events": [e for e in predicted[doc.id].events if acceptor.keeps(e, len(doc.text))]
            }
        )
        for doc in docs
    }
    metrics = muc4.score(docs, kept)["metrics"]
    return {k: round(metrics[k]["value"], 4) for k in ("role_f1", "false_event_rate")}


def _base_brier(y: list[int]) -> float:
    rate = sum(y) / max(len(y), 1)
    return sum((rate - yi) ** 2 for yi in y) / max(len(y), 1)


def write(acceptor: Acceptor, summary: dict[str, Any], command: str) -> Path:
    WEIGHTS.write_text(to_json(acceptor, summary, command), encoding="utf-8")
    return WEIGHTS
