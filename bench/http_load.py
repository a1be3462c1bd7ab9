"""Load check of the HTTP API with a warm cache: requests/s and latency percentiles.

    python bench/http_load.py                      # starts `serve` on loopback itself
    python bench/http_load.py --url http://127.0.0.1:8000 --clients 16 --seconds 20

It measures the service around the model (HTTP, validation, cache lookup,
grounding), not the model: one warm-up request fills the cache, then every
timed request is a cache hit. On a small machine the client threads share the
CPU with the server, so the figures are a floor. Not a test: it asserts nothing.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from service.client import Client  # noqa: E402
from service.errors import ServiceError  # noqa: E402
from service.infra.weights import DEFAULT_MODEL  # noqa: E402

DEFAULT_SEED = ROOT / "seeds" / "004_e703eae0c918574b.txt"


@contextmanager
def local_server(model: str, cache_dir: Path | None, token: str | None) -> Iterator[str]:
    """`serve` in a child process on a free loopback port, so it has its own interpreter."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "service", "serve"]
    command += ["--port", str(port), "--model", model]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NEWSEVENTS_TOKEN", None)
    if token:
        env["NEWSEVENTS_TOKEN"] = token
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with Client(url, timeout=5) as probe:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if probe.health().status != "loading":
                        break
                except ServiceError:
                    pass  # not listening yet
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise click.ClickException("the server did not start")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def hammer(
    url: str, token: str | None, text: str, clients: int, seconds: float, max_requests: int
) -> tuple[list[float], int, int, float]:
    """`clients` threads, each with its own connection, until time or the request budget ends.

    Returns every latency in seconds, the error count, the count of answers not
    served from the cache, and the wall time.
    """
    latencies: list[float] = []
    counts = {"errors": 0, "uncached": 0, "sent": 0}
    lock = threading.Lock()
    start, stop = threading.Barrier(clients + 1), threading.Event()

    def worker() -> None:
        with Client(url, token=token, timeout=60) as client:
            start.wait()
            while not stop.is_set():
                with lock:
                    if counts["sent"] >= max_requests:
                        return
                    counts["sent"] += 1
                began = time.perf_counter()
                try:
                    record = client.extract(text, id="bench")
                except ServiceError:
                    with lock:
                        counts["errors"] += 1
                    continue
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.append(elapsed)
                    counts["uncached"] += not (record.usage and record.usage.cached)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:  # all end early when the request budget runs out
        t.join(timeout=max(0.0, began + seconds - time.perf_counter()))
    stop.set()
    for t in threads:
        t.join()
    return latencies, counts["errors"], counts["uncached"], time.perf_counter() - began


@click.command()
@click.option("--url", help="A running server; without it one is started on loopback.")
@click.option("--token-env", default="NEWSEVENTS_TOKEN", show_default=True, metavar="NAME")
@click.option("--clients", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(1, 120))
@click.option("--max-requests", default=20_000, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--article",
    default=DEFAULT_SEED,
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
)
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="For the local server.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False))
def main(
    url: str | None,
    token_env: str,
    clients: int,
    seconds: float,
    max_requests: int,
    article: Path,
    model: str,
    cache_dir: Path | None,
) -> None:
    """Requests/s and latency percentiles of POST /v1/extract with a warm cache."""
    token = os.environ.get(token_env) or None
    text = article.read_text(encoding="utf-8")
    with local_server(model, cache_dir, token) if url is None else nullcontext(url) as base:
        with Client(base, token=token) as client:
            began = time.perf_counter()
            warm = client.extract(text, id="bench")
            cached = warm.usage is not None and warm.usage.cached
            warm_up = "cache hit" if cached else "model call"
            click.echo(
                f"server      {base} ({'started here, ' + model if url is None else 'given'})"
            )
            click.echo(f"warm-up     1 request, {warm_up}, {time.perf_counter() - began:.1f} s")
        latencies, errors, uncached, wall = hammer(
            base, token, text, clients, seconds, max_requests
        )
    if len(latencies) < 2:
        raise click.ClickException(f"only {len(latencies)} successful request(s), {errors} errors")
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    ms = [1000 * v for v in (cuts[49], cuts[89], cuts[98], max(latencies))]
    click.echo(
        f"load        {clients} clients, {wall:.1f} s, {len(latencies)} ok, {errors} errors, "
        f"{uncached} not from the cache ({article.name}, {len(text):,} chars)"
    )
    click.echo(f"throughput  {len(latencies) / wall:.1f} requests/s")
    click.echo("latency     p50 {:.1f} ms  p90 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms".format(*ms))


if __name__ == "__main__":
    main()
