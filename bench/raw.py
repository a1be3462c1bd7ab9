"""The raw llama.cpp call of the one-shot prompt: the floor the benchmarks measure against."""

from __future__ import annotations

import httpx

from schemas.draft import ArticleDraft
from service import Settings

ONE_SHOT = "extract_events@v2"  # the one-shot baseline whose request this reproduces


def raw_call(base_url: str, messages: list[dict[str, str]], settings: Settings) -> dict:
    """The request instructor's JSON_SCHEMA mode sends, posted directly."""
    body = {
        "messages": messages,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "ArticleDraft", "schema": ArticleDraft.model_json_schema()},
        },
        "temperature": settings.temperature,
        "seed": settings.seed,
        "max_tokens": settings.max_tokens,
    }
    response = httpx.post(f"{base_url}/chat/completions", json=body, timeout=settings.timeout)
    response.raise_for_status()
    return response.json()
