"""Shared fixtures. Tests marked `model` start the real embedded llama.cpp server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service import Extractor, Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TEST_MODEL = "qwen2.5-coder-0.5b"  # with its own calibrated attack threshold (0.4)


@pytest.fixture(autouse=True)
def _one_shot_unless_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests on the fault-injecting fake server script one-shot answers (`ArticleDraft`),
    so they run the one-shot baseline; tests marked `model` run the staged default."""
    if request.node.get_closest_marker("model") is None:
        monkeypatch.setenv("NEWSEVENTS_PROMPT", "extract_events@v2")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir per test session: the assembled model is reused, answers start cold."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def extractor(model_cache: Path) -> Iterator[Extractor]:
    """A real extractor on the embedded server with the small built-in model."""
    settings = Settings(model=TEST_MODEL, cache_dir=model_cache)
    with Extractor(settings) as ex:
        yield ex


def seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")
