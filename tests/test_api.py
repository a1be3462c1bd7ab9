"""`service.extract` keeps one Extractor per distinct configuration, and only one."""

from __future__ import annotations

from pathlib import Path

from service import Settings, shared_extractor


def remote(tmp_path: Path, key: str) -> Settings:
    return Settings(base_url="http://127.0.0.1:9/v1", model="m", api_key=key, cache_dir=tmp_path)


def test_the_same_settings_share_one_extractor(tmp_path: Path) -> None:
    assert shared_extractor(remote(tmp_path, "sk-a")) is shared_extractor(remote(tmp_path, "sk-a"))


def test_a_different_api_key_gets_its_own_extractor(tmp_path: Path) -> None:
    """Settings serialise the key as '**********', so the key itself must tell them apart."""
    first = shared_extractor(remote(tmp_path, "sk-a"))
    second = shared_extractor(remote(tmp_path, "sk-b"))
    assert first is not second
    assert second.settings.api_key is not None
    assert second.settings.api_key.get_secret_value() == "sk-b"


def test_another_prompt_shares_the_server_but_asks_with_its_own_settings(tmp_path: Path) -> None:
    """A benchmark sets the old default (llama.cpp's JSON grammar) beside the new one
    (LLGuidance) on one server: each copy builds its own client from its own settings."""
    settings = Settings(base_url="http://127.0.0.1:9/v1", backend="llamacpp", cache_dir=tmp_path)
    base = shared_extractor(settings)
    other = base.with_prompt("extract_events@v2", llguidance=True)
    assert other.endpoints is base.endpoints and other.cache is base.cache
    assert other.settings.prompt == "extract_events@v2"
    assert (base.settings.uses_llguidance(), other.settings.uses_llguidance()) == (False, True)


def test_each_built_in_model_has_its_own_attack_threshold(tmp_path: Path) -> None:
    """P(attack) is comparable only within one model: the 0.5B model's probabilities sit
    lower than the 1.5B's, so one threshold for both would leave the 0.5B finding nothing."""
    thresholds = {
        name: Settings(model=name, cache_dir=tmp_path).resolved_attack_threshold()
        for name in ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
    }
    assert thresholds["qwen2.5-coder-1.5b"] > thresholds["qwen2.5-coder-0.5b"]
    remote = Settings(base_url="http://127.0.0.1:9/v1", model="qwen2.5-coder-1.5b")
    assert remote.resolved_attack_threshold() == 0.5  # not calibrated: its own true/false
    chosen = Settings(model="qwen2.5-coder-0.5b", attack_threshold=0.9, cache_dir=tmp_path)
    assert chosen.resolved_attack_threshold() == 0.9
