"""One app with both chat platforms, as a school that uses Slack and Teams runs it, and its
metrics page served on a listener of its own (as `serve` does with POLICYBOT_METRICS_PORT)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.access_log import RedactingAccessLogger
from bot.app import OBSERVABILITY, TEAMS, create_app
from bot.channels.teams.delivery import Pacer
from bot.config import Settings, SlackSettings
from bot.runtime import build_runtime
from tests.channels.slack.harness import SECRET, SlackHarness
from tests.channels.teams.harness import TeamsHarness, allow_file_host, teams_settings
from tests.conftest import Clock
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.slack_api import FakeSlack


@dataclass
class Served:
    slack: SlackHarness
    teams: TeamsHarness
    app: web.Application
    metrics: TestClient[web.Request, web.Application]

    async def settled(self) -> None:
        """Every turn the requests started has been taken."""
        await self.app[TEAMS].settled()

    async def scrape(self) -> str:
        response = await self.metrics.get("/metrics")
        assert response.status == 200
        assert response.content_type == "text/plain"
        return await response.text()


@pytest.fixture
async def served(settings: Settings, clock: Clock) -> AsyncIterator[Served]:
    async with FakeSlack() as fake_slack, FakeBotFramework() as fake_teams:
        slack_settings = SlackSettings(
            bot_token=fake_slack.bot_token,
            signing_secret=SECRET,
            app_token=None,
            api_url=fake_slack.base_url,
        )
        configured = replace(settings, slack=slack_settings, teams=teams_settings(fake_teams))
        runtime = build_runtime(configured, clock=clock)
        app = create_app(runtime, run_jobs=False)
        app[OBSERVABILITY].state.fresh_for_seconds = 0  # each scrape reads afresh
        app[TEAMS].pacer = Pacer(per_second=10_000)
        allow_file_host(app[TEAMS], fake_teams.url)
        server = TestServer(app)
        # The access log as `serve` writes it.
        await server.start_server(access_log_class=RedactingAccessLogger)
        client: TestClient[web.Request, web.Application] = TestClient(server)
        await client.start_server()
        metrics: TestClient[web.Request, web.Application] = TestClient(
            TestServer(app[OBSERVABILITY].web_app())
        )
        await metrics.start_server()
        slack = SlackHarness(client=client, fake=fake_slack, runtime=runtime, settings=configured)
        slack.runtime_app = app
        teams = TeamsHarness(
            client=client, fake=fake_teams, runtime=runtime, settings=configured, app=app
        )
        try:
            yield Served(slack=slack, teams=teams, app=app, metrics=metrics)
        finally:
            await metrics.close()
            await client.close()
