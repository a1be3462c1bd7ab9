"""The cache key covers everything that changes the answer, and nothing secret."""

from __future__ import annotations

from pathlib import Path

from service import Settings
from service.infra.backends import EndpointManager
from service.infra.cache import ResponseCache, cache_key

BASE = {
    "endpoint": "gguf:abc123",
    "mode": "json_schema_mode",
    "schema": {"type": "object"},
    "messages": [{"role": "user", "content": "article"}],
    "sampling": {"temperature": 0.0, "seed": 0, "max_tokens": 100},
    "max_reasks": 1,
}


def test_the_same_request_has_the_same_key_whatever_the_order() -> None:
    assert cache_key(**BASE) == cache_key(**dict(reversed(list(BASE.items()))))


def test_each_part_of_the_request_changes_the_key() -> None:
    changes = {
        "endpoint": "gguf:other-model-sha",
        "mode": "tool_call",
        "schema": {"type": "array"},
        "messages": [{"role": "user", "content": "another article"}],
        "sampling": {"temperature": 0.7, "seed": 0, "max_tokens": 100},
        "max_reasks": 2,
    }
    keys = {cache_key(**{**BASE, part: value}) for part, value in changes.items()}
    assert cache_key(**BASE) not in keys
    assert len(keys) == len(changes)


def test_hits_and_misses_are_counted_and_entries_survive_reopening(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    assert cache.get("k") is None
    cache.set("k", {"draft": {"events": []}})
    assert cache.get("k") == {"draft": {"events": []}}
    assert cache.stats() == {"hits": 1, "misses": 1}
    cache.close()
    reopened = ResponseCache(tmp_path)  # another process sees the same entry
    assert reopened.get("k") == {"draft": {"events": []}}


def test_a_disabled_cache_stores_nothing() -> None:
    cache = ResponseCache(None)
    cache.set("k", {"x": 1})
    assert cache.get("k") is None and not cache.enabled


def test_the_endpoint_identity_tells_hosts_and_models_apart_but_holds_no_credential() -> None:
    def identity(base_url: str, model: str = "m") -> str:
        settings = Settings(base_url=base_url, model=model, backend="vllm")
        return EndpointManager(settings).ref().identity

    plain = identity("http://gpu:8000/v1")
    assert plain == "vllm:http://gpu:8000/v1#m"
    assert identity("http://user:sk-url-key-1@gpu:8000/v1/") == plain
    assert identity("http://sk-url-key-2@gpu:8000/v1?api_key=sk-url-key-3#x") == plain
    hosts = ("http://gpu2:8000/v1", "http://gpu:8001/v1", "https://gpu:8000/v1")
    assert len({plain, identity("http://gpu:8000/v1", "m2"), *map(identity, hosts)}) == 5
