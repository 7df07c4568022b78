"""Prometheus still gets its page while the database is away, or hangs.

A scrape that failed with the database would hide everything else just when it matters (the
journal filling up, turns failing); one that waited on it would time out at Prometheus. So the
page says `policybot_database_up 0`, leaves out the gauges that need the database, and shows the
rest, and it comes back whole with the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings, load_settings
from bot.observability.endpoint import Observability
from bot.runtime import Runtime, build_runtime
from tests.conftest import SAMPLE, Clock
from tests.observability.support import Page
from tests.resilience.conftest import Outage

NEEDS_THE_DATABASE = (
    "policybot_outbox_pending",
    "policybot_outbox_oldest_pending_seconds",
    "policybot_deliveries_stuck",
)


@dataclass
class Scraper:
    client: TestClient[web.Request, web.Application]
    observability: Observability

    async def scrape(self) -> Page:
        response = await self.client.get("/metrics")
        assert response.status == 200
        return Page(await response.text())


@asynccontextmanager
async def metrics_of(runtime: Runtime) -> AsyncIterator[Scraper]:
    """The server's metrics page, on its own listener, read afresh at each scrape."""
    observability = Observability(runtime, ["slack"])
    observability.state.fresh_for_seconds = 0
    client: TestClient[web.Request, web.Application] = TestClient(
        TestServer(observability.web_app())
    )
    await client.start_server()
    try:
        yield Scraper(client, observability)
    finally:
        await client.close()


def without_the_database(page: Page) -> None:
    assert page.value("policybot_database_up") == 0
    for name in NEEDS_THE_DATABASE:
        assert not page.has(name), name
    # Everything else is still there.
    assert page.value("policybot_journal_pending") == 0
    assert page.value("policybot_turns_total", channel="slack", outcome="done") == 0
    assert page.value("policybot_policy_answers_total", confidence="confident") == 0


async def test_a_scrape_while_the_database_is_cut_off_and_after_it_is_back(
    settings_through_outage: Settings, clock: Clock, outage: Outage
) -> None:
    runtime = build_runtime(settings_through_outage, clock=clock)
    try:
        await outage.prepare(runtime)
        async with metrics_of(runtime) as metrics:
            before = await metrics.scrape()
            assert before.value("policybot_database_up") == 1
            assert before.value("policybot_outbox_pending", state="queued") == 0

            await outage.cut()
            during = await metrics.scrape()
            if outage.kind == "postgresql":
                without_the_database(during)
            else:
                # SQLite's lock held by another process stops writers, not readers (WAL).
                assert during.value("policybot_database_up") == 1

            await outage.restore()
            after = await metrics.scrape()
            assert after.value("policybot_database_up") == 1
            assert after.value("policybot_deliveries_stuck", state="escalated") == 0
    finally:
        await runtime.close()


async def test_a_scrape_when_the_database_accepts_but_never_answers(tmp_path: Path) -> None:
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, and never a byte back

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": f"postgresql://policybot@127.0.0.1:{port}/policybot",
        }
    )
    runtime = build_runtime(settings, clock=Clock())
    try:
        async with metrics_of(runtime) as metrics:
            # The page waits this long for the database, rather than Prometheus's whole
            # scrape timeout (5 s in the server).
            metrics.observability.state.timeout_seconds = 0.5
            without_the_database(await metrics.scrape())
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
        await runtime.close()
