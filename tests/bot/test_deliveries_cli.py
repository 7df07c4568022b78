"""`policybot deliveries`, as IT would use it when a lead says they never got an alert.

Sam reports that someone is in immediate danger; the alert reaches Dana but not Lee, whom no
platform can reach privately. While the bot keeps trying, the command lists it; once the
attempts run out it is escalated and the command exits 1 for monitoring; `retry` puts it back in
line once the cause is fixed. It says who the alert was for and what went wrong, never what the
alert says or who sent it.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

from bot.config import load_settings
from bot.runtime import build_runtime
from dialogs.services.messages import Message
from dialogs.services.outbox import (
    ESCALATE_AFTER,
    NO_ALERT,
    UNREACHABLE,
    Alert,
    deliver_pending,
)
from dialogs.services.school.schools import Person, School
from tests.bot.conftest import Cli
from tests.support import Person as Staff


class NobodyReachesLee:
    """A platform on which everyone but Lee has a private chat with the bot."""

    name = "stub"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []

    def reaches(self, person: Person) -> bool:
        return True

    def channel_for(self, school: School, purpose: str) -> str | None:
        return f"#{purpose}"

    async def send_to_person(self, person: Person, message: Message) -> bool:
        if person.id == "lee":
            return False
        self.sent.append((person.id, message))
        return True

    async def post_to_channel(
        self, channel_ref: str, message: Message, *, replace: str | None, alert: Alert = NO_ALERT
    ) -> str | None:
        self.sent.append((channel_ref, message))
        return replace or f"{channel_ref}:{len(self.sent)}"


async def report_danger_and_deliver(cli: Cli) -> NobodyReachesLee:
    runtime = build_runtime(load_settings(env_of(cli)))
    try:
        sam = Staff(runtime)
        for answer in ("report", "me", "yes"):
            await sam.say(answer)
    finally:
        await runtime.close()
    return await deliver_for_hours(cli, 1)


async def deliver_for_hours(cli: Cli, hours: int) -> NobodyReachesLee:
    """The delivery worker's rounds over the next hours, one an hour."""
    runtime = build_runtime(load_settings(env_of(cli)))
    platform = NobodyReachesLee()
    now = datetime.now(UTC)
    try:
        for hour in range(hours):
            await deliver_pending(
                db=runtime.db,
                directory=runtime.settings.directory,
                transports=[platform],
                now=now + timedelta(hours=hour, minutes=1),
            )
    finally:
        await runtime.close()
    return platform


def env_of(cli: Cli) -> dict[str, str]:
    return {k: v for k, v in cli.env.items() if v is not None}


def test_an_alert_that_cannot_reach_its_lead_is_listed_then_escalated(cli: Cli) -> None:
    assert cli.run("deliveries").code == 0  # nothing stuck: nothing to say, exit 0

    platform = asyncio.run(report_danger_and_deliver(cli))
    assert [who for who, _ in platform.sent if who == "dana"] == ["dana"]
    shown = cli.run("deliveries")
    assert shown.code == 0, shown.err
    assert "Not delivered yet: 1" in shown.out
    assert "case.urgent for lee (oakfield): 1 attempt(s)" in shown.out
    assert UNREACHABLE in shown.out
    # Times are left out of the search: "999" can be a time's microseconds.
    without_times = re.sub(r"\d{4}-\d\d-\d\d[T ][\d:.]+(\+00:00)?", "<time>", shown.out)
    for detail in ("Sam", "danger", "999"):
        assert detail not in without_times, detail

    asyncio.run(deliver_for_hours(cli, ESCALATE_AFTER + 2))
    shown = cli.run("deliveries", "--json")
    assert shown.code == 1  # escalated: monitoring should notice
    [alert] = json.loads(shown.out)["stuck"]
    assert alert["for"] == "lee"
    assert alert["escalated_at"] is not None
    assert alert["attempts"] == ESCALATE_AFTER
    assert alert["next_attempt_at"] is None
    assert "Escalated (no longer tried): 1" in cli.run("deliveries").out

    # Lee's account is fixed; IT puts the alert back in line and the next round delivers it.
    retried = cli.run("deliveries", "retry")
    assert retried.code == 0, retried.err
    assert "Put back in line: 1." in retried.out
    shown = cli.run("deliveries", "--json")
    assert shown.code == 0
    assert json.loads(shown.out)["stuck"] == []  # waiting for its next try, counted afresh
