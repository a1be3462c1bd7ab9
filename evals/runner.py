"""One eval run: a gold set's documents through the batch machinery, scored, written.

The extraction is `service.front.batch.run.run_batch` into `<out>/predictions.jsonl`: resumable
after an interruption, with a progress bar, every answer cached. A run folder belongs
to one configuration (`run.json`); scoring again with a warm cache takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from pathlib import Path
from types import ModuleType
from typing import Any

from evals import muc4, muc4_train, seeds, wikievents
from evals.external import MetricSpec, metric_values
from evals.tally import Tally, sum_by_name
from schemas.events import ArticleEvents
from service.config import Settings
from service.extractor import Extractor
from service.front.batch.run import run_batch
from service.front.cli.batch import progress_bar
from service.infra.backends import engine_version
from service.infra.redact import without_credentials

ROOT = Path(__file__).resolve().parent.parent
SETS: dict[str, ModuleType] = {m.NAME: m for m in (seeds, wikievents, muc4, muc4_train)}
SPAN_FIELDS = ("attacker", "target", "place", "weapon", "victims")
CODE = ("service", "prompts", "schemas")  # the folders whose files make a record


class RunFolderError(ValueError):
    """The --out folder holds a run of another configuration."""


def run_eval(
    set_name: str,
    settings: Settings,
    out: Path | None = None,
    limit: int | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Extract, score and write the reports of one gold set; return the report."""
    gold = SETS[set_name]
    docs = gold.load()
    if limit is not None:
        docs = gold.subset(docs, limit)
    identity = _identity(set_name, settings, limit)
    out = out or ROOT / "runs" / _slug(
        f"{set_name}-{settings.prompt}-{identity['model']}" + (f"-n{limit}" if limit else "")
    )
    _claim(out, identity)
    inputs = out / "inputs.jsonl"
    inputs.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs))
    with Extractor(settings) as extractor:
        with progress_bar(quiet) as progress:
            summary = run_batch(
                inputs, out / "predictions.jsonl", extractor=extractor, progress=progress
            )
        cache = extractor.cache.stats()
    predicted, failures = read_predictions(out / "predictions.jsonl")
    report = gold.score(docs, predicted)
    _add_span_grounding(report, {d.id: d.text for d in docs}, predicted)
    usage = [r.usage for r in predicted.values() if r.usage is not None]
    computed = [u for u in usage if not u.cached]
    report["run"] = {
        **identity,
        "documents": len(docs),
        "failures": failures,
        "cache": cache,
        "batch_seconds": round(summary.seconds, 2),
        "tokens": {
            "prompt": sum(u.prompt_tokens for u in usage),
            "completion": sum(u.completion_tokens for u in usage),
        },
        "model_calls": sum(u.model_calls for u in usage),
        "seconds_per_document": (
            round(statistics.mean(u.seconds for u in computed), 2) if computed else None
        ),
    }
    write(report, gold, out)
    report["run"]["paths"] = {k: str(out / f"report.{k}") for k in ("json", "md", "html")}
    return report


def read_predictions(path: Path) -> tuple[dict[str, ArticleEvents], dict[str, str]]:
    """Records and failures of a batch output file, by id (the last line of an id wins)."""
    predicted: dict[str, ArticleEvents] = {}
    failures: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["ok"]:
            predicted[entry["id"]] = ArticleEvents.model_validate(entry["record"])
        else:
            failures[str(entry.get("id"))] = (
                f"{entry['error']['code']}: {entry['error']['message']}"
            )
    return predicted, failures


def write(report: dict[str, Any], gold: ModuleType, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    (out / "report.md").write_text(gold.render_markdown(report), encoding="utf-8")
    (out / "report.html").write_text(gold.render_html(report), encoding="utf-8")


def span_grounding(text: str, record: ArticleEvents) -> Tally:
    """Text fields that slice out of the article at their recorded offsets, of all stated.

    The quality bar: every attacker, target, place, weapon and victims value is the
    article's own words at known offsets, or null.
    """
    hits = stated = 0
    for event in record.events:
        values = {
            "attacker": event.attacker,
            "target": event.target,
            "place": event.location.place,
            "weapon": event.weapon,
            "victims": event.victims,
        }
        for name, value in values.items():
            if value is None:
                continue
            stated += 1
            span = event.spans.get(name)  # type: ignore[call-overload]
            hits += int(span is not None and text[span.start : span.end] == value)
    return Tally(hits, stated, 0, 0)


def _add_span_grounding(
    report: dict[str, Any], texts: dict[str, str], predicted: dict[str, ArticleEvents]
) -> None:
    per_doc = {}
    for doc_id, text in texts.items():
        tally = span_grounding(text, predicted.get(doc_id, ArticleEvents(id=doc_id)))
        report["documents"][doc_id]["tallies"]["span_grounding"] = tally.to_dict()
        per_doc[doc_id] = {"span_grounding": tally}
    total = sum_by_name(per_doc.values())["span_grounding"] if per_doc else Tally()
    report["tallies"]["span_grounding"] = total.to_dict()
    report["metrics"] |= metric_values(
        [MetricSpec("span_grounding", "span_grounding", "precision")], {"span_grounding": total}
    )


def _identity(set_name: str, settings: Settings, limit: int | None) -> dict[str, Any]:
    """What makes two runs comparable: the set, the subset, the prompt, model and engine,
    and the code that turns answers into records (a folder resumed by other code would
    report the old code's records)."""
    return {
        "set": set_name,
        "code": code_version(),
        "limit": limit,
        "prompt": settings.prompt,
        "model": settings.model if settings.gguf is None else str(settings.gguf),
        "base_url": without_credentials(settings.base_url) if settings.base_url else None,
        "engine": f"xllamacpp {engine_version()}" if settings.base_url is None else None,
        "llguidance": settings.uses_llguidance(),
        "accept": settings.accept,
    }


def code_version() -> str:
    """A digest of every source file that makes a record: service/, prompts/, schemas/."""
    digest = hashlib.sha256()
    for part in CODE:
        for path in sorted((ROOT / part).rglob("*")):
            if path.suffix in (".py", ".jinja", ".json"):
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _claim(out: Path, identity: dict[str, Any]) -> None:
    """Refuse to resume a folder that holds another configuration's predictions."""
    out.mkdir(parents=True, exist_ok=True)
    marker = out / "run.json"
    if marker.exists():
        held = json.loads(marker.read_text(encoding="utf-8"))
        if held != identity:
            raise RunFolderError(
                f"{out} holds a run of another configuration ({held}); choose another --out"
            )
    marker.write_text(json.dumps(identity, indent=1))


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", value)
