from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from tests.channels.slack.harness import SlackHarness, slack_harness
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    async with slack_harness(settings, clock, fake_slack) as harness:
        yield harness
