"""Choose the attack threshold on a dev set: re-score a run as if it had been stricter.

A staged run records each event's `confidence`, the model's probability that its
evidence reports an attack (the highest of its runs', after merging). Dropping the
events below a threshold is close to what a run with that `attack_threshold` would
have kept: detect, fill and derive of one run do not depend on the threshold; only a
merge with a run that the threshold drops can differ. So one run at a low threshold
shows every higher one, without a model call; confirm the chosen one with a real run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.runner import SETS, read_predictions


def sweep(run: Path, set_name: str, thresholds: list[float]) -> list[dict[str, Any]]:
    """The set's metrics at each threshold, for the documents of `run`."""
    gold = SETS[set_name]
    ids = {json.loads(line)["id"] for line in (run / "inputs.jsonl").read_text().splitlines()}
    docs = [d for d in gold.load() if d.id in ids]
    predicted, _ = read_predictions(run / "predictions.jsonl")
    rows = []
    for threshold in thresholds:
        kept = {
            doc_id: record.model_copy(
                update={
                    "events": [
                        e
                        for e in record.events
                        if e.confidence is None or e.confidence >= threshold
                    ]
                }
            )
            for doc_id, record in predicted.items()
        }
        metrics = gold.score(docs, kept)["metrics"]
        rows.append({"threshold": threshold, **{k: m["value"] for k, m in metrics.items()}})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    names = [k for k in rows[0] if k != "threshold"]
    lines = ["| threshold | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for row in rows:
        cells = [f"{row[n]:.3f}" if isinstance(row[n], float) else str(row[n]) for n in names]
        lines.append(f"| {row['threshold']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
