"""Seconds and output tokens per article: the staged pipeline against the old one-shot
default and against the raw server call of the old prompt, side by side in one run.

One embedded server, a cold answer cache per pipeline, the same articles in the same
order. For each article: the raw llama.cpp call (the one-shot prompt and schema posted
directly: the floor under the old default), the old default through the extractor (as
it shipped: llama.cpp's own JSON-schema grammar), and the staged pipeline (as it ships
now: its schema as a one-line LLGuidance grammar). Before each measured call the
server's slot is primed with a short other text under the same system message, so each
call starts as it would in a stream of articles: its static prefix cached, its article
not. Ratios are to the old default measured in this run.

    .venv/bin/python bench/pipeline_speed.py [--model qwen2.5-coder-1.5b] [SEED ...]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click
import httpx
from raw import ONE_SHOT, raw_call  # bench/raw.py (scripts run with bench/ on sys.path)

from service import Extractor, Settings
from service.infra.cache import ResponseCache
from service.pipeline.clean import visible_sentences

ROOT = Path(__file__).resolve().parent.parent
OLD, NEW = ONE_SHOT, "stages@v3"
PRIMER = "Rockets hit a base in the desert on Friday; nobody was hurt, officials said."


def primer_messages(extractor: Extractor) -> list[dict[str, str]]:
    """A short other text under the extractor's own system message."""
    if extractor.template.staged:
        shown = visible_sentences(PRIMER)
        return extractor.template.render_stage("detect", sentences=shown)
    return extractor.template.render(PRIMER)


def prime(base_url: str, messages: list[dict[str, str]]) -> None:
    """One generated token: the slot now holds this prompt's KV cache."""
    body = {"messages": messages, "max_tokens": 1, "temperature": 0}
    httpx.post(f"{base_url}/chat/completions", json=body, timeout=600).raise_for_status()


@click.command()
@click.option("--model", default="qwen2.5-coder-1.5b", show_default=True)
@click.option(
    "--records",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the staged records (JSONL): a cold run to set beside a saved eval run.",
)
@click.argument("seeds", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
def main(model: str, records: Path | None, seeds: tuple[Path, ...]) -> None:
    """Print one row per article and the totals."""
    paths = list(seeds) or sorted((ROOT / "seeds").glob("*.txt"))
    settings = Settings(model=model, prompt=OLD, log_prompts=False, llguidance=False)
    rows: list[tuple[str, float, int, float, int, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp, Extractor(settings) as old:
        old.cache = ResponseCache(Path(tmp) / "old")  # cold answers; the model file is shared
        new = old.with_prompt(NEW, llguidance=None)  # the default: on for the embedded server
        new.cache = ResponseCache(Path(tmp) / "new")
        endpoint = old.endpoints.endpoint()
        for path in paths:
            text = path.read_text(encoding="utf-8")
            prime(endpoint.base_url, old.template.render(PRIMER))
            started = time.perf_counter()
            raw = raw_call(endpoint.base_url, old.template.render(text), settings)
            raw_s = time.perf_counter() - started
            timed = []
            for extractor in (old, new):
                prime(endpoint.base_url, primer_messages(extractor))
                started = time.perf_counter()
                record = extractor.extract(text, id=path.stem)
                assert record.usage is not None and not record.usage.cached
                timed.append((time.perf_counter() - started, record.usage.completion_tokens))
            if records:
                with records.open("a", encoding="utf-8") as out:
                    out.write(record.model_dump_json() + "\n")
            raw_out = raw["usage"]["completion_tokens"]
            rows.append((path.name, raw_s, raw_out, *timed[0], *timed[1]))
    click.echo(f"model {model}; seconds and output tokens per article, cold caches")
    click.echo(
        f"{'article':28} {'raw s':>7} {'out':>5} {OLD + ' s':>22} {'out':>5} "
        f"{NEW + ' s':>14} {'out':>5} {'new/old':>8}"
    )
    for name, raw_s, raw_out, old_s, old_out, new_s, new_out in rows:
        click.echo(
            f"{name:28} {raw_s:7.1f} {raw_out:5d} {old_s:22.1f} {old_out:5d} "
            f"{new_s:14.1f} {new_out:5d} {new_s / old_s:8.2f}"
        )
    total = [sum(r[i] for r in rows) for i in range(1, 7)]
    click.echo(
        f"{'total':28} {total[0]:7.1f} {total[1]:5.0f} {total[2]:22.1f} {total[3]:5.0f} "
        f"{total[4]:14.1f} {total[5]:5.0f} {total[4] / total[2]:8.2f}"
    )
    click.echo(
        f"ratios to the old default: raw {total[0] / total[2]:.2f}x, "
        f"staged {total[4] / total[2]:.2f}x seconds; staged output tokens "
        f"{total[5] / total[3]:.2f}x"
    )


if __name__ == "__main__":
    main()
