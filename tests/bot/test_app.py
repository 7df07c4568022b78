"""The server's own pages: health, readiness and the notices the Teams app links to."""

from __future__ import annotations

from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Settings
from bot.runtime import build_runtime
from tests.conftest import Clock


async def test_health_readiness_and_notices(settings: Settings, clock: Clock) -> None:
    app = create_app(build_runtime(settings, clock=clock), run_jobs=False)
    async with TestClient(TestServer(app)) as client:
        assert (await (await client.get("/healthz")).json()) == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status == 200
        privacy = await client.get("/privacy")
        assert privacy.status == 200
        assert "Only the designated safeguarding lead and their deputy" in await privacy.text()
        assert "default-src 'none'" in privacy.headers["Content-Security-Policy"]
        assert "call 999" in await (await client.get("/terms")).text()


async def test_readiness_fails_when_the_database_is_unreachable(
    settings: Settings, clock: Clock
) -> None:
    gone = replace(settings, database_url="postgresql://nobody@127.0.0.1:9/none")
    app = create_app(build_runtime(gone, clock=clock), run_jobs=False)
    async with TestClient(TestServer(app)) as client:
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert (await ready.json()) == {"status": "database unreachable"}
        assert (await client.get("/healthz")).status == 200
