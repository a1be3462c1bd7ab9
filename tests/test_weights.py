"""Built-in models are assembled from their chunk packages and refused if the hash is wrong."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from service.errors import ModelUnavailableError
from service.infra import weights
from service.infra.weights import BuiltinModel, ensure_builtin
from tests.conftest import ROOT


def tiny_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sha256: str) -> BuiltinModel:
    """A two-chunk 'model' whose parts are files we control."""
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "part01.bin").write_bytes(b"GGUF-head-")
    (parts / "part02.bin").write_bytes(b"tail")
    model = BuiltinModel("tiny", "tiny-part", "1.0", 2, 14, sha256, "test", attack_threshold=0.5)
    monkeypatch.setitem(weights.BUILTIN_MODELS, "tiny", model)
    monkeypatch.setattr(BuiltinModel, "part_file", lambda self, n: parts / f"part{n:02d}.bin")
    return model


GOOD = hashlib.sha256(b"GGUF-head-tail").hexdigest()
WRONG = hashlib.sha256(b"something else").hexdigest()


def test_chunks_are_concatenated_verified_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_model(tmp_path, monkeypatch, GOOD)
    path = ensure_builtin("tiny", tmp_path / "cache")
    assert path.read_bytes() == b"GGUF-head-tail"
    assert ensure_builtin("tiny", tmp_path / "cache") == path  # second call: no re-assembly


def test_a_hash_mismatch_is_refused_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_model(tmp_path, monkeypatch, WRONG)
    with pytest.raises(ModelUnavailableError, match="failed verification"):
        ensure_builtin("tiny", tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_a_file_tampered_with_after_assembly_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_model(tmp_path, monkeypatch, GOOD)
    path = ensure_builtin("tiny", tmp_path / "cache")
    path.write_bytes(b"GGUF-evil-tail")
    with pytest.raises(ModelUnavailableError, match="failed verification"):
        ensure_builtin("tiny", tmp_path / "cache")


def test_an_unknown_model_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"qwen2\.5-coder-1\.5b"):
        ensure_builtin("gpt-17", tmp_path)


@pytest.mark.parametrize("name", sorted(weights.BUILTIN_MODELS))
def test_an_extra_installs_exactly_the_chunks_a_builtin_model_is_assembled_from(
    name: str,
) -> None:
    """A model's part count and version must match the packages pyproject pins."""
    model = weights.BUILTIN_MODELS[name]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    pinned = {
        requirement
        for requirements in extras.values()
        for requirement in requirements
        if requirement.startswith(model.package)
    }
    wanted = {f"{model.package}{n}=={model.version}" for n in range(1, model.parts + 1)}
    assert pinned == wanted
