"""`policybot people list|show|sync|check`, run as the IT administrator would, against a fake
Slack workspace: who the bot knows, refreshing it from Slack, and whether role holders can be
reached before it matters."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import SAMPLE_CONFIG, load_settings
from bot.runtime import build_runtime
from dialogs.services.people.directory import Profile
from tests.bot.test_cli import Cli, make_cli
from tests.fakes.slack_api import FakeSlack

DOMAIN = "oakfield.sch.uk"


def config_with_domains(tmp_path: Path) -> Path:
    """The sample school, with its email domain, and its lead listed by email only."""
    shutil.copy(SAMPLE_CONFIG.parent / "policy.md", tmp_path / "policy.md")
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    dana = 'phone = "01632 960001"\nslack_user_id = "U0DANA"\n'
    assert dana in text
    text = text.replace(dana, f'phone = "01632 960001"\nemail = "dana@{DOMAIN}"\n')
    empty = "email_domains = []"
    assert empty in text
    text = text.replace(empty, f'email_domains = ["{DOMAIN}"]', 1)
    path = tmp_path / "policybot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U0KIM", profile={"real_name": "Kim Lowe", "email": f"kim@{DOMAIN}"})
        fake.add_user("U0DANA", profile={"real_name": "Dana Okafor", "email": f"dana@{DOMAIN}"})
        yield fake


@pytest.fixture
def cli(tmp_path: Path, database_url: str, fake_slack: FakeSlack) -> Cli:
    made = make_cli(tmp_path, database_url, in_process=True)
    made.env.update(
        POLICYBOT_CONFIG=str(config_with_domains(tmp_path)),
        SLACK_BOT_TOKEN=fake_slack.bot_token,
        SLACK_SIGNING_SECRET="a-signing-secret-for-tests",
        SLACK_API_URL=fake_slack.base_url,
    )
    return made


async def learn_kim(cli: Cli) -> None:
    """Kim wrote to the bot once: learned from Slack (as the channel would, in-process)."""
    settings = load_settings(cli.env)
    runtime = build_runtime(settings)
    try:
        profile = Profile("slack", "U0KIM", "Kim Lowe", f"kim@{DOMAIN}", "T0001")
        now = datetime(2026, 12, 1, 9, tzinfo=UTC)
        await runtime.staff.learn(runtime.db.session, "slack", "U0KIM", profile, now)
    finally:
        await runtime.close()


async def run(cli: Cli, *args: str) -> Any:
    return await asyncio.to_thread(cli.run, *args)


async def test_list_and_show_say_who_is_listed_learned_and_where(cli: Cli) -> None:
    await asyncio.to_thread(cli.run, "db", "upgrade")
    await learn_kim(cli)
    everyone = (await run(cli, "people", "list", "--json")).json()
    by_id = {p["id"]: p for p in everyone}
    assert by_id["kim"]["status"] == "learned"
    assert by_id["kim"]["roles"] == ["staff"]
    assert by_id["kim"]["slack_user_id"] == "U0KIM"
    assert by_id["dana"]["status"] == "listed"
    assert by_id["dana"]["slack_user_id"] is None  # listed by email, not yet met

    kim = (await run(cli, "people", "show", "kim", "--json")).json()
    assert (kim["school"], kim["email"]) == ("oakfield", f"kim@{DOMAIN}")
    plain = await run(cli, "people", "list")
    assert "oakfield/kim  Kim Lowe  <kim@oakfield.sch.uk>  learned; staff; slack" in plain.out
    missing = await run(cli, "people", "show", "nobody")
    assert missing.code == 3
    assert "Nobody with the id 'nobody'" in missing.err


async def test_sync_removes_a_leaver_and_finds_the_lead_listed_by_email(
    cli: Cli, fake_slack: FakeSlack
) -> None:
    await asyncio.to_thread(cli.run, "db", "upgrade")
    await learn_kim(cli)
    fake_slack.add_user("U0KIM", deleted=True)

    synced = (await run(cli, "people", "sync", "--json")).json()["slack"]
    assert synced["left"] == ["oakfield/kim"]
    assert "oakfield/dana" in synced["found"]

    everyone = {p["id"]: p for p in (await run(cli, "people", "list", "--json")).json()}
    assert everyone["kim"]["status"] == "left"
    assert everyone["kim"]["roles"] == []
    assert everyone["dana"]["slack_user_id"] == "U0DANA"


async def test_check_says_who_can_be_reached_and_fails_when_a_lead_cannot(
    cli: Cli, fake_slack: FakeSlack
) -> None:
    await asyncio.to_thread(cli.run, "db", "upgrade")
    rows = {r["id"]: r for r in (await run(cli, "people", "check", "--json")).json()}
    assert rows["dana"]["slack"] == "yes"  # found by email, before she has ever written
    assert rows["lee"]["slack"] == "yes"

    fake_slack.add_user("U0LEE", deleted=True)
    fake_slack.remove_user("U0DANA")
    checked = await run(cli, "people", "check")
    assert checked.code == 1
    assert "NO  oakfield/dana" in checked.out
    assert "nobody in Slack has the email dana@oakfield.sch.uk" in checked.out
    assert "NO  oakfield/lee" in checked.out
    assert "their Slack account is deactivated" in checked.out
