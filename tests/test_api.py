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
