"""`policybot serve` killed (SIGKILL, no clean-up at all) in the middle of a person's turn.

Slack has already been told the message arrived, so it will never send it again. The turn is held
inside its database transaction (the test holds a lock the turn needs), the process is killed
there, and a new process is started: the answer must be taken from the journal, once, and the
person must get the reply they were waiting for.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from storage.db import Database, sync_url
from storage.models import Conversation, ProcessedEvent
from tests.fakes.slack_api import FakeSlack, signed_headers
from tests.serving import free_port, serve_env, serving, slack_env, slack_message
from tests.support import png

SECRET = "killed-mid-turn-secret"


@contextmanager
def turn_held_in_the_database(database_url: str) -> Iterator[None]:
    """Hold a lock the next turn needs, so it waits inside its transaction until released."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # the turn's first write waits for this
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            # The turn has claimed its delivery and now reads the conversation: it waits here.
            connection.execute(text("LOCK TABLE conversation IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                transaction.rollback()
    finally:
        engine.dispose()


async def post(port: int, body: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/slack/events",
            data=body,
            headers=signed_headers(body, SECRET),
        ) as response,
    ):
        return response.status


async def wait_for_file(directory: Path, timeout: float = 10.0) -> list[Path]:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(directory.glob("*.entry"))  # noqa: ASYNC240 - a test polling a folder
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing was journaled in {directory}")


async def posted_text(fake: FakeSlack) -> str:
    return "\n".join(json.dumps(call.body) for call in fake.calls_to("chat.postMessage"))


async def told_after(fake: FakeSlack, before: int, awaited: str, timeout: float = 20) -> str:  # noqa: ASYNC109
    """What Slack was asked to post after the first `before` posts, once `awaited` is among it.

    Replies are delivered at least once: a turn's replies may come again if a kill fell between
    Slack taking them and the outbox recording that it had, so the test waits for the words it
    expects rather than for a count of posts."""
    deadline = time.monotonic() + timeout
    while True:
        posts = fake.calls_to("chat.postMessage")[before:]
        told = "\n".join(json.dumps(p.body, ensure_ascii=False) for p in posts)
        if awaited in told or time.monotonic() > deadline:
            return told
        await asyncio.sleep(0.05)


async def stored(database_url: str) -> tuple[dict[str, Any], int]:
    """Sam's answers as saved, and how many times the killed delivery was acted on."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            [row] = (await session.execute(select(Conversation))).scalars()
            claims = (
                await session.execute(
                    select(ProcessedEvent).where(ProcessedEvent.event_id == "EvKILLED")
                )
            ).all()
        answers: dict[str, Any] = (row.state or {}).get("answers", {})
        return answers, len(claims)
    finally:
        await db.dispose()


async def test_an_answer_whose_turn_was_killed_is_taken_by_the_next_process(
    tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    async with FakeSlack() as fake:
        port = free_port()
        env = serve_env(data_dir, database_url, **slack_env(fake, SECRET))

        async with serving(env, port=port) as first:
            assert await post(port, slack_message("report", "EvREPORT")) == 200
            await fake.wait_for("chat.postMessage", count=2, timeout=15)
            assert "Who is being targeted?" in await posted_text(fake)

            with turn_held_in_the_database(database_url):
                assert await post(port, slack_message("me", "EvKILLED")) == 200  # Slack is done
                await wait_for_file(data_dir / "journal" / "pending")
                await asyncio.sleep(0.5)  # well inside the held transaction by now
                first.process.kill()
                await first.process.wait()
            assert first.returncode == -signal.SIGKILL

        answers, claims = await stored(database_url)
        assert "affected" not in answers
        assert claims == 0
        posts_before = len(fake.calls_to("chat.postMessage"))

        async with serving(env, port=port):
            told = await told_after(fake, posts_before, "Is anyone in immediate danger")
            assert "Is anyone in immediate danger" in told

        answers, claims = await stored(database_url)
        assert answers["affected"] == "me"
        assert claims == 1
        assert list((data_dir / "journal" / "pending").glob("*.entry")) == []


async def test_a_message_killed_while_its_file_downloads_keeps_its_text_and_says_so(
    tmp_path: Path, database_url: str
) -> None:
    """Killed while a screenshot is still coming from Slack: the words are taken by the next
    process, and Sam is told which file to send again, rather than the message vanishing."""
    data_dir = tmp_path / "data"
    async with FakeSlack() as fake:
        port = free_port()
        env = serve_env(data_dir, database_url, **slack_env(fake, SECRET))
        shared = fake.add_file("FSLOW", name="shot.png", data=png(), mimetype="image/png")
        fake.hold_download("FSLOW")

        async with serving(env, port=port) as first:
            assert await post(port, slack_message("report", "EvREPORT")) == 200
            await fake.wait_for("chat.postMessage", count=2, timeout=15)
            body = slack_message("me", "EvKILLED", files=[shared])
            assert await post(port, body) == 200
            await wait_for_file(data_dir / "journal" / "pending")
            for _ in range(500):  # until the download has started (and is held)
                if fake.downloads:
                    break
                await asyncio.sleep(0.02)
            assert fake.downloads
            first.process.kill()
            await first.process.wait()
        posts_before = len(fake.calls_to("chat.postMessage"))

        async with serving(env, port=port):
            told = await told_after(fake, posts_before, "Is anyone in immediate danger")
            assert "interrupted while fetching “shot.png”" in told
            assert "Is anyone in immediate danger" in told

        answers, claims = await stored(database_url)
        assert answers["affected"] == "me"
        assert claims == 1


async def test_a_reply_waiting_out_a_rate_limit_is_sent_by_the_next_process(
    tmp_path: Path, database_url: str
) -> None:
    """Killed while Slack's client waits out a Retry-After before sending the next question:
    the answer was saved, and the reply was kept with it, so the next process sends it."""
    data_dir = tmp_path / "data"
    async with FakeSlack() as fake:
        port = free_port()
        env = serve_env(data_dir, database_url, **slack_env(fake, SECRET))

        async with serving(env, port=port) as first:
            assert await post(port, slack_message("report", "EvREPORT")) == 200
            await fake.wait_for("chat.postMessage", count=2, timeout=15)
            fake.fail_next("chat.postMessage", status=429, retry_after=60)
            assert await post(port, slack_message("me", "EvWAITING")) == 200
            refused = await fake.wait_for("chat.postMessage", count=3, timeout=15)
            assert refused[-1].refused  # the client now waits a minute before trying again
            first.process.kill()
            await first.process.wait()
        posts_before = len(fake.calls_to("chat.postMessage"))

        async with serving(env, port=port):
            told = await told_after(fake, posts_before, "Is anyone in immediate danger", 40)
            assert "Is anyone in immediate danger" in told

        answers, _ = await stored(database_url)
        assert answers["affected"] == "me"


async def test_a_burst_killed_while_its_entries_are_only_in_their_batch_is_taken_once(
    tmp_path: Path, database_url: str
) -> None:
    """Messages arriving together are kept in one batch file, and a running server's turns
    take them from memory (storage.group_commit): none has a file of its own. Killed then,
    with its turns held in the database, the next process puts the batch's entries back and
    takes each exactly once."""
    data_dir = tmp_path / "data"
    pending = data_dir / "journal" / "pending"
    burst = [f"EvBURST{n}" for n in range(8)]
    async with FakeSlack() as fake:
        port = free_port()
        env = serve_env(data_dir, database_url, **slack_env(fake, SECRET))

        async with serving(env, port=port) as first:
            assert await post(port, slack_message("report", "EvREPORT")) == 200
            await fake.wait_for("chat.postMessage", count=2, timeout=15)

            with turn_held_in_the_database(database_url):
                statuses = await asyncio.gather(
                    *(post(port, slack_message("help", event)) for event in burst)
                )
                assert statuses == [200] * len(burst)  # Slack is done with all of them
                batches = list(pending.glob("*.batch"))
                assert batches, "the burst was not kept as a batch"
                in_batches = len(list(pending.glob("*.entry")))
                assert in_batches < len(burst)  # some have no file of their own
                first.process.kill()
                await first.process.wait()
            assert first.returncode == -signal.SIGKILL

        async with serving(env, port=port):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if not list(pending.iterdir()):
                    break
                await asyncio.sleep(0.05)

        assert list(pending.iterdir()) == []
        db = Database(database_url)
        try:
            async with db.session() as session:
                claims = (
                    await session.execute(
                        select(ProcessedEvent.event_id).where(
                            col(ProcessedEvent.event_id).in_(burst)
                        )
                    )
                ).scalars()
                taken = sorted(claims)
        finally:
            await db.dispose()
        assert taken == sorted(burst)  # each once
