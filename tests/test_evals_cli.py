"""`python -m evals compare` gates prompt changes: exit 1 on a regression, 0 otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.scoring import load_gold, score_run
from schemas.events import ArticleEvents
from tests.conftest import ROOT

GOLD = load_gold(ROOT / "seeds", ROOT / "evals" / "gold")


def save(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A perfect run (the gold itself) and a worse one that lost one article's events."""
    folder = tmp_path_factory.mktemp("reports")
    perfect = {i: record for i, (_, record) in GOLD.items()}
    worse = dict(perfect)
    worse["002_7170401a18cb68b4"] = ArticleEvents(id="002_7170401a18cb68b4")
    return {
        "perfect": save(score_run(GOLD, perfect), folder / "perfect" / "report.json"),
        "worse": save(score_run(GOLD, worse), folder / "worse.json"),
    }


def compare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evals", "compare", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_worse_candidate_fails_the_gate(reports: dict[str, Path]) -> None:
    done = compare(str(reports["perfect"]), str(reports["worse"]))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "002_7170401a18cb68b4" in done.stdout  # the article that lost its events is named


def test_the_same_run_passes_and_a_folder_finds_its_report(reports: dict[str, Path]) -> None:
    done = compare(str(reports["perfect"].parent), str(reports["perfect"]))
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_improvement_passes(reports: dict[str, Path]) -> None:
    assert compare(str(reports["worse"]), str(reports["perfect"])).returncode == 0


def test_a_nonsense_argument_is_a_clear_usage_error(tmp_path: Path) -> None:
    done = compare(str(tmp_path / "nope.json"), str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert "neither a prompt name@vN nor a report.json" in done.stderr
    assert "Traceback" not in done.stderr
