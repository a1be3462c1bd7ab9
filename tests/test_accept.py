"""The learned event acceptor: features, weights file, and where it applies."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from evals import accept, muc4, muc4_train
from evals.cli import main
from schemas.events import ArticleEvents, Event, Evidence, Span
from schemas.vocab import EventType, SubEventType
from service.config import Settings
from service.core.templates import load_template
from service.pipeline import extract_events
from service.pipeline.accept import (
    EVENT_FEATURES,
    ROLE_FEATURES,
    Acceptor,
    Logistic,
    acceptor_for,
    event_features,
    from_dict,
)


def _on(feature: str, weight: float, intercept: float = 0.0) -> Acceptor:
    """An acceptor whose event weight reads one feature only, at threshold 0.5."""
    n = len(EVENT_FEATURES)
    coef = tuple(weight if f == feature else 0.0 for f in EVENT_FEATURES)
    return Acceptor("m", Logistic((0.0,) * n, (1.0,) * n, coef, intercept, 0.5), {})


def _event(sentences: int, start: int = 0) -> Event:
    evidence = [Evidence(quote="x", start=start + i, end=start + i + 1) for i in range(sentences)]
    return Event(
        event_type=EventType.VIOLENCE_AGAINST_CIVILIANS,
        sub_event_type=SubEventType.ATTACK,
        evidence=evidence,
        grounded=True,
        confidence=0.9,
    )


def test_features_are_read_in_their_named_order() -> None:
    x = event_features(_event(2), article_chars=100)
    assert len(x) == len(EVENT_FEATURES)
    assert x[EVENT_FEATURES.index("sentences")] == 2.0
    assert x[EVENT_FEATURES.index("p_attack")] == 0.9
    assert x[EVENT_FEATURES.index("no_means")] == 1.0  # an attack with no means named
    assert x[EVENT_FEATURES.index("attacker")] == 0.0


def test_the_acceptor_keeps_what_it_scores_at_or_above_its_threshold() -> None:
    longer = _on("sentences", 2.0)  # P = sigmoid(2 * sentences)
    article = "x" * 100
    assert longer.keeps(_event(1), article)
    strict = dataclasses.replace(longer, event=dataclasses.replace(longer.event, threshold=0.99))
    assert not strict.keeps(_event(1), article) and strict.keeps(_event(3), article)


def test_the_shipped_weights_load_and_apply_to_their_own_model_only() -> None:
    fitted = acceptor_for("qwen2.5-coder-1.5b")
    assert fitted is not None and 0 < fitted.event.threshold < 1
    assert acceptor_for("qwen2.5-coder-0.5b") is None
    assert Settings(accept=True).acceptor_model() == "qwen2.5-coder-1.5b"
    assert Settings().acceptor_model() is None  # off by default: it does not transfer
    assert Settings(accept=True, base_url="http://127.0.0.1:9/v1").acceptor_model() is None


def test_a_role_value_its_weight_doubts_is_nulled_with_its_span() -> None:
    article = "Rebels attacked the town."
    event = _event(1).model_copy(
        update={
            "evidence": [Evidence(quote=article, start=0, end=len(article))],
            "attacker": "Rebels",
            "spans": {"attacker": Span(start=0, end=6, confidence=0.3)},
        }
    )
    n = len(ROLE_FEATURES)
    sure = tuple(4.0 if f == "p_chosen" else 0.0 for f in ROLE_FEATURES)  # P grows with it
    doubting = Logistic((0.5,) * n, (1.0,) * n, sure, 0.0, 0.5)
    acceptor = Acceptor("m", _on("sentences", 1.0).event, {"attacker": doubting})
    kept = acceptor.kept_roles(event, article)
    assert kept.attacker is None and "attacker" not in kept.spans
    sure_event = event.model_copy(
        update={"spans": {"attacker": Span(start=0, end=6, confidence=0.9)}}
    )
    assert acceptor.kept_roles(sure_event, article).attacker == "Rebels"


def test_weights_fitted_on_other_features_are_refused() -> None:
    weight = {"features": ["p_attack"], "mean": [0], "scale": [1], "coef": [1]}
    data = {"model": "m", "event": weight | {"intercept": 0, "threshold": 0.5}, "roles": {}}
    with pytest.raises(ValueError, match="other features"):
        from_dict(data)


def test_the_pipeline_drops_the_events_its_acceptor_does_not_keep() -> None:
    article = "Gunmen attacked a bus on Monday. Officials met in the capital. A bomb hit a market."

    def ask(stage: str, messages: list[dict[str, str]], model: type[BaseModel]) -> BaseModel:
        if stage == "detect":
            return model.model_validate({"attack": True})
        answer = dict.fromkeys(model.model_fields) | {"p_true": None, "p_chosen": None}
        return model.model_validate(answer | {"certainty": "confirmed"})

    both, _ = extract_events(ask, load_template("stages@v3"), article, None, 0.5, 0.0)
    assert len(both) == 2
    dated = _on("date", 10.0, intercept=-5.0)  # keeps only an event its sentences date
    kept, _ = extract_events(ask, load_template("stages@v3"), article, None, 0.5, 0.0, dated)
    assert [e.evidence[0].quote for e in kept] == ["Gunmen attacked a bus on Monday."]


def _run_folder(folder: Path, set_name: str, docs: list[muc4.GoldDoc]) -> None:
    """A run folder as `evals run` leaves it: in in-scope reports, a three-sentence event
    over a gold filler's mention; in every report, a one-sentence event at its end."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"set": set_name}))
    with (folder / "predictions.jsonl").open("w") as f:
        for doc in docs:
            mentions = [
                m
                for t in doc.templates
                if t.in_scope
                for r in t.roles.values()
                for e in r
                for m in e
            ]
            events = [_event(1, start=len(doc.text) - 1)]
            if mentions:
                events.append(_event(3, start=mentions[0][1]))
            record = ArticleEvents(id=doc.id, events=events).model_dump(mode="json")
            f.write(json.dumps({"id": doc.id, "ok": True, "record": record}) + "\n")


def test_the_fit_learns_what_tells_a_right_event_and_fits_on_train_only(tmp_path: Path) -> None:
    train = muc4_train.subset(muc4_train.load(), 40)
    _run_folder(tmp_path / "train", "muc4-train", train)
    fitted, summary = accept.fit([tmp_path / "train"], "m")
    assert fitted.event.coef[EVENT_FEATURES.index("sentences")] > 0  # right ones are long
    assert summary["positive events"] == sum(d.kind == "in_scope" for d in train)
    kept, best = summary["train"]["all kept"], summary["train"]["accepted"]
    assert best["false_event_rate"] == 0 < kept["false_event_rate"]
    assert best["role_f1"] >= kept["role_f1"]
    _run_folder(tmp_path / "dev", "muc4", muc4.subset(muc4.load(), 20))
    check = accept.calibration(fitted, [tmp_path / "dev"])
    assert check["brier"]["event"] < check["brier of the base rate"]["event"]
    result = CliRunner().invoke(main, ["fit-accept", str(tmp_path / "dev"), "--dry-run"])
    assert result.exit_code == 2 and "muc4-train runs only" in result.output
