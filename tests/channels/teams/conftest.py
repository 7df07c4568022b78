from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from tests.channels.teams.harness import TeamsHarness, UploadTarget, teams_harness
from tests.conftest import Clock
from tests.fakes.botframework import FakeBotFramework


@pytest.fixture
async def fake_teams() -> AsyncIterator[FakeBotFramework]:
    async with FakeBotFramework() as fake:
        yield fake


@pytest.fixture
async def teams(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework
) -> AsyncIterator[TeamsHarness]:
    async with teams_harness(settings, clock, fake_teams) as harness:
        yield harness


@pytest.fixture
async def upload_target() -> AsyncIterator[UploadTarget]:
    target = UploadTarget()
    await target.server.start_server()
    try:
        yield target
    finally:
        await target.server.close()
