"""`python -m service link RECORDS.jsonl -o EVENTS.jsonl`: per-article records to linked events.

RECORDS is JSONL of `ArticleEvents` or `service batch` output (failed lines are skipped
and counted), or one JSON array, or '-' for stdin. Bad input is one line on stderr and
exit 1, with nothing written: outputs are written to a temporary file and renamed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from service.link import link_records, parse_records
from service.link.export import WRITERS, atomic_text
from service.link.report import render_html


@click.command("link")
@click.argument("records", metavar="RECORDS")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Linked events, one per line (jsonl) or row (acled-csv).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(WRITERS)),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--html",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a standalone HTML report with a map of the events.",
)
def link(records: str, output: Path, fmt: str, html: Path | None) -> None:
    """Link the events of RECORDS across articles: one linked event per real-world event."""
    text = _read(records)
    parsed, skipped = parse_records(text, "stdin" if records == "-" else Path(records).name)
    result = link_records(parsed)
    with atomic_text(output) as out:
        WRITERS[fmt](result.events, out)
    if html is not None:
        with atomic_text(html) as out:
            out.write(render_html(result.events))
    s = result.stats
    multi = sum(1 for e in result.events if len(e.articles) > 1)
    click.echo(
        f"{s.mentions} reports in {s.records} records -> {s.events} events "
        f"({multi} from several articles, {s.links} links); {s.comparisons} comparisons "
        f"in {s.seconds:.2f} s" + (f"; skipped {skipped} failed batch lines" if skipped else ""),
        err=True,
    )


def _read(spec: str) -> str:
    try:
        data = sys.stdin.buffer.read() if spec == "-" else Path(spec).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {spec}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{spec} is not UTF-8 (byte {exc.start})") from None
