"""logs.db records every attempt of a call, and grows only by numbered migrations.

The endpoint is `tests.fake_openai`, a fault-injection double: `invalid-once` makes
the first answer miss the schema, so the call is re-asked once.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from service import Extractor, Settings
from service.front.cli.main import main
from service.infra.logs import MIGRATIONS, Attempt, CallLog
from service.infra.redact import REDACTED, register
from tests.fake_openai import FakeOpenAI

TEXT = "Gunmen attacked the village of Tora on Monday, killing three people, police said."

#: The only schema logs.db had before migrations: one row per request.
OLD_SCHEMA = """
CREATE TABLE calls (
    id INTEGER PRIMARY KEY, datetime_utc TEXT NOT NULL, endpoint TEXT NOT NULL,
    model TEXT NOT NULL, prompt TEXT NOT NULL, cache_key TEXT NOT NULL,
    messages TEXT NOT NULL, response TEXT, error TEXT, prompt_tokens INTEGER,
    completion_tokens INTEGER, seconds REAL
)
"""


def test_a_re_asked_call_shows_each_attempt_with_its_tokens_and_seconds(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeOpenAI() as fake:
        settings = Settings(
            base_url=f"{fake.url}/v1", model="fake", backend="llamacpp", cache_dir=cache
        )
        with Extractor(settings) as extractor:
            extractor.extract(f"{TEXT} [[fault:invalid-once]]")
            extractor.extract(f"{TEXT} Another article.")

    shown = CliRunner().invoke(main, ["logs", "-n", "2", "--cache-dir", str(cache)])

    assert shown.exit_code == 0, shown.output
    decoder, calls, at = json.JSONDecoder(), [], 0
    while at < len(shown.output.rstrip()):
        call, at = decoder.raw_decode(shown.output, at)
        calls.append(call)
        at += 1
    plain, re_asked = calls  # newest first
    assert [len(plain["attempts"]), len(re_asked["attempts"])] == [1, 2]
    first, second = re_asked["attempts"]
    assert "did not fit the schema, re-asked" in first["error"] and first["response"]
    assert second["error"] is None and json.loads(second["response"])["events"]
    assert json.loads(second["messages"])  # the re-ask turns it added
    for attempt in (first, second):
        assert attempt["completion_tokens"] > 0 and attempt["seconds"] >= 0
    assert re_asked["completion_tokens"] == first["completion_tokens"] + second["completion_tokens"]
    assert re_asked["messages"][0]["role"] == "system"  # stored once, shown whole
    with sqlite3.connect(cache / "logs.db") as db:
        assert db.execute("SELECT count(*) FROM prompts").fetchone() == (1,)


def test_a_log_from_before_migrations_is_migrated_not_broken(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    with sqlite3.connect(path) as db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO calls (datetime_utc, endpoint, model, prompt, cache_key, messages,"
            " response, prompt_tokens, completion_tokens, seconds)"
            " VALUES ('2026-01-01T00:00:00+00:00', 'e', 'm', 'p@v1', 'k', ?, '{}', 10, 5, 1.5)",
            (json.dumps(messages),),
        )
    db.close()

    (old,) = CallLog(path).latest(5)
    CallLog(path)  # opening again changes nothing

    assert old["messages"] == messages and old["response"] == "{}"
    assert old["attempts"] == [
        {
            "number": 1,
            "messages": None,
            "response": "{}",
            "error": None,
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "seconds": 1.5,
        }
    ]
    with sqlite3.connect(path) as db:
        applied = [name for (name,) in db.execute("SELECT name FROM _migrations")]
        stored = db.execute("SELECT messages FROM calls").fetchone()[0]
    assert applied == [step.__name__ for step in MIGRATIONS]
    assert json.loads(stored) == messages[1:]  # the system prompt lives in `prompts` now


def test_no_column_of_any_table_stores_a_registered_secret(tmp_path: Path) -> None:
    secret = "sk-logged-nowhere-5e6f7a8b"
    register(secret)
    said = f"it repeats {secret}"
    messages = [{"role": "system", "content": said}, {"role": "user", "content": said}]
    call = {"endpoint": said, "model": said, "prompt": said, "cache_key": said}
    re_ask = [*messages, {"role": "assistant", "content": said}, {"role": "user", "content": said}]
    log = CallLog(tmp_path / "logs.db")
    attempts = [Attempt(messages, response=said, error=said), Attempt(re_ask)]
    log.record(call | {"messages": messages}, attempts, response=said)
    log.record(call | {"messages": messages}, [], failure=said)
    assert secret.encode() not in (tmp_path / "logs.db").read_bytes()
    shown = json.dumps(log.latest(2))
    assert secret not in shown and shown.count(REDACTED) >= 10
