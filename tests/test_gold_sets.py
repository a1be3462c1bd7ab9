"""The external gold sets are byte-for-byte the copies described in evals/sets/PROVENANCE.md."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

SETS = Path(__file__).resolve().parents[1] / "evals" / "sets"
SHA256 = {
    "wikievents/gold.jsonl": "23b19ab79f07b6119f1bf01f2c53d1fcfefbb75c87be1707dbd3f2e018390de9",
    "muc4/dev.jsonl": "08dcfe77110b8b26a677db515b01c162b3fa2715c4577c24b1def5074c7d4fb4",
    "muc4-train/train.jsonl": "c93909c8a9868f5e01262f45479b63305bfb43df625404b3c7c4f9264382e248",
}


@pytest.mark.parametrize("path", sorted(SHA256))
def test_gold_file_is_unchanged(path: str) -> None:
    assert hashlib.sha256((SETS / path).read_bytes()).hexdigest() == SHA256[path]
