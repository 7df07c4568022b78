"""`policybot approvals list|show` and `policybot jobs posts`, as an IT admin would run them.

Requests are made through the real runner first (as staff would, in a chat); the commands run
in-process through click's runner (the commands run their own event loop, so these tests
are not async) against the same database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings
from bot.runtime import build_runtime
from tests.conftest import Clock
from tests.support import Person as Chat

# Far ahead of any real clock, because the commands run on the real clock.
PLANNED = "2099-01-09 10:00"
TEXT = "Our choir sang beautifully at the town carol concert!"


async def request_and_approve(settings: Settings, clock: Clock) -> None:
    runtime = build_runtime(settings, clock=clock)
    try:
        sam = Chat(runtime)
        for answer in ["post", "1, 2", TEXT, "skip", "no", PLANNED, "1, 2", "submit"]:
            await sam.say(answer)
        priya = Chat(runtime, person_id="priya")
        waiting = await priya.say("approvals")
        approve = next(b.value for m in waiting for b in m.buttons if b.label == "Approve")
        await priya.press(approve)
    finally:
        await runtime.close()


def run(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "POLICYBOT_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "POLICYBOT_CONFIG": None,
    }
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"policybot {' '.join(args)} crashed") from result.exception
    return result.exit_code, result.stdout + result.stderr


def test_list_and_show_give_every_decision(settings: Settings, clock: Clock) -> None:
    asyncio.run(request_and_approve(settings, clock))
    code, out = run(settings, "approvals", "list", "--json")
    assert code == 0, out
    [listed] = json.loads(out)
    assert (listed["reference"], listed["status"], listed["accounts"]) == (
        "PR-2026-0001",
        "approved",
        ["website", "facebook"],
    )
    code, out = run(settings, "approvals", "show", "PR-2026-0001", "--json")
    shown = json.loads(out)
    assert shown["text"] == TEXT
    assert [(d["by"], d["action"]) for d in shown["decisions"]] == [
        ("sam", "submit"),
        ("priya", "approve"),
    ]
    code, out = run(settings, "approvals", "show", "PR-2026-0001", "--as", "lee")
    assert code == 0
    assert "Approved: ready to publish" in out
    code, out = run(settings, "approvals", "show", "PR-2026-0001", "--as", "sam")
    assert code == 0  # the author sees their own
    code, out = run(settings, "approvals", "list", "--as", "sam", "--status", "rejected")
    assert "No post requests." in out


def test_the_post_sweep_has_nothing_to_do_before_the_planned_time(
    settings: Settings, clock: Clock
) -> None:
    asyncio.run(request_and_approve(settings, clock))
    code, out = run(settings, "jobs", "posts")
    assert (code, out.strip()) == (0, "reminded 0, expired 0")
