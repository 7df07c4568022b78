"""`policybot journal status|retry`, as IT would use them after a fault set a message aside.

A turn fails for a reason that is not the database (here, a fault in saving the conversation):
the person is told a copy was kept, the message is set aside rather than dropped, `status` shows
it without showing what it says, and once the fault is gone `retry` takes it, once.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from bot.config import load_settings
from bot.runtime import build_runtime
from storage import conversations
from storage.models import Conversation, Notification
from tests.bot.conftest import Cli
from tests.support import HAPPY_PATH, Person

DESCRIPTION = HAPPY_PATH[6]


def env_of(cli: Cli) -> dict[str, str]:
    return {k: v for k, v in cli.env.items() if v is not None}


async def fail_the_description(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> str:
    runtime = build_runtime(load_settings(env_of(cli)))
    try:
        sam = Person(runtime)
        for answer in HAPPY_PATH[:6]:
            await sam.say(answer)

        async def broken(*args: object, **kwargs: object) -> None:
            raise ValueError("a fault in saving")

        with monkeypatch.context() as patch:
            patch.setattr(conversations, "save_state", broken)
            [reply] = await sam.say(DESCRIPTION)
        return reply.text
    finally:
        await runtime.close()


async def saved_state(cli: Cli) -> tuple[dict[str, object], list[Notification]]:
    runtime = build_runtime(load_settings(env_of(cli)))
    try:
        async with runtime.db.session() as session:
            [row] = (await session.execute(select(Conversation))).scalars()
            replies = [
                n
                for n in (await session.execute(select(Notification))).scalars()
                if n.kind == "reply"
            ]
        return dict((row.state or {}).get("answers", {})), replies
    finally:
        await runtime.close()


def test_a_message_set_aside_after_a_fault_is_shown_and_retried(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = asyncio.run(fail_the_description(cli, monkeypatch))
    assert "I've kept a copy for IT" in told

    shown = cli.run("journal", "status")
    assert shown.code == 1  # something needs IT's attention
    assert "Set aside after a fault: 1" in shown.out
    assert "ValueError" in shown.out
    assert "Waiting to be taken: 0" in shown.out
    assert "useless" not in shown.out  # nothing of what Sam wrote
    as_json = json.loads(cli.run("journal", "status", "--json").out)
    [aside] = as_json["set_aside"]
    assert (aside["channel"], aside["attempts"]) == ("test", 1)

    answers, _ = asyncio.run(saved_state(cli))
    assert "description" not in answers

    retried = cli.run("journal", "retry")
    assert retried.code == 0, retried.err
    assert "Put back in line: 1. Taken now: 1" in retried.out

    answers, replies = asyncio.run(saved_state(cli))
    assert answers["description"] == DESCRIPTION
    assert any("screenshot" in n.message["text"].lower() for n in replies)

    again = cli.run("journal", "status")
    assert again.code == 0
    assert "Set aside after a fault: 0" in again.out
    # Retrying again finds nothing, and takes nothing twice.
    assert "Taken now: 0" in cli.run("journal", "retry").out
