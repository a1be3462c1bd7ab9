"""Score predictions against the MUC-4 dev split (200 reports, role-filler entity templates).

Document-level role-filler entity scoring after GRIT (Du et al. 2021), per document and role:

Gold: the entities of the document's in-scope templates; two entities whose mention sets
    share a normalised string are one (the same filler of two incidents).
Ours: every event of the document gives fillers: attacker -> PerpOrg when it matches a
    PerpOrg entity, else PerpInd (a right one if it matches a PerpInd entity, a wrong one
    otherwise); target -> Victim when it matches a Victim entity, else Target (MUC-4's
    Victim is the human target, its Target the physical one; our target is whoever or
    whatever was attacked, so an assassinated minister is our target and their Victim);
    victims -> Victim; weapon -> Weapon. Fillers are deduplicated per document and role by
    normalised string (a target and a victims value naming one person are one Victim
    filler); a string that normalises to '' is no filler.
Tally "role:<Role>": tp_pred = fillers matching any mention of a gold entity of the role,
    n_pred = fillers; tp_gold = gold entities matched by any filler (once, however many
    fillers name it), n_gold = gold entities. "roles" is their sum; metric role_f1 (a gate).

Scope: our schema covers attacks and bombings (`IN_SCOPE`); kidnapping, arson, robbery and
forced work stoppage are outside it. A filler that matches no in-scope entity but an
out-of-scope entity of its role is excluded: neither right nor wrong, counted per document.
The "all_incidents:" tallies score against every template, so nothing is hidden.

Matching (`evals.external.STRING_RULE`): the headline uses exact equality after
normalisation (GRIT's own convention); the "role_head:" / "roles_head" tallies use
whole-word containment either way. There a filler's role is decided by an exact match
first, so "fmln guerrillas" stays the PerpInd it equals, not the PerpOrg "fmln" it contains.

False events: tally "false_events" has n_pred = reports with no incident at all and
tp_pred = those where we produced any event; false_event_rate is its precision (lower is
better; a gate). "false_events:out_of_scope_only" does the same for reports whose only
incidents are out of scope, apart, since an event there is not plainly invented.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
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
    pair,
    render,
    same,
    segments,
    text_mismatch,
)
from evals.fields import normalise
from evals.scoring import event_label
from evals.tally import Tally
from schemas.events import ArticleEvents

NAME = "muc4"
ROOT = Path(__file__).resolve().parent / "sets" / NAME
ROLES = ("PerpInd", "PerpOrg", "Target", "Victim", "Weapon")
IN_SCOPE = frozenset({"attack", "bombing", "bombing / attack"})
# The roles a field may fill, in order of preference; one that matches none is a wrong
# filler of the last.
FIELD_ROLES: dict[str, tuple[str, ...]] = {
    "attacker": ("PerpOrg", "PerpInd"),
    "target": ("Victim", "Target"),
    "victims": ("Victim",),
    "weapon": ("Weapon",),
}
Match = Callable[[str, str], bool]
MATCHERS: dict[str, tuple[Match, ...]] = {"": (same,), "_head": (same, contains)}
METRICS = (
    MetricSpec("role_f1", "roles", "f1", gate=True),
    MetricSpec("false_event_rate", "false_events", "precision", gate=True, better="lower"),
    MetricSpec("role_precision", "roles", "precision"),
    MetricSpec("role_recall", "roles", "recall"),
    *(MetricSpec(f"{r.lower()}_f1", f"role:{r}", "f1") for r in ROLES),
    MetricSpec("role_f1_head", "roles_head", "f1"),
    MetricSpec("role_f1_all_incidents", "all_incidents:roles", "f1"),
    MetricSpec(
        "false_event_rate_out_of_scope_only",
        "false_events:out_of_scope_only",
        "precision",
        better="lower",
    ),
)
RULES = {
    "gold": "Per document and role, the entities of all in-scope templates; entities whose "
    "mention sets share a normalised string are one.",
    "mapping": "attacker -> PerpOrg if it matches a PerpOrg entity, else PerpInd (wrong if it "
    "matches no PerpInd entity either); target -> Victim if it matches a Victim entity (their "
    "human target), else Target; victims -> Victim; weapon -> Weapon. Fillers of all events, "
    "deduplicated per document and role by normalised string.",
    "roles": "pred: fillers matching any mention of a gold entity of the role / fillers. "
    "gold: entities matched by any filler (each once) / entities.",
    "scope": "In scope: attack, bombing, bombing / attack. A filler matching only an "
    "out-of-scope entity of its role is excluded (per-document count). all_incidents: tallies "
    "use every template.",
    "strings": "headline: exact; *_head tallies: contains, with the attacker's role decided "
    "by an exact match before a containing one. " + STRING_RULE,
    "false_events": "pred: reports with no template where we produced any event / reports "
    "with no template (false_event_rate, lower is better). false_events:out_of_scope_only: "
    "the same over reports whose templates are all out of scope.",
}

Mention = tuple[str, int]  # text, character offset into doctext
Entity = tuple[Mention, ...]


@dataclass(frozen=True)
class Template:
    incident_type: str
    roles: dict[str, tuple[Entity, ...]]

    @property
    def in_scope(self) -> bool:
        return self.incident_type in IN_SCOPE


@dataclass(frozen=True)
class GoldDoc:
    id: str
    text: str
    templates: tuple[Template, ...]

    @property
    def kind(self) -> str:
        """no_incident, out_of_scope_only or in_scope (has an incident of ours)."""
        if not self.templates:
            return "no_incident"
        return "in_scope" if any(t.in_scope for t in self.templates) else "out_of_scope_only"


def load(path: Path = ROOT / "dev.jsonl") -> list[GoldDoc]:
    """All reports of one split file (dev: 200), sorted by docid."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        templates = tuple(
            Template(
                t["incident_type"],
                {r: tuple(tuple((m[0], m[1]) for m in e) for e in t[r]) for r in ROLES},
            )
            for t in raw["templates"]
        )
        docs.append(GoldDoc(raw["docid"], raw["doctext"], templates))
    return sorted(docs, key=lambda d: d.id)


def subset(docs: list[GoldDoc], limit: int) -> list[GoldDoc]:
    """A fixed sample of `limit` reports that keeps the share of no-incident reports.

    k = round(limit * no-incident / all) (halves up) reports come from the no-incident stratum
    and limit - k from the rest; within each stratum, the first ones in sha256(docid) order.
    The same `limit` gives the same reports on every run; returned sorted by docid.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    quiet = [d.id for d in docs if not d.templates]
    rest = [d.id for d in docs if d.templates]
    k = min(int(limit * len(quiet) / max(len(docs), 1) + 0.5), len(quiet))
    keep = set(hash_order(quiet)[:k]) | set(hash_order(rest)[: max(limit - k, 0)])
    return [d for d in docs if d.id in keep]


def merge(entities: Iterable[Entity]) -> list[Entity]:
    """Entities that share a normalised mention string are one entity."""
    groups: list[tuple[set[str], list[Mention]]] = []
    for entity in entities:
        keys = {normalise(text) for text, _ in entity} - {""}
        joined = [g for g in groups if g[0] & keys]
        groups = [g for g in groups if not g[0] & keys]
        keys = keys.union(*(g[0] for g in joined))
        groups.append((keys, [m for g in joined for m in g[1]] + list(entity)))
    return [tuple(dict.fromkeys(mentions)) for _, mentions in groups]


def _entities(templates: Iterable[Template]) -> dict[str, list[Entity]]:
    templates = list(templates)
    return {r: merge(e for t in templates for e in t.roles[r]) for r in ROLES}


def _fillers(record: ArticleEvents) -> list[tuple[str, str]]:
    """(field, value) of all events, one per field and normalised string, first spelling kept."""
    seen: dict[tuple[str, str], str] = {}
    for event in record.events:
        for field in FIELD_ROLES:
            value = getattr(event, field)
            if value is not None and normalise(value):
                seen.setdefault((field, normalise(value)), value)
    return [(field, value) for (field, _), value in seen.items()]


def _names(value: str, entities: list[Entity], match: Match) -> bool:
    return any(match(value, text) for entity in entities for text, _ in entity)


def _judge(
    field: str,
    value: str,
    gold: dict[str, list[Entity]],
    other: dict[str, list[Entity]],
    matchers: tuple[Match, ...],
) -> tuple[str, str]:
    """The role a filler fills and whether it is right, wrong or excluded.

    The first (strictest) matcher decides before the next, then the preferred role.
    """
    roles = FIELD_ROLES[field]
    for entities, verdict in ((gold, "right"), (other, "excluded")):
        for match in matchers:
            for role in roles:
                if _names(value, entities[role], match):
                    return role, verdict
    return roles[-1], "wrong"


def _view(
    fillers: list[tuple[str, str]],
    gold: dict[str, list[Entity]],
    other: dict[str, list[Entity]],
    matchers: tuple[Match, ...],
) -> tuple[dict[str, Tally], list[tuple[str, str]], dict[str, list[bool]]]:
    """Per-role tallies, each filler's (role, verdict), and which gold entities were found."""
    rows = [(value, *_judge(field, value, gold, other, matchers)) for field, value in fillers]
    # One filler per role and string: a target and a victims value naming one person
    # are one Victim.
    unique = {(normalise(v), r): (v, r, verdict) for v, r, verdict in reversed(rows)}
    match = matchers[-1]  # the most lenient decides what a filler finds
    tallies, found = {}, {}
    for role in ROLES:
        mine = [v for v, r, verdict in unique.values() if r == role and verdict != "excluded"]
        found[role] = [any(match(v, t) for v in mine for t, _ in e) for e in gold[role]]
        right = sum(r == role and verdict == "right" for _, r, verdict in unique.values())
        tallies[role] = Tally(right, len(mine), sum(found[role]), len(gold[role]))
    return tallies, [(r, verdict) for _, r, verdict in rows], found


def score_document(doc: GoldDoc, record: ArticleEvents) -> tuple[dict[str, Tally], dict[str, Any]]:
    """Tallies of one report, and the detail the HTML shows."""
    fillers = _fillers(record)
    inside = _entities(t for t in doc.templates if t.in_scope)
    outside = _entities(t for t in doc.templates if not t.in_scope)
    views = {
        "": (inside, outside),
        "all_incidents:": (_entities(doc.templates), _entities(())),
    }
    tallies: dict[str, Tally] = {}
    headline: dict[str, Any] = {}
    for prefix, (gold, other) in views.items():
        for suffix, matchers in MATCHERS.items():
            per_role, judged, found = _view(fillers, gold, other, matchers)
            for role in ROLES:
                tallies[f"{prefix}role{suffix}:{role}"] = per_role[role]
            tallies[f"{prefix}roles{suffix}"] = sum(per_role.values(), Tally())
            if not prefix:
                headline[suffix or "exact"] = (judged, found)
    invented = Tally(tp_pred=float(bool(record.events)), n_pred=1.0)
    tallies["false_events"] = invented if doc.kind == "no_incident" else Tally()
    tallies["false_events:out_of_scope_only"] = (
        invented if doc.kind == "out_of_scope_only" else Tally()
    )
    (exact, found_exact), (head, found_head) = headline["exact"], headline["_head"]
    entities = [
        {
            "role": role,
            "mentions": [list(m) for m in entity],
            "in_scope": True,
            "exact": found_exact[role][i],
            "head": found_head[role][i],
        }
        for role in ROLES
        for i, entity in enumerate(inside[role])
    ]
    entities += [
        {
            "role": r,
            "mentions": [list(m) for m in e],
            "in_scope": False,
            "exact": None,
            "head": None,
        }
        for r in ROLES
        for e in outside[r]
    ]
    detail = {
        "text": doc.text,
        "text_mismatch": text_mismatch(record, doc.text),
        "kind": doc.kind,
        "incidents": [t.incident_type for t in doc.templates],
        "events": [
            {"label": event_label(e), "spans": [list(s) for s in evidence_spans(e, doc.text)]}
            for e in record.events
        ],
        "fillers": [
            {"field": f, "value": v, "exact": list(x), "head": list(h)}
            for (f, v), x, h in zip(fillers, exact, head, strict=True)
        ],
        "entities": entities,
        "excluded": sum(verdict == "excluded" for _, verdict in exact),
    }
    return tallies, detail


def score(
    docs: list[GoldDoc], predicted: dict[str, ArticleEvents], name: str = NAME
) -> dict[str, Any]:
    """The report of one run (shape in `evals.external.build_report`)."""
    return build_report(name, docs, predicted, score_document, METRICS, RULES)


def render_markdown(report: dict[str, Any]) -> str:
    """Headline metrics, tallies and one row per report."""
    header = ("report", "kind", "events", "entities found", "fillers right", "excluded")
    rows = [
        (
            doc_id,
            d["kind"],
            len(d["events"]),
            pair(d["tallies"]["roles"], "gold"),
            pair(d["tallies"]["roles"], "pred"),
            d["excluded"],
        )
        for doc_id, d in report["documents"].items()
    ]
    lines = markdown_summary(report, "MUC-4 eval")
    lines += ["", "## Reports", "", *md_table(header, rows)]
    return "\n".join(lines) + "\n"


def _document_view(doc_id: str, d: dict[str, Any]) -> dict[str, Any]:
    spans = [
        Span(offset, offset + len(text), "gold" if e["in_scope"] else "oos", e["role"])
        for e in d["entities"]
        for text, offset in e["mentions"]
    ]
    for j, event in enumerate(d["events"]):
        spans += [Span(s, t, "pred", f"event #{j}") for s, t in event["spans"]]
    return {
        "id": doc_id,
        "kind": d["kind"],
        "incidents": d["incidents"],
        "counts": {k: {s: pair(t, s) for s in ("pred", "gold")} for k, t in d["tallies"].items()},
        "excluded": d["excluded"],
        "events": d["events"],
        "fillers": d["fillers"],
        "entities": d["entities"],
        "segments": segments(d["text"], spans),
    }


def render_html(report: dict[str, Any]) -> str:
    """One self-contained page: summary, then per report the text, entities and fillers."""
    docs = [_document_view(i, d) for i, d in report["documents"].items()]
    return render("muc4.html.j2", report, documents=docs)
