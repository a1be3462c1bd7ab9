"""Batch throughput on the embedded model: sequential, parallel slots, warm cache.

    python bench/batch_throughput.py [--model qwen2.5-coder-1.5b] [--copies 2]

The seed articles are replicated, each copy with its own harmless trailing line
and a fresh nonce per run, so no cached answer from any earlier run applies.
Every phase extracts the same texts, so they generate comparable answers; each
is timed by `run_batch` itself, after an untimed warm-up call, so server
start-up is not counted:

1. sequential: n_parallel 1, concurrency 1 (answers go to the cache)
2. warm cache: the same texts again on that server: every answer is cached
3. parallel:   n_parallel 2, concurrency 2, with the cache off

Answer lengths vary from text to text, so compare output tokens per second as
well as articles per minute. Run nothing else heavy meanwhile: on two cores any
other job skews the ratio (the load average is printed with each phase).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

import click

from service import Extractor, Settings
from service.front.batch.run import BatchSummary, run_batch
from service.infra.weights import BUILTIN_MODELS

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def perturbed_copies(seeds: list[Path], copies: int, tag: str) -> list[dict[str, str]]:
    """JSONL records: each seed `copies` times, each with its own harmless last line."""
    return [
        {
            "id": f"{seed.stem}#{tag}{k}",
            "text": seed.read_text(encoding="utf-8").rstrip() + f"\n\n(Archive copy {tag}{k}.)\n",
        }
        for k in range(copies)
        for seed in seeds
    ]


def timed_phase(
    name: str, extractor: Extractor, records: list[dict[str, str]], work: Path
) -> BatchSummary:
    """One batch run, as many articles in flight as the server has slots."""
    source = work / f"{name}.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    summary = run_batch(source, work / f"{name}.out.jsonl", extractor=extractor)
    if summary.failed:
        raise click.ClickException(f"{summary.failed} articles failed: {dict(summary.errors)}")
    return summary


def warm_up(extractor: Extractor, seed: Path, nonce: str) -> None:
    """Start the server and fill the prompt cache with the shared system prompt (untimed)."""
    text = seed.read_text(encoding="utf-8")[:600]
    extractor.extract(f"{text}\n\n(Warm-up {nonce}.)\n", id="warm-up")


def output_rate(summary: BatchSummary) -> float:
    return summary.completion_tokens / summary.seconds if summary.seconds else 0.0


def report(name: str, s: BatchSummary) -> str:
    return (
        f"{name:<11} {s.processed:>3} articles {s.seconds:>7.1f} s "
        f"{s.articles_per_minute:>8.2f} articles/min  tokens in {s.prompt_tokens:>6} "
        f"out {s.completion_tokens:>5} ({output_rate(s):.1f} out/s)  cache hits {s.cache_hits}  "
        f"load {os.getloadavg()[0]:.1f}"  # above the CPU count, another job skewed the figure
    )


@click.command()
@click.option(
    "--model",
    type=click.Choice(sorted(BUILTIN_MODELS)),
    default="qwen2.5-coder-0.5b",
    show_default=True,
    help="Built-in model; qwen2.5-coder-1.5b is the service default.",
)
@click.option("--copies", default=2, show_default=True, help="Copies of each seed per phase.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the model file and answers live [default: the service's cache].",
)
def main(model: str, copies: int, cache_dir: Path | None) -> None:
    """Articles per minute: sequential vs 2 parallel slots vs warm cache, with ratios."""
    seeds = sorted(SEEDS.glob("*.txt"))
    nonce = secrets.token_hex(3)
    base = Settings(model=model, **({"cache_dir": cache_dir} if cache_dir else {}))
    articles = perturbed_copies(seeds, copies, nonce)
    click.echo(f"model {model}, {len(articles)} articles per phase, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        work = Path(tmp)
        with Extractor(base.model_copy(update={"n_parallel": 1})) as sequential_ex:
            warm_up(sequential_ex, seeds[0], f"{nonce}s")
            sequential = timed_phase("sequential", sequential_ex, articles, work)
            click.echo(report("sequential", sequential))
            warm = timed_phase("warm", sequential_ex, articles, work)
            click.echo(report("warm cache", warm))
        with Extractor(base.model_copy(update={"n_parallel": 2, "use_cache": False})) as par_ex:
            warm_up(par_ex, seeds[0], f"{nonce}p")
            parallel = timed_phase("parallel", par_ex, articles, work)
            click.echo(report("parallel", parallel))
    seq_rate, seq_output = sequential.articles_per_minute, output_rate(sequential)
    click.echo(
        f"ratios to sequential: parallel {parallel.articles_per_minute / seq_rate:.2f}x "
        f"articles/min, {output_rate(parallel) / seq_output:.2f}x output tokens/s; "
        f"warm cache {warm.articles_per_minute / seq_rate:.0f}x articles/min"
    )


if __name__ == "__main__":
    main()
