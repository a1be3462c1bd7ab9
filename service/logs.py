"""Every model call, with its prompt and answer, in a SQLite file a user can query.

`python -m service logs` shows the latest; any SQLite tool can read `logs.db`.
API keys are never part of what is logged.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    datetime_utc TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    messages TEXT NOT NULL,
    response TEXT,
    error TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    seconds REAL
)
"""


class CallLog:
    """Append-only log of model calls; one short transaction each, safe across threads."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), timeout=30)

    def record(self, **row: Any) -> None:
        if self.path is None:
            return
        row = {"datetime_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **row}
        row["messages"] = json.dumps(row["messages"], ensure_ascii=False)
        columns = ", ".join(row)
        marks = ", ".join(f":{c}" for c in row)
        with self._lock, self._connect() as db:
            db.execute(f"INSERT INTO calls ({columns}) VALUES ({marks})", row)

    def latest(self, count: int) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM calls ORDER BY id DESC LIMIT ?", (count,))
            return [dict(r) for r in rows]
