"""Every model call and each of its attempts, in a SQLite file a user can query.

`python -m service logs` shows the latest; any SQLite tool can read `logs.db`:

- `calls`: one row per call (a cache miss): prompt, model, the messages after the
  system prompt, the answer kept or the final error, and the totals of its attempts.
- `attempts`: every request of a call, re-asks and retries included, with its own
  tokens, seconds, answer and error; a re-ask's row holds the turns it added.
- `prompts`: each system prompt once, by its sha256 (`calls.system_hash`).

The attempts are collected from instructor's hooks (`watch`), not by the caller. The
schema changes only through the numbered migrations below, applied in order and
recorded in `_migrations`, as simonw/llm does; a file from any earlier version is
brought up to date when it is opened. No secret is part of what is logged: every
column of every row passes `scrub` (`_insert`), and the endpoint is named without the
credentials or query of its URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import instructor
import openai
from sqlite_utils import Database

from service.infra.redact import redact, scrub

#: What a call and each attempt record of their outcome: the columns both tables share.
_COSTS = {
    "response": str,
    "error": str,
    "prompt_tokens": int,
    "completion_tokens": int,
    "seconds": float,
}

Migration = Callable[[Database], None]
MIGRATIONS: list[Migration] = []


def migration(step: Migration) -> Migration:
    MIGRATIONS.append(step)
    return step


def migrate(db: Database) -> None:
    """Apply, in order, each migration the file has not had yet; each in one transaction."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    applied = {row["name"] for row in db["_migrations"].rows}
    for step in MIGRATIONS:
        if step.__name__ not in applied:
            with db.conn:
                step(db)
                db["_migrations"].insert({"name": step.__name__, "applied_at": _now()})


@migration
def m001_calls(db: Database) -> None:
    """The first table: one row per request (a file made before migrations has it)."""
    if "calls" in db.table_names():
        return
    db["calls"].create(
        {
            "id": int,
            "datetime_utc": str,
            "endpoint": str,
            "model": str,
            "prompt": str,
            "cache_key": str,
            "messages": str,
            **_COSTS,
        },
        pk="id",
        not_null={"datetime_utc", "endpoint", "model", "prompt", "cache_key", "messages"},
    )


@migration
def m002_prompts_and_attempts(db: Database) -> None:
    """System prompts once by hash; a row per attempt, so re-asks and their cost show."""
    db["prompts"].create({"hash": str, "system": str}, pk="hash")
    db["calls"].add_column("system_hash", str)
    db["calls"].add_column("attempts", int)
    db["attempts"].create(
        {
            "id": int,
            "call_id": int,
            "number": int,
            "messages": str,
            **_COSTS,
        },
        pk="id",
        foreign_keys=[("call_id", "calls", "id")],
    )
    db["attempts"].create_index(["call_id"])


@migration
def m003_old_rows_to_calls_and_attempts(db: Database) -> None:
    """Rows written before m002 (one per request): their system prompt into `prompts`,
    and each becomes a call of one attempt."""
    for row in list(db["calls"].rows_where("system_hash IS NULL")):
        system, rest = _split(json.loads(row["messages"]))
        db["calls"].update(
            row["id"],
            {"messages": json.dumps(rest), "system_hash": _store_prompt(db, system), "attempts": 1},
        )
        db["attempts"].insert({"call_id": row["id"], "number": 1} | _costs(row))


@dataclass
class Attempt:
    """One request as instructor's hooks saw it."""

    messages: list[dict[str, Any]]
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    response: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


_attempts: ContextVar[list[Attempt] | None] = ContextVar("newsevents_attempts", default=None)


class CallLog:
    """Append-only log of model calls; one short transaction each, safe across threads."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                db = self._open()
                migrate(db)
                db.close()

    def _open(self) -> Database:
        return Database(str(self.path))

    @staticmethod
    def watch(client: instructor.Instructor) -> None:
        """Hear every attempt of every call made through `client` (see `attempts`)."""
        client.on("completion:kwargs", _on_request)
        client.on("completion:response", _on_response)
        client.on("completion:error", _on_error)
        client.on("parse:error", _on_parse_error)

    @staticmethod
    @contextmanager
    def attempts() -> Iterator[list[Attempt]]:
        """The attempts the watched client makes in this thread inside the block."""
        found: list[Attempt] = []
        token = _attempts.set(found)
        try:
            yield found
        finally:
            _attempts.reset(token)

    def record(
        self,
        call: dict[str, Any],
        attempts: list[Attempt],
        *,
        response: str | None = None,
        failure: str | None = None,
    ) -> None:
        """One call and its attempts; the last attempt carries the answer kept or the failure."""
        if self.path is None:
            return
        if not attempts:  # refused before any request was sent
            attempts = [Attempt(call["messages"])]
        if failure is None:
            attempts[-1].response = response
        attempts[-1].error = failure
        system, rest = _split(call["messages"])
        row = {
            "datetime_utc": _now(),
            **{k: v for k, v in call.items() if k != "messages"},
            "messages": rest,
            "response": response,
            "error": failure,
            "prompt_tokens": sum(a.prompt_tokens for a in attempts),
            "completion_tokens": sum(a.completion_tokens for a in attempts),
            "seconds": round(sum(a.seconds for a in attempts), 3),
            "attempts": len(attempts),
        }
        sent = len(call["messages"])
        with self._lock:
            db = self._open()
            with db.conn:
                row["system_hash"] = _store_prompt(db, system)
                call_id = _insert(db, "calls", row)
                for number, attempt in enumerate(attempts, 1):
                    added = attempt.messages[sent:] if number > 1 else []
                    _insert(
                        db,
                        "attempts",
                        {"call_id": call_id, "number": number, "messages": added or None}
                        | _costs(vars(attempt)),
                    )
            db.close()

    def latest(self, count: int) -> list[dict[str, Any]]:
        """The last `count` calls, newest first: the full messages and every attempt."""
        if self.path is None or not self.path.exists():
            return []
        db = self._open()
        migrate(db)
        calls = []
        for row in db["calls"].rows_where(order_by="id desc", limit=count):
            prompt = db["prompts"].get(row["system_hash"]) if row["system_hash"] else None
            system = [{"role": "system", "content": prompt["system"]}] if prompt else []
            row["messages"] = system + json.loads(row["messages"])
            tries = db["attempts"].rows_where("call_id = ?", [row["id"]], order_by="number")
            row["attempts"] = [
                {k: v for k, v in t.items() if k not in ("id", "call_id")} for t in tries
            ]
            calls.append(row)
        db.close()
        return calls


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _costs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in _COSTS}


def _split(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt (the same for every call of a template) and the rest."""
    system = "\n\n".join(str(m["content"]) for m in messages if m.get("role") == "system")
    return system, [m for m in messages if m.get("role") != "system"]


def _store_prompt(db: Database, system: str) -> str:
    system = scrub(system)
    digest = hashlib.sha256(system.encode()).hexdigest()
    _insert(db, "prompts", {"hash": digest, "system": system}, ignore=True)
    return digest


def _insert(db: Database, table: str, row: dict[str, Any], *, ignore: bool = False) -> Any:
    """Every row of every table is written here, without any registered secret in any
    column: a re-ask's turns repeat the answer and pydantic's error, and either may hold
    the key a server echoed. Lists and dicts (messages) are stored as JSON."""
    clean = {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
        for k, v in scrub(row).items()
    }
    return db[table].insert(clean, ignore=ignore).last_pk


# -- instructor's hooks: each finds the attempts of the call running in its thread


def _current() -> Attempt | None:
    found = _attempts.get()
    return found[-1] if found else None


def _on_request(*_: Any, **kwargs: Any) -> None:
    found = _attempts.get()
    if found is not None:
        found.append(Attempt(list(kwargs.get("messages") or [])))


def _on_response(response: Any) -> None:
    attempt = _current()
    if attempt is None:
        return
    attempt.seconds = round(time.perf_counter() - attempt.started, 3)
    usage = getattr(response, "usage", None)
    attempt.prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
    attempt.completion_tokens = getattr(usage, "completion_tokens", 0) or 0
    choices = getattr(response, "choices", None) or []
    message = choices[0].message if choices else None
    if message is not None:
        calls = message.tool_calls or []
        text = message.content or (calls[0].function.arguments if calls else None)
        attempt.response = redact(text) if text else None


def _on_error(error: Exception, **_: Any) -> None:
    attempt = _current()
    if attempt is None:
        return
    attempt.seconds = round(time.perf_counter() - attempt.started, 3)
    if isinstance(error, openai.APIStatusError):
        attempt.error = f"HTTP {error.status_code}: {_short(error)}"
    else:
        attempt.error = f"{type(error).__name__}: {_short(error)}"


def _on_parse_error(error: Exception, **_: Any) -> None:
    attempt = _current()
    if attempt is not None:
        attempt.error = f"the answer did not fit the schema, re-asked: {_short(error)}"


def _short(error: Exception) -> str:
    return redact(" ".join(str(error).split()))[:300]
