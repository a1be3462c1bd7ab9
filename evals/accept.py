"""Fit the acceptor (`service/pipeline/accept.py`) on MUC-4 train answers, and report
its calibration on runs it was not fitted on.

Labels come from the gold templates. An event is a positive when its report has an
in-scope incident (attack, bombing) and one of its evidence sentences holds a mention
of that incident's gold fillers; every other event (a report with no incident, a
kidnapping, a sentence about none of the fillers) is a negative. An attacker, target or
victims value is a positive when the MUC-4 scorer counts it right (`muc4._judge`), a
negative when wrong; one that fills only an out-of-scope incident is left out. The runs
read must have been made with `NEWSEVENTS_ACCEPT=0`, so that nothing was dropped yet.
Thresholds are chosen on the training runs themselves, the event's first, then each
role's in turn, each the one that maximises role-filler F1 (on a tie, the lower
false-event rate, then the lower threshold); calibration (Brier score,
reliability table) and the role scores are read on other runs, e.g. MUC-4 dev.

    NEWSEVENTS_ACCEPT=0 python -m evals run --set muc4-train --limit 200 --out runs/t200
    python -m evals fit-accept runs/t200 --check runs/dev20
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals import muc4
from evals.external import same
from evals.runner import SETS, read_predictions
from schemas.events import ArticleEvents
from service.pipeline.accept import (
    ROLES,
    WEIGHTS,
    Acceptor,
    Logistic,
    event_features,
    from_dict,
    role_features,
    to_dict,
)

THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 19)]
KEEP_ALL = 0.0


@dataclass
class Examples:
    """Features and labels of the events and role values of some MUC-4 runs."""

    events: tuple[list[list[float]], list[int]] = field(default_factory=lambda: ([], []))
    roles: dict[str, tuple[list[list[float]], list[int]]] = field(
        default_factory=lambda: {r: ([], []) for r in ROLES}
    )
    docs: list[muc4.GoldDoc] = field(default_factory=list)
    predicted: dict[str, ArticleEvents] = field(default_factory=dict)


def examples(runs: Iterable[Path]) -> Examples:
    """Every event and role value of the runs, with its label."""
    found = Examples()
    for run in runs:
        identity = json.loads((run / "run.json").read_text(encoding="utf-8"))
        predicted, _ = read_predictions(run / "predictions.jsonl")
        docs = [d for d in SETS[identity["set"]].load() if d.id in predicted]
        found.docs += docs
        found.predicted |= predicted
        for doc in docs:
            _label(doc, predicted[doc.id], found)
    return found


def _label(doc: muc4.GoldDoc, record: ArticleEvents, found: Examples) -> None:
    gold = muc4._entities(t for t in doc.templates if t.in_scope)
    other = muc4._entities(t for t in doc.templates if not t.in_scope)
    offsets = [m[1] for entities in gold.values() for entity in entities for m in entity]
    for event in record.events:
        spans = [(ev.start, ev.end or 0) for ev in event.evidence if ev.start is not None]
        found.events[0].append(event_features(event, len(doc.text)))
        found.events[1].append(int(any(s <= o < t for s, t in spans for o in offsets)))
        for role in ROLES:
            x = role_features(event, role, doc.text)
            value = getattr(event, role)
            if x is None or value is None:
                continue
            verdict = muc4._judge(role, value, gold, other, (same,))[1]
            if verdict != "excluded":
                found.roles[role][0].append(x)
                found.roles[role][1].append(int(verdict == "right"))


def _logistic(x: list[list[float]], y: list[int]) -> Logistic:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    regression = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x), y)
    return Logistic(
        tuple(float(m) for m in scaler.mean_),
        tuple(float(s) if s > 0 else 1.0 for s in scaler.scale_),
        tuple(float(c) for c in regression.coef_[0]),
        float(regression.intercept_[0]),
        KEEP_ALL,
    )


def fit(runs: list[Path], model: str) -> tuple[Acceptor, dict[str, Any]]:
    """The acceptor fitted on the runs' events and role values, thresholds chosen on them."""
    found = examples(runs)
    acceptor = Acceptor(
        model,
        _logistic(*found.events),
        {r: _logistic(*found.roles[r]) for r in ROLES if len(set(found.roles[r][1])) == 2},
    )
    kept = _role_scores(acceptor, found)
    for part in ("event", *acceptor.roles):
        scores = {t: _role_scores(_at(acceptor, part, t), found) for t in [KEEP_ALL, *THRESHOLDS]}
        best = max(scores, key=lambda t: (scores[t]["role_f1"], -scores[t]["false_event_rate"], -t))
        acceptor = _at(acceptor, part, best)
    summary = {
        "documents": len(found.docs),
        "events": len(found.events[1]),
        "positive events": sum(found.events[1]),
        "role values": {r: len(found.roles[r][1]) for r in ROLES},
        "right role values": {r: sum(found.roles[r][1]) for r in ROLES},
        "thresholds": {"event": acceptor.event.threshold}
        | {r: w.threshold for r, w in acceptor.roles.items()},
        "train": {"all kept": kept, "accepted": _role_scores(acceptor, found)},
    }
    return acceptor, summary


def calibration(acceptor: Acceptor, runs: Iterable[Path]) -> dict[str, Any]:
    """Brier scores, the events' reliability table and the role scores of other runs."""
    found = examples(runs)
    x, y = found.events
    p = [acceptor.event.probability_of(row) for row in x]
    bins = []
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        inside = [(pi, yi) for pi, yi in zip(p, y, strict=True) if lo <= pi < lo + 0.2 or pi == 1]
        if inside:
            bins.append(
                {
                    "p": f"{lo:.1f}-{lo + 0.2:.1f}",
                    "events": len(inside),
                    "mean p": round(sum(pi for pi, _ in inside) / len(inside), 3),
                    "share right": round(sum(yi for _, yi in inside) / len(inside), 3),
                }
            )
    briers = {"event": _brier(acceptor.event, x, y)} | {
        r: _brier(w, *found.roles[r]) for r, w in acceptor.roles.items()
    }
    base = {"event": _brier(None, x, y)} | {
        r: _brier(None, *found.roles[r]) for r in acceptor.roles
    }
    return {
        "documents": len(found.docs),
        "events": len(y),
        "brier": briers,
        "brier of the base rate": base,
        "reliability of events": bins,
        "all kept": _role_scores(_keeping_all(acceptor), found),
        "accepted": _role_scores(acceptor, found),
    }


def to_json(acceptor: Acceptor, summary: dict[str, Any], command: str) -> str:
    """The weights file: what `service.pipeline.accept.from_dict` reads, and its origin."""
    data = to_dict(acceptor) | {"fitted": {"command": command, **summary}}
    from_dict(data)  # it must load
    return json.dumps(data, indent=1) + "\n"


def write(acceptor: Acceptor, summary: dict[str, Any], command: str) -> Path:
    WEIGHTS.write_text(to_json(acceptor, summary, command), encoding="utf-8")
    return WEIGHTS


def _at(acceptor: Acceptor, part: str, threshold: float) -> Acceptor:
    """The acceptor with one part's threshold changed."""
    if part == "event":
        return dataclasses.replace(
            acceptor, event=dataclasses.replace(acceptor.event, threshold=threshold)
        )
    roles = acceptor.roles | {part: dataclasses.replace(acceptor.roles[part], threshold=threshold)}
    return dataclasses.replace(acceptor, roles=roles)


def _keeping_all(acceptor: Acceptor) -> Acceptor:
    for part in ("event", *acceptor.roles):
        acceptor = _at(acceptor, part, KEEP_ALL)
    return acceptor


def _role_scores(acceptor: Acceptor, found: Examples) -> dict[str, float]:
    kept = {}
    for doc in found.docs:
        record = found.predicted[doc.id]
        events = [
            acceptor.kept_roles(e, doc.text) for e in record.events if acceptor.keeps(e, doc.text)
        ]
        kept[doc.id] = record.model_copy(update={"events": events})
    metrics = muc4.score(found.docs, kept)["metrics"]
    return {k: round(metrics[k]["value"], 4) for k in ("role_f1", "false_event_rate")}


def _brier(weight: Logistic | None, x: list[list[float]], y: list[int]) -> float:
    """Mean squared error of the weight's probabilities (None: the base rate's)."""
    if not y:
        return 0.0
    rate = sum(y) / len(y)
    p = [weight.probability_of(row) if weight else rate for row in x]
    return round(sum((pi - yi) ** 2 for pi, yi in zip(p, y, strict=True)) / len(y), 4)
