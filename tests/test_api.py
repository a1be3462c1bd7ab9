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
