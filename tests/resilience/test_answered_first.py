"""Teams is answered as soon as a message is journaled, before its turn is taken.

Teams gives a bot 15 seconds, and a burst of messages (or one slow download) can hold turns
longer than that; so a personal-chat message is written to the journal, Teams gets its 201, and
the turn follows with its replies sent as new messages. These tests hold the turn inside its
database transaction and check the three promises that makes: Teams is not kept waiting, the
person's messages are still taken in the order they were sent, and a message answered but not
yet taken survives the process being killed.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.app import TEAMS
from bot.config import Settings
from dialogs.inbox import Replayed
from storage.db import Database
from storage.models import Conversation, ProcessedEvent
from tests.channels.teams.harness import SAM, TeamsHarness, teams_harness, text_of
from tests.conftest import Clock
from tests.fakes.botframework import APP_ID, FakeBotFramework
from tests.fakes.slack_api import FakeSlack
from tests.resilience.test_killed_mid_turn import SECRET, turn_held_in_the_database, wait_for_file
from tests.serving import free_port, serve_env, serving, slack_env

DANGER = "Is anyone in immediate danger"
WHERE = "Where did it happen?"


@pytest.fixture
async def teams(settings: Settings, clock: Clock) -> AsyncIterator[TeamsHarness]:
    async with FakeBotFramework() as fake, teams_harness(settings, clock, fake) as harness:
        yield harness


async def answers_of(database_url: str) -> dict[str, Any]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            [row] = (await session.execute(select(Conversation))).scalars()
            return dict((row.state or {}).get("answers", {}))
    finally:
        await db.dispose()


async def test_teams_is_answered_while_the_turn_waits_and_answers_keep_their_order(
    teams: TeamsHarness, database_url: str
) -> None:
    await teams.say(SAM, "report")
    assert "Who is being targeted?" in text_of(teams.sent_to(SAM.chat))
    sent_before = len(teams.sent_to(SAM.chat))
    pending = teams.runtime.journal.pending_dir

    with turn_held_in_the_database(database_url):
        for text in ("me", "no"):
            body = teams.message(SAM, text)
            headers = teams.fake.headers_for(body, app_id=APP_ID)
            # Not the harness's post(), which waits for the turn as a person waits for replies.
            response = await asyncio.wait_for(
                teams.client.post("/api/messages", json=body, headers=headers), timeout=5
            )
            assert response.status == 201
        # Both are safe on disk before Teams had its answer, and neither turn has happened.
        assert len(list(pending.glob("*.entry"))) == 2
        # The journal's own replay (every few seconds in the server) meets them too: it must
        # neither take them a second time nor tell Sam they were kept for later.
        replay = asyncio.create_task(teams.runtime.runner.replay_journal())
        await asyncio.sleep(0.3)
        assert len(teams.sent_to(SAM.chat)) == sent_before

    await teams.app[TEAMS].settled()
    assert await replay == Replayed()  # it found both already taken when its turn came
    told = text_of(teams.sent_to(SAM.chat)[sent_before:])
    assert DANGER in told
    assert "kept it safely" not in told
    assert told.index(DANGER) < told.index(WHERE)
    answers = await answers_of(database_url)
    assert answers["affected"] == "me"
    assert answers["immediate_danger"] is False
    assert list(pending.glob("*.entry")) == []


def teams_env(slack: FakeSlack, data_dir: Path, database_url: str) -> dict[str, str]:
    env = serve_env(data_dir, database_url, **slack_env(slack, SECRET))
    for name in [k for k in env if k.startswith("MICROSOFT_APP")]:
        del env[name]
    env["POLICYBOT_TEAMS_DEV"] = "1"  # no tokens, callers on this machine only
    return env


def sams_message(connector: FakeBotFramework, text: str, activity_id: str) -> dict[str, Any]:
    return connector.activity(
        id=activity_id,
        text=text,
        **{"from": SAM.account, "conversation": {"id": SAM.chat}},
        recipient={"id": "28:policybot", "name": "policybot"},
    )


async def post_activity(port: int, body: dict[str, Any]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/api/messages", json=body) as response,
    ):
        return response.status


async def told_in_teams(
    connector: FakeBotFramework,
    before: int,
    awaited: str,
    timeout: float = 30,  # noqa: ASYNC109
) -> str:
    """What reached Sam's chat after the first `before` activities, once `awaited` is in it
    (delivery is at least once, so the words are waited for, not a count)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        told = text_of(connector.sent_activities(SAM.chat)[before:])
        if awaited in told or asyncio.get_running_loop().time() > deadline:
            return told
        await asyncio.sleep(0.1)


async def test_a_teams_message_answered_but_not_yet_taken_survives_a_kill(
    tmp_path: Path, database_url: str
) -> None:
    """`policybot serve` answers Teams, is killed before the turn is saved, and the next process
    takes the message from the journal and sends the reply to Sam's saved address."""
    data_dir = tmp_path / "data"
    async with FakeSlack() as slack, FakeBotFramework(require_auth=False) as connector:
        port = free_port()
        env = teams_env(slack, data_dir, database_url)

        def message(text: str, activity_id: str) -> dict[str, Any]:
            return sams_message(connector, text, activity_id)

        async def post(body: dict[str, Any]) -> int:
            return await post_activity(port, body)

        async with serving(env, port=port) as first:
            assert await post(message("report", "1")) == 201
            await connector.wait_for_activities(2, timeout=15, conversation_id=SAM.chat)
            assert "Who is being targeted?" in text_of(connector.sent_activities(SAM.chat))

            with turn_held_in_the_database(database_url):
                assert await post(message("me", "KILLED")) == 201  # Teams is done with it
                await wait_for_file(data_dir / "journal" / "pending")
                await asyncio.sleep(0.5)  # inside the held transaction by now
                first.process.kill()
                await first.process.wait()
            assert first.returncode == -signal.SIGKILL
        sent_before = len(connector.sent_activities(SAM.chat))

        async with serving(env, port=port):
            # Replies are delivered at least once: the first turn's may come again if the kill
            # fell between Teams taking them and the outbox recording that it had.
            assert DANGER in await told_in_teams(connector, sent_before, DANGER)

        assert (await answers_of(database_url))["affected"] == "me"
        db = Database(database_url)
        try:
            async with db.session() as session:
                claims = (
                    await session.execute(
                        select(ProcessedEvent).where(ProcessedEvent.event_id == "KILLED")
                    )
                ).all()
        finally:
            await db.dispose()
        assert len(claims) == 1
        assert list((data_dir / "journal" / "pending").glob("*.entry")) == []


async def test_a_teams_reply_waiting_out_a_rate_limit_is_sent_by_the_next_process(
    tmp_path: Path, database_url: str
) -> None:
    """Killed while waiting out Teams' Retry-After before sending the next question: the
    answer was saved with its reply, and the next process sends the reply."""
    data_dir = tmp_path / "data"
    async with FakeSlack() as slack, FakeBotFramework(require_auth=False) as connector:
        port = free_port()
        env = teams_env(slack, data_dir, database_url)
        async with serving(env, port=port) as first:
            assert await post_activity(port, sams_message(connector, "report", "1")) == 201
            await connector.wait_for_activities(2, timeout=15, conversation_id=SAM.chat)
            connector.fail_next("/activities", status=429, retry_after=50)
            assert await post_activity(port, sams_message(connector, "me", "WAITING")) == 201
            for _ in range(300):  # until Teams has refused it, and the bot waits to try again
                if any(call.status == 429 for call in connector.calls):
                    break
                await asyncio.sleep(0.05)
            first.process.kill()
            await first.process.wait()
        sent_before = len(connector.sent_activities(SAM.chat))

        async with serving(env, port=port):
            assert DANGER in await told_in_teams(connector, sent_before, DANGER, 40)
        assert (await answers_of(database_url))["affected"] == "me"
