"""The bare persisted turns that bench/turns.py measures policybot against: each, run as the
benchmark runs it (its own process, its settings in the environment), answers one message with
one reply and one saved row, on SQLite and on PostgreSQL. A yardstick that skipped the save or
the reply would flatter nothing but itself, so both are checked where they land."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from storage.db import sync_url
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.slack_api import FakeSlack, signed_headers
from tests.serving import free_port, serve_env, slack_env, slack_message

pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bare-persisted-secret"


@asynccontextmanager
async def bare_server(module: str, env: Mapping[str, str]) -> AsyncIterator[str]:
    """The module's server on a free port, until the block ends; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220 - our own module
        [sys.executable, "-m", module, "--port", str(port)],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    async with session.get(base + "/") as response:
                        await response.read()
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
        assert b"Traceback" not in errors, errors.decode(errors="replace")


def saved_row(database_url: str, conversation: str) -> tuple[int, str] | None:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT turns, last_text FROM bare_turn WHERE conversation = :c"),
                {"c": conversation},
            ).first()
    finally:
        engine.dispose()
    return None if row is None else (int(row[0]), str(row[1]))


async def test_slack_bare_persisted_turn_saves_a_row_and_replies(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeSlack() as slack:
        env = serve_env(tmp_path, database_url, **slack_env(slack, SECRET))
        async with bare_server("bot.channels.slack.bare_persisted", env) as base:
            # The second waits for the first's reply: the bare turn keeps no order of its own
            # between one person's messages (its listener runs after the acknowledgement), and
            # two first turns at once would both create the row.
            for count, word in enumerate(("report", "me"), start=1):
                body = slack_message(word, f"Ev{uuid.uuid4().hex}")
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        base + "/slack/events", data=body, headers=signed_headers(body, SECRET)
                    ) as response,
                ):
                    assert response.status == 200
                replies = await slack.wait_for("chat.postMessage", count=count)
    assert [(r.body["channel"], r.body["text"]) for r in replies] == [
        ("DU0SAM", "Saved turn 1: report"),
        ("DU0SAM", "Saved turn 2: me"),
    ]
    assert saved_row(database_url, "DU0SAM") == (2, "me")


async def test_slack_bare_persisted_refuses_an_unsigned_event(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeSlack() as slack:
        env = serve_env(tmp_path, database_url, **slack_env(slack, SECRET))
        async with bare_server("bot.channels.slack.bare_persisted", env) as base:
            body = json.dumps({"type": "event_callback", "event": {"type": "message"}})
            headers = signed_headers(body, "another-secret")
            async with (
                aiohttp.ClientSession() as session,
                session.post(base + "/slack/events", data=body, headers=headers) as response,
            ):
                assert response.status == 401
    assert slack.calls_to("chat.postMessage") == []


async def test_teams_bare_persisted_turn_saves_a_row_and_replies(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotFramework(require_auth=False) as teams:
        env = {
            k: v
            for k, v in serve_env(tmp_path, database_url).items()
            if not k.startswith("MICROSOFT_APP")
        }
        async with bare_server("bot.channels.teams.bare_persisted", env) as base:
            activity = {
                "type": "message",
                "id": uuid.uuid4().hex,
                "serviceUrl": teams.service_url,
                "channelId": "msteams",
                "from": {"id": "29:sam", "aadObjectId": str(uuid.uuid4())},
                "conversation": {"id": "a:sam-chat", "conversationType": "personal"},
                "recipient": {"id": "28:bot", "name": "policybot"},
                "text": "report",
            }
            async with (
                aiohttp.ClientSession() as session,
                session.post(base + "/api/messages", json=activity) as response,
            ):
                assert response.status in (200, 201)
            (reply,) = await teams.wait_for_activities(1, conversation_id="a:sam-chat")
    assert reply["text"] == "Saved turn 1: report"
    assert saved_row(database_url, "a:sam-chat") == (1, "report")
