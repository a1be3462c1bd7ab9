"""Choose the attack and field thresholds on a dev set: re-score a run as if it had been
stricter.

A staged run records each event's `confidence`, the model's probability that its
evidence reports an attack (the highest of its runs', after merging). Dropping the
events below a threshold is close to what a run with that `attack_threshold` would
have kept: detect, fill and derive of one run do not depend on the threshold; only a
merge with a run that the threshold drops can differ. So one run at a low threshold
shows every higher one, without a model call; confirm the chosen one with a real run.

Fields work the same way: each model-chosen field keeps, as its span's `confidence`, the
model's probability of the value it wrote; `field_threshold` nulls the
fields below it, which is exactly what re-scoring with `fields=True` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.runner import SETS, read_predictions
from schemas.events import Event

#: The fields the model chooses (`field_threshold`), named as the event and its spans name
#: them; the place, in `location`, is handled apart.
_SCORED_FIELDS = ("attacker", "target", "victims", "reported_by")


def sweep(
    run: Path, set_name: str, thresholds: list[float], fields: bool = False
) -> list[dict[str, Any]]:
    """The set's metrics at each attack threshold, or at each field threshold (`fields`),
    for the documents of `run`."""
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
                        _abstain(e, threshold) if fields else e
                        for e in record.events
                        if fields or e.confidence is None or e.confidence >= threshold
                    ]
                }
            )
            for doc_id, record in predicted.items()
        }
        metrics = gold.score(docs, kept)["metrics"]
        rows.append({"threshold": threshold, **{k: m["value"] for k, m in metrics.items()}})
    return rows


def _abstain(event: Event, threshold: float) -> Event:
    """The event with each model-chosen field below `threshold` set to null."""

    def unsure(name: str) -> bool:
        span = event.spans.get(name)
        return span is not None and span.confidence is not None and span.confidence < threshold

    update: dict[str, Any] = {f: None for f in _SCORED_FIELDS if unsure(f)}
    if unsure("place"):
        update["location"] = event.location.model_copy(update={"place": None})
    spans = {k: v for k, v in event.spans.items() if not unsure(k)}
    return event.model_copy(update={**update, "spans": spans})


def markdown(rows: list[dict[str, Any]]) -> str:
    names = [k for k in rows[0] if k != "threshold"]
    lines = ["| threshold | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for row in rows:
        cells = [f"{row[n]:.3f}" if isinstance(row[n], float) else str(row[n]) for n in names]
        lines.append(f"| {row['threshold']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
