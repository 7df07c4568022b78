"""Everything the server measures, and `GET /metrics`, the page Prometheus reads.

The page is served by a listener of its own (POLICYBOT_METRICS_PORT, on 127.0.0.1 unless
POLICYBOT_METRICS_HOST says otherwise), never on the public port that Slack and Teams reach:
nobody on the internet can read it, and no token is needed. The metrics hold counts and
durations only, never what anyone wrote or who they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.config import MetricsSettings
from bot.observability.jobs import JobWatch
from bot.observability.metrics import Metrics
from bot.observability.state import StateCollector
from bot.runtime import Runtime

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class Observability:
    """One server's metrics: counted as it works, read from the database when scraped."""

    def __init__(self, runtime: Runtime, channels: Iterable[str] = ()) -> None:
        self.metrics = Metrics(channels)
        self.state = StateCollector(runtime)
        self.jobs = JobWatch()
        self.metrics.registry.register(self.state)
        self.metrics.registry.register(self.jobs)
        runtime.observers.add(self.metrics)
        self._runner: web.AppRunner | None = None

    def watch_scheduler(self, scheduler: Any) -> None:
        self.jobs.watch(scheduler)

    async def page(self, request: web.Request) -> web.Response:
        await self.state.refresh()
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    def web_app(self) -> web.Application:
        """The metrics page on an application of its own (served on its own port)."""
        app = web.Application()
        app.router.add_get(METRICS_PATH, self.page)
        return app

    async def start(self, settings: MetricsSettings) -> None:
        """Serve the page on the configured address, if there is one."""
        if settings.port is None or self._runner is not None:
            return
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        self._runner = runner
        if settings.host not in _LOOPBACK:
            log.warning(
                "metrics are served on %s:%d: let only your Prometheus reach that address",
                settings.host,
                settings.port,
            )
        else:
            log.info("metrics at http://%s:%d%s", settings.host, settings.port, METRICS_PATH)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
