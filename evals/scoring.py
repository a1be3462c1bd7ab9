"""Score predicted `ArticleEvents` against the gold annotations. Pure: no model calls.

Event detection
    Gold and predicted events of an article are paired one to one (`evals.align`).
    precision = matched / predicted, recall = matched / gold, over all events and, with a
    separate alignment, over main events only (both sides filtered to prominence "main").

Field precision / recall / F1
    For each field of each event (`evals.fields.FIELDS`), the prediction "counts" when its
    value is non-null and gold "counts" when the gold value is non-null. A matched pair
    earns a credit c in [0, 1] by the field's rule.
        precision = sum(c) / predicted values counted
        recall    = sum(c) / gold values counted
    Fields of unmatched predicted events count against precision only, fields of
    unmatched gold events against recall only. Null against null counts on neither side:
    an unstated casualty figure left empty is not free credit, and it inflates neither
    denominator. Null against a figure (either way, 0 included) is an error: "no
    casualties reported" (gold 0) predicted as null loses recall, a figure where the
    article states none loses precision. The micro average over every field of every
    event of every article is the headline `field_f1`; `event_f1` is all-event detection F1.

A ratio whose denominator is 0 is 1.0 when the other side is empty too (nothing to find,
nothing claimed) and 0.0 otherwise; F1 is 0 when precision + recall is 0. A field that
neither side states anywhere in the run has no score at all (None), not 1.0.

Evidence overlap
    Characters of the article cited as evidence by a matched gold and predicted event,
    against all characters cited by predicted (precision) and gold (recall) events.

The report also carries the generic shape every gold set shares (`evals.tally`):
per-document `Tally`s, their sums, and the headline metrics computed from them, which
is what `evals compare` bootstraps.

"All fields right" is the share of matched gold events whose every counted field earned
full credit. The grounding rate is the share of predicted evidence quotes that are really
in the article: match != "missing" and `text[start:end] == quote`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from evals.align import MATCH_THRESHOLD, align, evidence_overlap
from evals.external import MetricSpec, metric_values
from evals.fields import FIELD_NAMES, FIELDS, PARTIAL, field_credit
from evals.tally import Tally, sum_by_name
from schemas.events import ArticleEvents, Event
from schemas.vocab import MatchKind, Prominence
from service.core.aliases import AliasTable, load_aliases

Gold = dict[str, tuple[str, ArticleEvents]]


def prf_arrays(
    credit: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 element-wise (shared with the bootstrap in `evals.compare`)."""
    credit, n_pred, n_gold = (np.asarray(a, dtype=float) for a in (credit, n_pred, n_gold))
    empty = np.where((n_pred == 0) & (n_gold == 0), 1.0, 0.0)
    precision = np.where(n_pred > 0, credit / np.maximum(n_pred, 1), empty)
    recall = np.where(n_gold > 0, credit / np.maximum(n_gold, 1), empty)
    total = precision + recall
    f1 = np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)
    return precision, recall, f1


def prf(credit: float, n_pred: float, n_gold: float) -> dict[str, float]:
    p, r, f = prf_arrays(np.array(credit), np.array(n_pred), np.array(n_gold))
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def event_label(event: Event) -> str:
    """One line that identifies an event to a reader of the report."""
    who = f"{event.attacker or '?'} -> {event.target or '?'}"
    where = ", ".join(x for x in (event.location.place, event.location.country) if x) or "?"
    when = str(event.date.value) if event.date.value else (event.date.text or "?")
    return f"{event.sub_event_type.value} | {who} | {where} | {when} | {event.prominence.value}"


def _evidence_found(record: ArticleEvents, text: str) -> tuple[int, int]:
    total = found = 0
    for event in record.events:
        for ev in event.evidence:
            total += 1
            located = (
                ev.start is not None and ev.end is not None and ev.match is not MatchKind.MISSING
            )
            found += int(located and text[ev.start : ev.end] == ev.quote)
    return found, total


def _main(events: list[Event]) -> list[Event]:
    return [e for e in events if e.prominence is Prominence.MAIN]


def score_article(
    gold: ArticleEvents, predicted: ArticleEvents, text: str, aliases: AliasTable | None = None
) -> dict[str, Any]:
    """Counts and credits of one article: everything later sums are built from."""
    aliases = aliases or load_aliases()
    alignment = align(gold.events, predicted.events, aliases)
    main = align(_main(gold.events), _main(predicted.events), aliases)
    fields = {name: {"credit": 0.0, "pred": 0, "gold": 0} for name in FIELD_NAMES}
    pairs: list[dict[str, Any]] = []
    for gi, pi, sim in alignment.pairs:
        credits: dict[str, float | None] = {}
        for spec in FIELDS:
            credit = field_credit(spec, gold.events[gi], predicted.events[pi], aliases)
            credits[spec.name] = credit
            tally = fields[spec.name]
            tally["credit"] += credit or 0.0
            tally["gold"] += int(spec.get(gold.events[gi]) is not None)
            tally["pred"] += int(spec.get(predicted.events[pi]) is not None)
        pairs.append({"gold": gi, "pred": pi, "similarity": sim, "credits": credits})
    for side, events, indices in (
        ("gold", gold.events, alignment.unmatched_gold),
        ("pred", predicted.events, alignment.unmatched_pred),
    ):
        for i in indices:
            for spec in FIELDS:
                fields[spec.name][side] += int(spec.get(events[i]) is not None)
    found, total = _evidence_found(predicted, text)
    overlap = sum(
        evidence_overlap(gold.events[gi], predicted.events[pi]) for gi, pi, _ in alignment.pairs
    )
    all_right = sum(all(c is None or c == 1.0 for c in p["credits"].values()) for p in pairs)
    return {
        "id": gold.id,
        "gold_hash": hashlib.sha256(gold.model_dump_json().encode()).hexdigest(),
        "detection": {
            "all": {
                "matched": len(alignment.pairs),
                "pred": len(predicted.events),
                "gold": len(gold.events),
            },
            "main": {
                "matched": len(main.pairs),
                "pred": len(_main(predicted.events)),
                "gold": len(_main(gold.events)),
            },
        },
        "fields": fields,
        "pairs": pairs,
        "unmatched_gold": alignment.unmatched_gold,
        "unmatched_pred": alignment.unmatched_pred,
        "all_right": all_right,
        "evidence": {"found": found, "total": total},
        "evidence_chars": {
            "overlap": overlap,
            "pred": _cited(predicted.events),
            "gold": _cited(gold.events),
        },
        "gold_labels": [event_label(e) for e in gold.events],
        "pred_labels": [event_label(e) for e in predicted.events],
    }


def _cited(events: list[Event]) -> int:
    return sum(
        len(
            {
                i
                for ev in e.evidence
                if ev.start is not None and ev.end is not None
                for i in range(ev.start, ev.end)
            }
        )
        for e in events
    )


def tallies(article: dict[str, Any]) -> dict[str, Tally]:
    """One article's counts as the named tallies every gold set reports."""
    det, chars = article["detection"], article["evidence_chars"]
    out = {
        "events": Tally.of(det["all"]["matched"], det["all"]["pred"], det["all"]["gold"]),
        "events_main": Tally.of(det["main"]["matched"], det["main"]["pred"], det["main"]["gold"]),
        "evidence_chars": Tally.of(chars["overlap"], chars["pred"], chars["gold"]),
    }
    fields = {
        f"field:{name}": Tally.of(f["credit"], f["pred"], f["gold"])
        for name, f in article["fields"].items()
    }
    return {**out, "fields": sum(fields.values(), Tally()), **fields}


METRICS = (
    MetricSpec("event_f1", "events", "f1", gate=True),
    MetricSpec("field_f1", "fields", "f1", gate=True),
    MetricSpec("main_event_f1", "events_main", "f1"),
    MetricSpec("evidence_overlap_f1", "evidence_chars", "f1"),
    *(MetricSpec(f"{name}_f1", f"field:{name}", "f1") for name in FIELD_NAMES),
)


def _detection(articles: list[dict[str, Any]], kind: str) -> dict[str, float]:
    keys = ("matched", "pred", "gold")
    counts = {k: sum(a["detection"][kind][k] for a in articles) for k in keys}
    return {**counts, **prf(counts["matched"], counts["pred"], counts["gold"])}


def summarise(articles: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline numbers from per-article counts (micro averages over all articles)."""
    per_field = {}
    for name in FIELD_NAMES:
        tally = {k: sum(a["fields"][name][k] for a in articles) for k in ("credit", "pred", "gold")}
        scores: dict[str, float | None] = dict(prf(tally["credit"], tally["pred"], tally["gold"]))
        if tally["pred"] == 0 and tally["gold"] == 0:  # stated by neither side: no score
            scores = dict.fromkeys(scores)
        per_field[name] = {**tally, **scores}
    micro = {k: sum(f[k] for f in per_field.values()) for k in ("credit", "pred", "gold")}
    micro |= prf(micro["credit"], micro["pred"], micro["gold"])
    events_all = _detection(articles, "all")
    matched = events_all["matched"]
    right = sum(a["all_right"] for a in articles)
    found = sum(a["evidence"]["found"] for a in articles)
    total = sum(a["evidence"]["total"] for a in articles)
    return {
        "event_f1": events_all["f1"],
        "field_f1": micro["f1"],
        "event_detection": {"all": events_all, "main": _detection(articles, "main")},
        "field_micro": micro,
        "fields": per_field,
        "all_fields_right": {
            "share": right / matched if matched else None,
            "events": right,
            "matched": matched,
        },
        "grounding_rate": found / total if total else None,
        "grounding": {"found": found, "total": total},
    }


def score_run(
    gold: Gold, predicted: dict[str, ArticleEvents], aliases: AliasTable | None = None
) -> dict[str, Any]:
    """The full report of one run: headline numbers, per-article detail and the records.

    An article missing from `predicted` scores as an empty prediction and is listed
    under `missing_predictions`; predictions for unknown ids are ignored.
    """
    aliases = aliases or load_aliases()
    articles: dict[str, dict[str, Any]] = {}
    missing = []
    for article_id, (text, record) in sorted(gold.items()):
        if article_id not in predicted:
            missing.append(article_id)
        pred = predicted.get(article_id, ArticleEvents(id=article_id))
        scores = score_article(record, pred, text, aliases)
        one = summarise([scores])
        scores["event"] = one["event_detection"]["all"]
        scores["field"] = one["field_micro"]
        articles[article_id] = scores
    per_doc = {i: tallies(a) for i, a in articles.items()}
    sums = sum_by_name(per_doc.values())
    return {
        "set": "seeds",
        **summarise(list(articles.values())),
        "metrics": metric_values(METRICS, sums),
        "tallies": {k: t.to_dict() for k, t in sums.items()},
        "documents": {
            i: {"tallies": {k: t.to_dict() for k, t in doc.items()}} for i, doc in per_doc.items()
        },
        "articles": articles,
        "missing_predictions": missing,
        "settings": {"match_threshold": MATCH_THRESHOLD, "partial_credit": PARTIAL},
        "predicted": {
            i: predicted[i].model_dump(mode="json") for i in sorted(gold) if i in predicted
        },
        "gold": {i: record.model_dump(mode="json") for i, (_, record) in sorted(gold.items())},
        "texts": {i: text for i, (text, _) in sorted(gold.items())},
    }


def load_gold(seed_dir: Path, gold_dir: Path) -> Gold:
    """Gold records with their article texts, refusing a gold file whose seed text changed."""
    gold: Gold = {}
    for path in sorted(Path(gold_dir).glob("*.json")):
        if path.name == "links.json":  # cross-article links (evals.links), not an article
            continue
        record = ArticleEvents.model_validate_json(path.read_text(encoding="utf-8"))
        text = (Path(seed_dir) / f"{path.stem}.txt").read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if record.text_sha256 != digest:
            raise ValueError(f"{path.name}: text_sha256 does not match seed {path.stem}.txt")
        gold[path.stem] = (text, record)
    return gold
