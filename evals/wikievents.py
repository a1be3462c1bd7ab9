"""Score predictions against WikiEvents (23 news documents, KAIROS attack/die/injure mentions).

WikiEvents labels *mentions* (every sentence that refers to an attack, even the same attack
again); we produce *events* with evidence spans. So the two meet at sentences
(`service.core.sentences.split_sentences`). A gold mention's *window* is the sentence holding its
trigger (the trigger itself if it lies in no sentence); one of our events *covers* a mention
when one of its located evidence spans overlaps that window.

Tally "attack_mentions":
    tp_gold = gold Conflict.Attack.* mentions covered by any of our events,
    n_gold = gold attack mentions; tp_pred = our events covering any gold mention (attack,
    die or injure: a death in an attack is the same fact), n_pred = our events.
    Metrics attack_recall and event_precision (the gates).

Roles, tallies "role:<field>" and their sum "roles". Gold roles map onto our fields:
attacker <- Attacker, Killer, Injurer; target <- Target; place <- Place;
weapon <- Instrument, ExplosiveDevice; victims <- Victim. A (mention, field) slot is annotated
when `args` has one of the field's roles; its texts are those roles' `args` and
`args_informative` values.
    Gold side: one count per annotated slot, found when an event covering the mention has a
    value for the field that matches any text of the slot.
    Predicted side: a non-null field of an event that covers at least one mention annotating
    it counts once, right when it matches any text of that field of any covered mention.
    A value where no covered mention annotates the field is unjudged: counted per document
    ("unjudged"), in no tally. Our place is `location.place` or `location.country` (gold
    Place is as often "England" as "Rue Victor Hugo"): one value, right if either matches.

Strings match by `evals.external.contains` (see `STRING_RULE`): gold arguments are head
words ("people", "Taliban"), so containment either way is the intended leniency.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.external import (
    STRING_RULE,
    MetricSpec,
    Span,
    build_report,
    contains,
    evidence_spans,
    hash_order,
    markdown_summary,
    md_table,
    overlaps,
    pair,
    render,
    segments,
    text_mismatch,
)
from evals.scoring import event_label
from evals.tally import Tally
from schemas.events import ArticleEvents, Event
from service.core.sentences import sentence_at, split_sentences

NAME = "wikievents"
ROOT = Path(__file__).resolve().parent / "sets" / NAME
ATTACK = "Conflict.Attack."
FIELD_ROLES: dict[str, tuple[str, ...]] = {
    "attacker": ("Attacker", "Killer", "Injurer"),
    "target": ("Target",),
    "place": ("Place",),
    "weapon": ("Instrument", "ExplosiveDevice"),
    "victims": ("Victim",),
}
METRICS = (
    MetricSpec("attack_recall", "attack_mentions", "recall", gate=True),
    MetricSpec("event_precision", "attack_mentions", "precision", gate=True),
    MetricSpec("role_f1", "roles", "f1"),
    *(MetricSpec(f"{f}_f1", f"role:{f}", "f1") for f in ("attacker", "target", "place")),
    *(MetricSpec(f"{f}_recall", f"role:{f}", "recall") for f in FIELD_ROLES),
)
RULES = {
    "window": "A gold mention's window is the split_sentences() sentence holding its trigger "
    "(the trigger itself if it lies in no sentence). An event covers a mention when one of its "
    "located evidence spans overlaps the window.",
    "attack_mentions": "gold: Conflict.Attack.* mentions covered by any event / all of them. "
    "pred: events covering any gold attack, die or injure mention / all events.",
    "role_map": "attacker <- Attacker, Killer, Injurer; target <- Target; place <- Place "
    "(matched by location.place or location.country); weapon <- Instrument, ExplosiveDevice; "
    "victims <- Victim. Gold texts of a slot: args and args_informative of those roles.",
    "roles": "gold: one per (mention, field) slot annotated, found when an event covering the "
    "mention has a matching value. pred: one per non-null field of an event covering a mention "
    "that annotates the field, right when it matches a text of any such mention. Values where "
    "no covered mention annotates the field are unjudged (per-document count, no tally).",
    "strings": "contains. " + STRING_RULE,
}


@dataclass(frozen=True)
class Mention:
    """One gold event mention (attack, die or injure)."""

    id: str
    event_type: str
    trigger: str
    start: int
    end: int
    args: dict[str, list[str]]
    arg_offsets: dict[str, list[list[int]]]
    informative: dict[str, list[str]]

    @property
    def attack(self) -> bool:
        return self.event_type.startswith(ATTACK)

    def annotates(self, field: str) -> bool:
        return any(self.args.get(role) for role in FIELD_ROLES[field])

    def texts(self, field: str) -> list[str]:
        """The field's gold strings, head words and informative mentions, without repeats."""
        roles = FIELD_ROLES[field]
        texts = (t for r in roles for t in self.args.get(r, []) + self.informative.get(r, []))
        return list(dict.fromkeys(texts))


@dataclass(frozen=True)
class GoldDoc:
    id: str
    text: str
    mentions: tuple[Mention, ...]


def load(root: Path = ROOT) -> list[GoldDoc]:
    """All documents sorted by id; refuses a text that does not fit its annotations."""
    docs = []
    for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        text = (root / "docs" / f"{raw['doc_id']}.txt").read_text(encoding="utf-8")
        mentions = tuple(
            Mention(
                m["event_id"],
                m["event_type"],
                m["trigger"],
                *m["trigger_offsets"],
                m["args"],
                m["arg_offsets"],
                m["args_informative"],
            )
            for m in raw["events"]
        )
        if len(text) != raw["n_chars"] or any(text[m.start : m.end] != m.trigger for m in mentions):
            raise ValueError(f"{raw['doc_id']}: text does not match gold.jsonl")
        docs.append(GoldDoc(raw["doc_id"], text, mentions))
    return sorted(docs, key=lambda d: d.id)


def subset(docs: list[GoldDoc], limit: int) -> list[GoldDoc]:
    """The first `limit` documents in sha256(doc_id) order, returned sorted by id."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    keep = set(hash_order(d.id for d in docs)[:limit])
    return [d for d in docs if d.id in keep]


def _values(event: Event, field: str) -> list[str]:
    """Our non-null values for a field: gold Place is as often a country as a street."""
    if field == "place":
        values = [event.location.place, event.location.country]
    else:
        values = [getattr(event, field)]
    return [v for v in values if v is not None]


def _hit(values: list[str], texts: list[str]) -> bool:
    return any(contains(v, t) for v in values for t in texts)


def score_document(doc: GoldDoc, record: ArticleEvents) -> tuple[dict[str, Tally], dict[str, Any]]:
    """Tallies of one document, and the detail the HTML shows."""
    sentences = split_sentences(doc.text)
    windows = []
    for m in doc.mentions:
        s = sentence_at(sentences, m.start)
        windows.append((s.start, s.end) if s else (m.start, m.end))
    events = record.events
    spans = [evidence_spans(e, doc.text) for e in events]
    covers = [[i for i, w in enumerate(windows) if any(overlaps(s, w) for s in sp)] for sp in spans]
    covered_by = [[j for j, c in enumerate(covers) if i in c] for i in range(len(doc.mentions))]
    attacks = [i for i, m in enumerate(doc.mentions) if m.attack]
    tallies = {
        "attack_mentions": Tally(
            tp_pred=sum(bool(c) for c in covers),
            n_pred=len(events),
            tp_gold=sum(bool(covered_by[i]) for i in attacks),
            n_gold=len(attacks),
        )
    }
    mention_roles: list[dict[str, Any]] = [{} for _ in doc.mentions]
    event_fields: list[dict[str, Any]] = [{} for _ in events]
    unjudged = dict.fromkeys(FIELD_ROLES, 0)
    for field in FIELD_ROLES:
        found = n_gold = 0
        for i, m in enumerate(doc.mentions):
            if m.annotates(field):
                pred = [v for j in covered_by[i] for v in _values(events[j], field)]
                hit = _hit(pred, m.texts(field))
                mention_roles[i][field] = {"gold": m.texts(field), "pred": pred, "found": hit}
                found, n_gold = found + hit, n_gold + 1
        right = n_pred = 0
        for j, event in enumerate(events):
            values = _values(event, field)
            if not values:
                continue
            judges = [doc.mentions[i] for i in covers[j] if doc.mentions[i].annotates(field)]
            if not judges:
                verdict = "unjudged"
                unjudged[field] += 1
            else:
                ok = _hit(values, [t for m in judges for t in m.texts(field)])
                verdict = "right" if ok else "wrong"
                right, n_pred = right + ok, n_pred + 1
            event_fields[j][field] = {"value": " / ".join(values), "verdict": verdict}
        tallies[f"role:{field}"] = Tally(right, n_pred, found, n_gold)
    tallies["roles"] = sum((tallies[f"role:{f}"] for f in FIELD_ROLES), Tally())
    detail = {
        "text": doc.text,
        "text_mismatch": text_mismatch(record, doc.text),
        "unjudged": unjudged,
        "mentions": [
            {
                "id": m.id,
                "type": m.event_type,
                "trigger": m.trigger,
                "span": [m.start, m.end],
                "window": list(windows[i]),
                "args": [[r, *o] for r, offs in m.arg_offsets.items() for o in offs],
                "covered_by": covered_by[i],
                "roles": mention_roles[i],
            }
            for i, m in enumerate(doc.mentions)
        ],
        "events": [
            {
                "label": event_label(e),
                "spans": [list(s) for s in spans[j]],
                "covers": [doc.mentions[i].id for i in covers[j]],
                "fields": event_fields[j],
            }
            for j, e in enumerate(events)
        ],
    }
    return tallies, detail


def score(docs: list[GoldDoc], predicted: dict[str, ArticleEvents]) -> dict[str, Any]:
    """The report of one run (shape in `evals.external.build_report`)."""
    return build_report(NAME, docs, predicted, score_document, METRICS, RULES)


def render_markdown(report: dict[str, Any]) -> str:
    """Headline metrics, tallies and one row per document."""
    header = ("document", "attacks found", "events right", "roles found", "roles right", "unjudged")
    rows = [
        (
            doc_id,
            pair(d["tallies"]["attack_mentions"], "gold"),
            pair(d["tallies"]["attack_mentions"], "pred"),
            pair(d["tallies"]["roles"], "gold"),
            pair(d["tallies"]["roles"], "pred"),
            sum(d["unjudged"].values()),
        )
        for doc_id, d in report["documents"].items()
    ]
    lines = markdown_summary(report, "WikiEvents eval")
    lines += ["", "## Documents", "", *md_table(header, rows)]
    return "\n".join(lines) + "\n"


def _document_view(doc_id: str, d: dict[str, Any]) -> dict[str, Any]:
    spans = []
    for m in d["mentions"]:
        spans.append(Span(*m["span"], "trigger", f"{m['id']} {m['type']} trigger"))
        spans += [Span(s, e, "arg", f"{m['id']} {role}") for role, s, e in m["args"]]
    for j, e in enumerate(d["events"]):
        spans += [Span(s, t, "pred", f"event #{j}") for s, t in e["spans"]]
    return {
        "id": doc_id,
        "counts": {k: {s: pair(t, s) for s in ("pred", "gold")} for k, t in d["tallies"].items()},
        "unjudged": d["unjudged"],
        "mentions": d["mentions"],
        "events": d["events"],
        "fields": list(FIELD_ROLES),
        "segments": segments(d["text"], spans),
    }


def render_html(report: dict[str, Any]) -> str:
    """One self-contained page: summary, then per document the text and role tables."""
    docs = [_document_view(i, d) for i, d in report["documents"].items()]
    return render("wikievents.html.j2", report, documents=docs)
