"""Link scores: how well linked events reproduce the cross-article gold. Pure: no model calls.

The gold (`evals/gold/links.json`, labelled by GUIDELINES.md section 9) lists which gold
events of different articles are one real event; every other gold event is alone.

`score_links(records, gold)` links the given per-article records (predicted, or the
gold records themselves to measure the linker alone), pairs each article's events with
its gold events (`evals.align`, one to one), and compares the two partitions:

- **Pairwise**: a predicted link is a pair of reports in one linked event; it is right
  when both are paired with gold events that the gold links. precision = right /
  predicted links, recall = gold links found / gold links.
- **B-cubed**: per report, the share of its predicted event that is in its gold event
  (precision) and the share of its gold event that is in its predicted event (recall),
  averaged. Reports with no gold partner count as gold singletons and gold events with
  no predicted partner as predicted singletons (Cai and Strube, 2010), so extraction
  misses lower the scores without breaking them.

Both are `evals.tally.Tally` values; `python -m evals.links [RECORDS.jsonl]` prints them
(with no argument, on the gold records: the linker's own score).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import click

from evals.align import align
from evals.tally import Tally
from schemas.events import ArticleEvents
from service.core.aliases import load_aliases
from service.link import link_records, parse_records

GOLD_DIR = Path(__file__).with_name("gold")
LINKS_PATH = GOLD_DIR / "links.json"


@dataclass(frozen=True)
class LinkGold:
    records: dict[str, ArticleEvents]
    clusters: list[frozenset[str]]  # every gold event's cluster ('id#index'), singletons too


def load_link_gold(path: Path = LINKS_PATH, gold_dir: Path = GOLD_DIR) -> LinkGold:
    """The gold records and their cross-article clusters; a bad reference is an error."""
    records = {}
    for file in sorted(gold_dir.glob("*.json")):
        if file.name == LINKS_PATH.name:  # the links themselves, not an article
            continue
        record = ArticleEvents.model_validate_json(file.read_text(encoding="utf-8"))
        records[record.id or file.stem] = record
    every = {f"{rid}#{i}" for rid, r in records.items() for i in range(len(r.events))}
    clusters, used = [], set()
    for entry in json.loads(path.read_text(encoding="utf-8"))["events"]:
        members = frozenset(entry["mentions"])
        if unknown := members - every:
            raise ValueError(f"{entry['id']}: no such gold event {sorted(unknown)}")
        if twice := members & used:
            raise ValueError(f"{entry['id']}: {sorted(twice)} already in another event")
        if len({m.split("#")[0] for m in members}) != len(members):
            raise ValueError(f"{entry['id']}: two events of one article cannot be one event")
        used |= members
        clusters.append(members)
    clusters += [frozenset({m}) for m in sorted(every - used)]
    return LinkGold(records, clusters)


def _pairs(clusters: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for c in clusters for p in combinations(sorted(c), 2)}


def _bcubed(pred: dict[str, frozenset[str]], gold: dict[str, frozenset[str]]) -> Tally:
    precision = sum(len(pred[n] & gold[n]) / len(pred[n]) for n in pred)
    recall = sum(len(pred[n] & gold[n]) / len(gold[n]) for n in gold)
    return Tally(precision, len(pred), recall, len(gold))


def _by_node(clusters: Iterable[frozenset[str]]) -> dict[str, frozenset[str]]:
    return {n: c for c in clusters for n in c}


def score_links(records: dict[str, ArticleEvents], gold: LinkGold) -> dict[str, Any]:
    """Pairwise and B-cubed link scores of `records` (keyed by article id) against `gold`."""
    scored = [r.model_copy(update={"id": rid}) for rid, r in records.items() if rid in gold.records]
    node: dict[str, str] = {}  # predicted report -> its gold partner, or itself
    aliases = load_aliases()
    for record in scored:
        assert record.id is not None
        pairing = align(gold.records[record.id].events, record.events, aliases)
        for g, p, _ in pairing.pairs:
            node[f"{record.id}#{p}"] = f"{record.id}#{g}"
        for p in pairing.unmatched_pred:
            node[f"{record.id}#{p}"] = f"pred:{record.id}#{p}"
    linked = link_records(scored).events if any(r.events for r in scored) else []
    pred_clusters = [
        frozenset(node[f"{s.article}#{s.event_index}"] for s in e.sources) for e in linked
    ]
    covered = set().union(*pred_clusters) if pred_clusters else set()
    gold_nodes = set().union(*gold.clusters)
    pred_clusters += [frozenset({n}) for n in sorted(gold_nodes - covered)]
    gold_clusters = gold.clusters + [frozenset({n}) for n in sorted(covered - gold_nodes)]
    gold_pairs, pred_pairs = _pairs(gold.clusters), _pairs(pred_clusters)
    right = gold_pairs & pred_pairs
    return {
        "pairwise": Tally.of(len(right), len(pred_pairs), len(gold_pairs)).to_dict(),
        "bcubed": _bcubed(_by_node(pred_clusters), _by_node(gold_clusters)).to_dict(),
        "missed_links": sorted(sorted(p) for p in gold_pairs - pred_pairs),
        "wrong_links": sorted(sorted(p) for p in pred_pairs - gold_pairs),
        "linked_events": len(linked),
        "reports_paired_with_gold": sum(1 for v in node.values() if not v.startswith("pred:")),
    }


@click.command()
@click.argument("records", required=False, type=click.Path(exists=True, path_type=Path))
def main(records: Path | None) -> None:
    """Link scores of RECORDS (JSONL of records or batch lines; default: the gold records)."""
    gold = load_link_gold()
    given = gold.records
    if records is not None:  # batch ids are file names: "000_7142a26cd5ceeaa4.txt"
        parsed, _ = parse_records(records.read_text(encoding="utf-8"), records.name)
        given = {Path(r.id or "").stem if r.id not in gold.records else r.id: r for r in parsed}
    report = score_links(given, gold)
    for name in ("pairwise", "bcubed"):
        t = report[name]
        click.echo(f"{name:9} P {t['precision']:.3f}  R {t['recall']:.3f}  F1 {t['f1']:.3f}")
    for name in ("missed_links", "wrong_links"):
        click.echo(f"{name}: {report[name] or 'none'}")


if __name__ == "__main__":
    main()
