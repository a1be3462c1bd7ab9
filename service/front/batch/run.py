"""Batch extraction: many articles, N in flight, one JSONL line each, resumable.

`run_batch` reads the input entries (`sources`), extracts up to N at a time with one
shared `Extractor`, and appends each outcome to the output file (`output.ResultLog`),
which is the only state: a re-run skips the entries already there.

Output lines:

    {"id": ..., "ok": true, "record": <ArticleEvents>}
    {"id": ..., "ok": false, "error": {"code": ..., "message": ...}}

Entries that cannot be named by their id (an unparsable JSONL line, the second
use of an id) also carry "input_line", and are keyed by it for resuming. Each line is
a `BatchItemResult`, as an item of the HTTP batch response is.

Drawing progress is the front end's job: `run_batch` reports to a `BatchProgress`
(the CLI's draws a rich bar) and logs each outcome on the `service.front.batch` loggers.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from service.config import Backend, Settings
from service.errors import ExtractionError, ModelUnavailableError
from service.extractor import Extractor
from service.front.batch.output import Key, ResultLog
from service.front.batch.sources import Item, ItemError, open_source
from service.front.results import BatchItemResult, ErrorInfo
from service.infra.redact import redact

log = logging.getLogger(__name__)

SLOWEST = 5  # articles named in the summary as the slowest


@dataclass
class BatchSummary:
    """What a run did. `earlier_*` count lines already in the output from earlier runs."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    not_read: int = 0  # directory entries that are no articles (each named in a warning)
    earlier_ok: int = 0
    earlier_failed: int = 0
    events: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    #: the slowest articles of this run as (seconds, id, outcome), a min-heap of SLOWEST
    slowest: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.ok + self.failed

    @property
    def articles_per_minute(self) -> float:
        return 60.0 * self.processed / self.seconds if self.seconds > 0 else 0.0

    @property
    def all_ok(self) -> bool:
        """True when the output file, earlier runs included, holds no failure."""
        return self.failed == 0 and self.earlier_failed == 0

    def add(self, result: BatchItemResult) -> None:
        if result.error is not None:
            self.failed += 1
            self.errors[result.error.code] += 1
            self._timed(result.seconds, result, f"failed: {result.error.code}")
            return
        assert result.record is not None
        self.ok += 1
        self.events += len(result.record.events)
        usage = result.record.usage
        if usage is None:
            return
        calls = usage.model_calls
        self._timed(usage.seconds, result, f"{calls} model call{'s' * (calls != 1)}")
        self.cache_hits += usage.cache_hits
        self.model_calls += usage.model_calls
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens

    def _timed(self, seconds: float | None, result: BatchItemResult, outcome: str) -> None:
        """Keep the SLOWEST longest articles: where a batch's time went."""
        if seconds is None:
            return
        item = (seconds, result.name, outcome)
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, item)
        else:
            heapq.heappushpop(self.slowest, item)

    def render(self) -> str:
        causes = ", ".join(f"{code} {n}" for code, n in self.errors.most_common())
        lines = [
            f"articles: {self.ok} ok, {self.failed} failed" + (f" ({causes})" if causes else ""),
            f"events found: {self.events}",
            f"model calls: {self.model_calls}, cache hits: {self.cache_hits}",
            f"tokens: {self.prompt_tokens:,} in, {self.completion_tokens:,} out",
            f"wall time: {self.seconds:.1f} s, {self.articles_per_minute:.1f} articles/min",
        ]
        if self.slowest:
            slow = sorted(self.slowest, reverse=True)
            lines.append("slowest: " + ", ".join(f"{n} ({t:.1f} s, {o})" for t, n, o in slow))
        if self.not_read:
            lines.append(f"not read: {self.not_read} directory entries that are no articles")
        if self.skipped:
            lines.append(
                f"resumed: {self.skipped} input entries already in the output, skipped "
                f"(earlier runs: {self.earlier_ok} ok, {self.earlier_failed} failed)"
            )
        return "\n".join(lines)


class BatchProgress:
    """What a front end hears of a running batch; this one shows nothing."""

    def start(self, total: int | None) -> None:
        """The batch begins: `total` input entries when known in advance (not for stdin)."""

    def skip(self) -> None:
        """An entry already in the output from an earlier run: not processed again."""

    def done(self, result: BatchItemResult, summary: BatchSummary) -> None:
        """One article finished (well or not); `summary` counts it already."""


def default_concurrency(settings: Settings) -> int:
    """The embedded server's slots (1 unless configured), or four against a remote endpoint."""
    return settings.n_parallel if settings.resolved_backend() is Backend.EMBEDDED else 4


def run_batch(
    inputs: str | Path,
    out_path: Path,
    *,
    settings: Settings | None = None,
    extractor: Extractor | None = None,
    concurrency: int | None = None,
    retry_failed: bool = False,
    stdin: BinaryIO | None = None,
    progress: BatchProgress | None = None,
) -> BatchSummary:
    """Extract every article of `inputs` into `out_path`, skipping what it already holds.

    `inputs` is a directory, a JSONL file or '-' (stdin). Pass `extractor` to reuse
    an open one (its settings then apply); otherwise one is made from `settings`,
    with the embedded server given `concurrency` slots. `retry_failed` first drops
    the failed lines of an earlier run so those articles are tried again. `progress`
    hears of every entry as it is done.
    Raises `ModelUnavailableError` or `BatchError` when the batch cannot go on.
    """
    started = time.perf_counter()
    progress = progress or BatchProgress()
    settings = extractor.settings if extractor else (settings or Settings())
    concurrency = concurrency or default_concurrency(settings)
    source = open_source(inputs, stdin)
    with ResultLog.open(out_path, retry_failed=retry_failed) as out:
        summary = BatchSummary(earlier_ok=out.earlier_ok, earlier_failed=out.earlier_failed)
        summary.not_read = len(source.skipped)
        for note in source.skipped:  # every input entry: an output line or a warning
            log.warning("%s: %s", inputs, note)
        own = extractor is None
        if extractor is None:
            if settings.resolved_backend() is Backend.EMBEDDED:
                settings = settings.model_copy(update={"n_parallel": concurrency})
            extractor = Extractor(settings)
        interrupted = False
        try:
            progress.start(source.total)
            for result in _run(extractor, source.items, out.done, concurrency, summary, progress):
                if result.error is not None:
                    result.error.message = redact(result.error.message)
                out.write(result)
                summary.add(result)
                _log_outcome(result)
                progress.done(result, summary)
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if own and interrupted:  # start nothing more; the caller need not wait for the rest
                extractor.cancel()
            elif own:
                extractor.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _run(
    extractor: Extractor,
    items: Iterator[Item],
    done: set[Key],
    concurrency: int,
    summary: BatchSummary,
    progress: BatchProgress,
) -> Iterator[BatchItemResult]:
    """Yield one output entry per input entry not yet done, as they finish."""
    seen: dict[str, int | None] = {}  # id -> line of its first use
    pending: set[Future[BatchItemResult]] = set()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="batch")
    try:
        for item in items:
            item, key = _identify(item, seen)
            if key in done:
                summary.skipped += 1
                progress.skip()
                continue
            if item.error is not None:
                yield _failure(item, item.error.code, item.error.message)
                continue
            while len(pending) >= 2 * concurrency:  # bounded read-ahead
                yield from _finished(pending, block=True)
            pending.add(pool.submit(_extract, extractor, item))
            yield from _finished(pending, block=False)
        while pending:
            yield from _finished(pending, block=True)
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)


def _identify(item: Item, seen: dict[str, int | None]) -> tuple[Item, Key]:
    """The resume key of an entry; the second use of an id becomes a 'duplicate_id' entry."""
    if item.id is None:
        return item, ("line", item.line or 0)
    if item.id in seen:  # only JSONL can repeat an id: file names are unique
        error = ItemError(
            "duplicate_id",
            f"line {item.line}: id {item.id!r} was already used on line {seen[item.id]}; "
            "this entry is skipped",
        )
        return Item(id=item.id, line=item.line, error=error), ("line", item.line or 0)
    seen[item.id] = item.line
    return item, ("id", item.id)


def _finished(pending: set[Future[BatchItemResult]], *, block: bool) -> Iterator[BatchItemResult]:
    if not pending:
        return
    finished, _ = wait(pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
    for future in finished:
        pending.remove(future)
        yield future.result()  # only a fatal ModelUnavailableError raises here


def _extract(extractor: Extractor, item: Item) -> BatchItemResult:
    """Runs in a worker: every outcome but an unusable model becomes an output entry."""
    started = time.perf_counter()
    try:
        record = extractor.extract(item.load(), id=item.id, published=item.published)
    except ModelUnavailableError:
        raise  # not this article's fault: every other one would fail the same way
    except ExtractionError as exc:
        failure = _failure(item, exc.code, str(exc))
    except OSError as exc:
        failure = _failure(item, "bad_input", f"cannot read {item.path}: {exc.strerror}")
    except Exception as exc:  # a bug must cost one article, not the batch
        log.exception("unexpected error on %s", item.id)
        failure = _failure(item, "internal_error", f"{type(exc).__name__}: {exc}")
    else:
        return BatchItemResult(id=item.id, url=item.url or None, ok=True, record=record)
    failure.seconds = round(time.perf_counter() - started, 3)
    return failure


def _failure(item: Item, code: str, message: str) -> BatchItemResult:
    named = item.id is not None and code != "duplicate_id"
    return BatchItemResult(
        id=item.id,
        input_line=None if named else item.line,
        url=item.url or None,
        ok=False,
        error=ErrorInfo(code=code, message=" ".join(message.split())),
    )


def _log_outcome(result: BatchItemResult) -> None:
    """A failure is a warning; a success an info line (the CLI shows these with --quiet)."""
    if result.error is not None:
        log.warning("%s: failed, %s: %s", result.name, result.error.code, result.error.message)
    elif result.record is not None and result.record.usage is not None:
        usage = result.record.usage
        cached = " (cached)" if usage.cached else ""
        log.info(
            "%s: ok, %d events, %.1f s%s",
            result.name,
            len(result.record.events),
            usage.seconds,
            cached,
        )
