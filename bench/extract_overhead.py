"""What our extraction costs over the bare llama.cpp server, measured in one run.

For one seed: the raw server call (same messages, same JSON-schema constraint,
same sampling) against our cold `Extractor.extract` (cache miss), then warm-cache
latency. Before each measured call the slot is primed with another article, so
both calls reuse the same shared prompt prefix and process the same article tokens.

    .venv/bin/python bench/extract_overhead.py [--model qwen2.5-coder-1.5b] [--seed FILE]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import click
from raw import ONE_SHOT, raw_call  # bench/raw.py (scripts run with bench/ on sys.path)

from service import Extractor, Settings
from service.infra.cache import ResponseCache
from service.infra.weights import BUILTIN_MODELS

ROOT = Path(__file__).resolve().parent.parent
PRIMER = "Rockets hit a base in the desert on Friday; nobody was hurt, officials said."


@click.command()
@click.option(
    "--model",
    type=click.Choice(sorted(BUILTIN_MODELS)),
    default="qwen2.5-coder-1.5b",
    show_default=True,
)
@click.option(
    "--seed",
    default="seeds/004_e703eae0c918574b.txt",
    show_default=True,
    help="The article, relative to the checkout.",
)
@click.option("--warm-repeats", type=click.IntRange(1), default=20, show_default=True)
def main(model: str, seed: str, warm_repeats: int) -> None:
    """Seconds of a raw llama.cpp call vs our cold extract, and warm-cache latency."""
    text = (ROOT / seed).read_text(encoding="utf-8")

    settings = Settings(model=model, prompt=ONE_SHOT, log_prompts=False)
    with tempfile.TemporaryDirectory() as tmp, Extractor(settings) as ex:
        ex.cache = ResponseCache(Path(tmp))  # a cold answer cache; the model file is shared
        endpoint = ex.endpoints.endpoint()
        prime = ex.template.render(PRIMER)
        raw_call(endpoint.base_url, prime, settings)  # loads the shared prefix

        started = time.perf_counter()
        raw = raw_call(endpoint.base_url, ex.template.render(text), settings)
        raw_seconds = time.perf_counter() - started

        raw_call(endpoint.base_url, prime, settings)  # back to the same slot state
        started = time.perf_counter()
        cold = ex.extract(text, id=seed)
        cold_seconds = time.perf_counter() - started

        warm = []
        for _ in range(warm_repeats):
            started = time.perf_counter()
            record = ex.extract(text, id=seed)
            warm.append(time.perf_counter() - started)
            assert record.usage is not None and record.usage.cached

    usage = cold.usage
    assert usage is not None
    raw_usage = raw["usage"]
    print(f"model                      {model}")
    print(f"seed                       {seed} ({len(text)} chars)")
    print(
        f"raw llama.cpp call         {raw_seconds:8.2f} s   "
        f"tokens in {raw_usage['prompt_tokens']} (cached prefix "
        f"{raw['timings'].get('cache_n', 0)}), out {raw_usage['completion_tokens']}"
    )
    print(
        f"our cold extract           {cold_seconds:8.2f} s   "
        f"tokens in {usage.prompt_tokens}, out {usage.completion_tokens}, "
        f"events {len(cold.events)}"
    )
    print(f"overhead ratio (ours/raw)  {cold_seconds / raw_seconds:8.3f}")
    print(
        f"warm cache latency         {statistics.median(warm) * 1000:8.2f} ms median, "
        f"{max(warm) * 1000:.2f} ms max over {len(warm)} calls"
    )
    print(f"cold / warm                {cold_seconds / statistics.median(warm):8.0f}x")


if __name__ == "__main__":
    main()
