"""Cross-article linking: per-article `ArticleEvents` in, one `LinkedEvent` per real event out.

    from service.link import link_records, parse_records
    records, _ = parse_records(Path("records.jsonl").read_text(), "records.jsonl")
    for event in link_records(records).events:
        print(event.sub_event_type, event.articles, event.deaths)

The stages, in order: `mentions` puts every event in plain arrays; blocking
(`candidates`) keeps comparisons near-linear; `score` weighs each pair and flags hard
conflicts, with places compared through the town gazetteer (`geo`); `cluster` joins
linked pairs without ever joining a conflict; `canonical` writes one record per
cluster. Out: JSONL or ACLED CSV (`export`) and a standalone HTML map (`report`).
The rules are in docs/linking.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from schemas.events import ArticleEvents
from schemas.linked import LinkedEvent
from service.errors import InputError
from service.link import mentions
from service.link.candidates import candidates
from service.link.canonical import linked_event
from service.link.cluster import cluster

__all__ = ["LinkInputError", "LinkResult", "LinkStats", "link_records", "parse_records"]


class LinkInputError(InputError):
    """The records cannot be linked as given (not JSON, not a record, no events...)."""

    code = "bad_records"


@dataclass(frozen=True)
class LinkStats:
    records: int
    mentions: int
    comparisons: int  # candidate pairs scored
    from_sweep: int
    from_keys: int
    purged_blocks: int
    links: int  # accepted links inside the final events
    events: int
    split_components: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LinkResult:
    events: list[LinkedEvent]
    stats: LinkStats


def link_records(records: Iterable[ArticleEvents]) -> LinkResult:
    """Link the events of these records across articles; every event lands in exactly one."""
    started = time.perf_counter()
    records = list(records)
    _check(records)
    m = mentions.build(records)
    cands = candidates(m)
    clusters = cluster(m, cands)
    label = np.empty(len(m), dtype=np.int64)
    for number, members in enumerate(clusters.members):
        label[members] = number
    edges: dict[int, list[tuple[int, int, float]]] = {}
    for a, b, s in clusters.edges:
        edges.setdefault(int(label[a]), []).append((a, b, s))
    ordered = sorted(range(len(clusters.members)), key=lambda n: int(clusters.members[n].min()))
    events = [linked_event(m, clusters.members[n].tolist(), edges.get(n, [])) for n in ordered]
    stats = LinkStats(
        records=len(records),
        mentions=len(m),
        comparisons=len(cands.i),
        from_sweep=cands.from_sweep,
        from_keys=cands.from_keys,
        purged_blocks=cands.purged_blocks,
        links=len(clusters.edges),
        events=len(events),
        split_components=clusters.split,
        seconds=time.perf_counter() - started,
    )
    return LinkResult(events, stats)


def _check(records: list[ArticleEvents]) -> None:
    seen: set[str] = set()
    for number, record in enumerate(records, 1):
        if not record.id:
            raise LinkInputError(f"record {number} has no id: linked events cite sources by id")
        if record.id in seen:
            raise LinkInputError(f"record {number}: id {record.id!r} is used twice")
        seen.add(record.id)
    if not any(r.events for r in records):
        raise LinkInputError(f"no events to link in {len(records)} record(s)")


def parse_records(text: str, source: str) -> tuple[list[ArticleEvents], int]:
    """Records from JSONL (bare records or `service batch` lines) or one JSON array/object.

    Returns the records and how many failed batch lines were skipped (they hold no
    record). A record without an id gets '<source>:<line>'. Anything else that is not a
    record is an error naming its line.
    """
    if not text.strip():
        raise LinkInputError(f"{source} is empty")
    try:
        whole = json.loads(text)
    except (json.JSONDecodeError, RecursionError):  # JSONL, or a line too deep: read by lines
        whole = None
    if isinstance(whole, list):
        items = list(enumerate(whole, 1))
        where = "item"
    else:
        items = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        where = "line"
    records, skipped = [], 0
    for number, item in items:
        record = _record(item, f"{source} {where} {number}")
        skipped += record is None
        if record is not None:
            records.append(
                record if record.id else record.model_copy(update={"id": f"{source}:{number}"})
            )
    return records, skipped


def _record(item: Any, where: str) -> ArticleEvents | None:
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except json.JSONDecodeError as exc:
            raise LinkInputError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise LinkInputError(f"{where}: not JSON (nested too deeply to read)") from None
    if not isinstance(item, dict):
        raise LinkInputError(f"{where}: not a JSON object")
    if "ok" in item and "events" not in item:  # a `service batch` output line
        if not item["ok"]:
            return None
        item = item.get("record")
    try:
        return ArticleEvents.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        raise LinkInputError(
            f"{where}: not an ArticleEvents record: {field}: {first['msg']}"
        ) from None
