"""Write a scored run as JSON (for `evals.compare`), Markdown (for a summary) and HTML.

The HTML is one self-contained file: per article, every gold event beside the predicted
event it was paired with, field by field with its credit, and the article text with the
gold and predicted evidence spans highlighted in different colours. Jinja2 autoescapes
everything: article text and model output are untrusted.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from evals.fields import FIELDS, FieldSpec
from schemas.events import ArticleEvents, Deaths, Event, EventDate

_TEMPLATES = Path(__file__).with_name("templates")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    """A score, or "n/a" for a field neither side states (no score, not a perfect one)."""
    return "n/a" if value is None else f"{value:.3f}"


def _prf_cell(d: dict[str, Any]) -> str:
    return f"{d['f1']:.3f} (P {d['precision']:.3f} / R {d['recall']:.3f})"


def _headline(report: dict[str, Any]) -> list[tuple[str, str]]:
    det, micro = report["event_detection"], report["field_micro"]
    right, grounding = report["all_fields_right"], report["grounding"]
    return [
        ("event F1, all events", _prf_cell(det["all"])),
        ("event F1, main events", _prf_cell(det["main"])),
        ("field F1, micro", _prf_cell(micro)),
        (
            "matched events with every field right",
            f"{right['events']}/{right['matched']} ({_pct(right['share'])})",
        ),
        (
            "evidence quotes found in the article",
            f"{grounding['found']}/{grounding['total']} ({_pct(report['grounding_rate'])})",
        ),
        ("evidence overlap with gold, characters", _prf_cell(report["tallies"]["evidence_chars"])),
        *(
            [("text fields at their offsets (span grounding)", _pct(spans["value"]))]
            if (spans := report["metrics"].get("span_grounding"))
            else []
        ),
        *(
            [
                ("cross-article links, pairwise", _prf_cell(links["pairwise"])),
                ("cross-article links, B-cubed", _prf_cell(links["bcubed"])),
            ]
            if (links := report.get("links"))
            else []
        ),
    ]


def render_markdown(report: dict[str, Any]) -> str:
    """Short summary: headline metrics, per-field and per-article tables."""
    det = report["event_detection"]["all"]
    lines = [
        "# Extraction eval",
        "",
        f"{det['gold']} gold events, {det['pred']} predicted, {det['matched']} matched.",
        "",
        "| metric | value |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in _headline(report)),
    ]
    if report["missing_predictions"]:
        lines += ["", "No prediction for: " + ", ".join(report["missing_predictions"])]
    lines += [
        "",
        "## Fields",
        "",
        "| field | P | R | F1 | credit | predicted | gold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, f in report["fields"].items():
        lines.append(
            f"| {name} | {_num(f['precision'])} | {_num(f['recall'])} | {_num(f['f1'])} "
            f"| {f['credit']:.2f} | {f['pred']} | {f['gold']} |"
        )
    lines += [
        "",
        "## Articles",
        "",
        "| article | gold | predicted | matched | event F1 | field F1 | evidence found |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for article_id, a in report["articles"].items():
        d, ev = a["detection"]["all"], a["evidence"]
        lines.append(
            f"| {article_id} | {d['gold']} | {d['pred']} | {d['matched']} "
            f"| {a['event']['f1']:.3f} | {a['field']['f1']:.3f} | {ev['found']}/{ev['total']} |"
        )
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Deaths):
        high = "open" if value.high is None else value.high
        return f"{value.best} (low {value.low}, high {high})"
    if isinstance(value, EventDate):
        return f"{value.value} ({value.precision})"
    return str(getattr(value, "value", value))


def _credit_class(credit: float | None) -> str:
    if credit is None:
        return ""
    return "full" if credit == 1.0 else "part" if credit > 0 else "zero"


def _rows(gold: Event | None, pred: Event | None, credits: dict[str, Any]) -> list[dict[str, str]]:
    def value(spec: FieldSpec, event: Event | None) -> str:
        return "" if event is None else _show(spec.get(event))

    rows = []
    for spec in FIELDS:
        credit = credits.get(spec.name)
        rows.append(
            {
                "field": spec.name,
                "gold": value(spec, gold),
                "pred": value(spec, pred),
                "credit": "" if credit is None else f"{credit:.2f}",
                "cls": _credit_class(credit),
            }
        )
    return rows


def _segments(text: str, spans: list[tuple[int, int, str, str]]) -> list[dict[str, str]]:
    """Cut the text at every span edge; each piece knows which spans cover it."""
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    segments = []
    for a, b in pairwise(cuts):
        cover = [sp for sp in spans if sp[0] <= a and b <= sp[1]]
        segments.append(
            {
                "text": text[a:b],
                "cls": " ".join(sorted({kind for _, _, kind, _ in cover})),
                "title": "; ".join(label for _, _, _, label in cover),
            }
        )
    return segments


def _spans(record: ArticleEvents, text: str, kind: str) -> list[tuple[int, int, str, str]]:
    """Evidence spans that really slice to their quote (a wrong offset is not highlighted)."""
    return [
        (ev.start, ev.end, kind, f"{kind} #{i}")
        for i, event in enumerate(record.events)
        for ev in event.evidence
        if ev.start is not None and ev.end is not None and text[ev.start : ev.end] == ev.quote
    ]


def _article_view(article_id: str, report: dict[str, Any]) -> dict[str, Any]:
    a, text = report["articles"][article_id], report["texts"][article_id]
    gold = ArticleEvents.model_validate(report["gold"][article_id])
    pred = ArticleEvents.model_validate(report["predicted"].get(article_id, {"id": article_id}))
    g_labels, p_labels = a["gold_labels"], a["pred_labels"]
    pairs = [
        {
            "title": f"gold #{p['gold']} = predicted #{p['pred']} "
            f"(similarity {p['similarity']:.2f}): {g_labels[p['gold']]}",
            "rows": _rows(gold.events[p["gold"]], pred.events[p["pred"]], p["credits"]),
        }
        for p in a["pairs"]
    ]
    pairs += [
        {"title": f"gold #{i} missed: {g_labels[i]}", "rows": _rows(gold.events[i], None, {})}
        for i in a["unmatched_gold"]
    ]
    pairs += [
        {
            "title": f"predicted #{j}, no gold match: {p_labels[j]}",
            "rows": _rows(None, pred.events[j], {}),
        }
        for j in a["unmatched_pred"]
    ]
    ev = a["evidence"]
    return {
        "id": article_id,
        "headlines": gold.headlines,
        "gold_n": a["detection"]["all"]["gold"],
        "pred_n": a["detection"]["all"]["pred"],
        "matched": a["detection"]["all"]["matched"],
        "event_f1": f"{a['event']['f1']:.3f}",
        "field_f1": f"{a['field']['f1']:.3f}",
        "grounding": f"{ev['found']}/{ev['total']}",
        "pairs": pairs,
        "segments": _segments(text, _spans(gold, text, "gold") + _spans(pred, text, "pred")),
    }


def render_html(report: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    fields = [
        {
            "name": name,
            **{k: _num(f[k]) for k in ("precision", "recall", "f1")},
            "credit": f"{f['credit']:.2f}",
            "pred": f["pred"],
            "gold": f["gold"],
        }
        for name, f in report["fields"].items()
    ]
    return env.get_template("report.html.j2").render(
        headline=_headline(report),
        missing=report["missing_predictions"],
        fields=fields,
        articles=[_article_view(i, report) for i in report["articles"]],
    )


def write_reports(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and report.html into `out_dir`; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "report.json",
        "markdown": out / "report.md",
        "html": out / "report.html",
    }
    paths["json"].write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths["markdown"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths
