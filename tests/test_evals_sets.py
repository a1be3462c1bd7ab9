"""`python -m evals run --set ... --limit N` and `compare --set`, end to end without a model.

A run folder's predictions.jsonl is the batch output: answers already in it are not
asked again (resume), so these tests fill it by hand and the real CLI scores it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evals import muc4, muc4_train, runner, wikievents
from evals.calibrate import sweep
from evals.cli import main
from schemas.events import ArticleEvents, Event, Evidence
from schemas.vocab import SubEventType
from service.core.sentences import split_sentences


def _prefill(folder: Path, ids: list[str]) -> None:
    folder.mkdir(parents=True)
    with (folder / "predictions.jsonl").open("w") as f:
        for doc_id in ids:
            record = ArticleEvents(id=doc_id).model_dump(mode="json")
            f.write(json.dumps({"id": doc_id, "ok": True, "record": record}) + "\n")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("module", "metrics"),
    [
        (muc4, {"role_f1", "false_event_rate", "span_grounding"}),
        (muc4_train, {"role_f1", "false_event_rate", "span_grounding"}),
        (wikievents, {"attack_recall", "event_precision", "attacker_f1", "span_grounding"}),
    ],
)
def test_a_set_run_scores_the_fixed_subset_and_writes_three_reports(
    tmp_path: Path, module: object, metrics: set[str]
) -> None:
    ids = [d.id for d in module.subset(module.load(), 4)]  # type: ignore[attr-defined]
    out = tmp_path / "run"
    _prefill(out, ids)
    code, output = _run(
        "run",
        "--set",
        module.NAME,
        "--limit",
        "4",
        "--out",
        str(out),  # type: ignore[attr-defined]
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
    )
    assert code == 0, output
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["documents"]) == sorted(ids)
    assert metrics <= set(report["metrics"])
    assert report["run"]["set"] == module.NAME and report["run"]["limit"] == 4  # type: ignore[attr-defined]
    assert report["run"]["model_calls"] == 0  # every answer came from the resumed file
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (out / "report.md").exists()


def test_the_train_split_holds_out_the_reports_of_the_test_split_and_never_a_dev_one() -> None:
    train = muc4_train.load()
    ids = {d.id for d in train}
    assert len(train) == 1298 and not ids & muc4_train.HELD_OUT
    assert not ids & {d.id for d in muc4.load()}
    assert sum(not d.templates for d in train) == 598  # 600 with no incident, less the two


def test_a_smaller_train_subset_is_part_of_a_larger_one() -> None:
    """So a quick run's answers are reused by the documented --limit 300 run."""
    train = muc4_train.load()
    small = {d.id for d in muc4_train.subset(train, 60)}
    large = {d.id for d in muc4_train.subset(train, 300)}
    assert len(small) == 60 and len(large) == 300 and small < large


def test_a_run_folder_of_another_configuration_is_refused(tmp_path: Path) -> None:
    ids = [d.id for d in muc4.subset(muc4.load(), 2)]
    out = tmp_path / "run"
    _prefill(out, ids)
    common = ["--set", "muc4", "--limit", "2", "--out", str(out), "--cache-dir", str(tmp_path)]
    assert _run("run", *common, "--quiet")[0] == 0
    code, output = _run("run", *common, "--prompt", "extract_events@v1", "--quiet")
    assert code == 2
    assert "another configuration" in output


def test_a_run_folder_made_by_other_code_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resuming it would report the old code's records as the new code's."""
    ids = [d.id for d in muc4.subset(muc4.load(), 2)]
    out = tmp_path / "run"
    _prefill(out, ids)
    common = ["--set", "muc4", "--limit", "2", "--out", str(out), "--cache-dir", str(tmp_path)]
    assert _run("run", *common, "--quiet")[0] == 0
    monkeypatch.setattr(runner, "code_version", lambda: "0000000000000000")
    code, output = _run("run", *common, "--quiet")
    assert code == 2 and "another configuration" in output


def test_compare_on_an_external_set_reads_its_gated_metrics(tmp_path: Path) -> None:
    ids = [d.id for d in muc4.subset(muc4.load(), 5)]
    out = tmp_path / "run"
    _prefill(out, ids)
    assert (
        _run(
            "run",
            "--set",
            "muc4",
            "--limit",
            "5",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path),
            "--quiet",
        )[0]
        == 0
    )
    same = _run("compare", str(out), str(out), "--set", "muc4")
    assert same[0] == 0
    assert "no regression" in same[1] and "false_event_rate" in same[1]
    report = json.loads((out / "report.json").read_text())
    worse = json.loads(json.dumps(report))
    no_incident = next(
        i for i, d in worse["documents"].items() if d["tallies"]["false_events"]["n_pred"]
    )
    worse["documents"][no_incident]["tallies"]["false_events"]["tp_pred"] = 1  # an invented event
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    code, output = _run("compare", str(out), str(tmp_path / "worse.json"), "--set", "muc4")
    assert code == 1
    assert "false_event_rate got worse" in output


def test_sweep_drops_staged_events_below_the_threshold_and_keeps_unscored_ones(
    tmp_path: Path,
) -> None:
    """A WikiEvents document's first attack sentence, reported three times: unscored (as
    the one-shot baseline writes), at P 0.6 and at P 0.9."""
    doc = wikievents.load()[0]
    attack = next(m for m in doc.mentions if m.attack)
    [sentence] = [s for s in split_sentences(doc.text) if s.start <= attack.start < s.end]
    evidence = Evidence(quote=sentence.text, start=sentence.start, end=sentence.end)

    def event(confidence: float | None) -> Event:
        kind = SubEventType.ATTACK
        return Event(
            event_type=kind.event_type,
            sub_event_type=kind,
            evidence=[evidence],
            grounded=True,
            confidence=confidence,
        )

    run = tmp_path / "run"
    run.mkdir()
    (run / "inputs.jsonl").write_text(json.dumps({"id": doc.id, "text": doc.text}) + "\n")
    for name, events in (("unscored", [event(None)]), ("scored", [event(0.6), event(0.9)])):
        record = ArticleEvents(id=doc.id, events=events).model_dump(mode="json")
        line = json.dumps({"id": doc.id, "ok": True, "record": record}) + "\n"
        (run / "predictions.jsonl").write_text(line)
        rows = sweep(run, "wikievents", [0.5, 0.8, 0.95])
        recalls = [row["attack_recall"] for row in rows]
        if name == "unscored":
            assert len(set(recalls)) == 1 and recalls[0] > 0  # never dropped
        else:
            assert recalls[0] == recalls[1] > 0 and recalls[2] == 0.0  # 0.9 kept at 0.8
