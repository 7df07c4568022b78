"""The one aiohttp application: Slack events, Teams activities, health checks, timed work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

from bot.channels.slack import ids
from bot.channels.slack.app import SlackChannel
from bot.channels.teams.channel import TeamsChannel
from bot.config import Settings
from bot.jobs.delivery import DeliveryWorker
from bot.jobs.scheduler import lead_the_scheduler, start_scheduler
from bot.observability.endpoint import Observability
from bot.observability.metrics import Metrics
from bot.observability.requests import request_ids
from bot.runtime import Runtime
from bot.webhooks.routes import CommentWebhooks
from dialogs.services.outbox import stuck
from storage.blobstore import free_bytes
from storage.db import is_unavailable

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RUNTIME = web.AppKey("runtime", Runtime)
SLACK = web.AppKey("slack", SlackChannel)
DELIVERY = web.AppKey("delivery", DeliveryWorker)
SCHEDULER = web.AppKey("scheduler", object)
TEAMS = web.AppKey("teams", TeamsChannel)
OBSERVABILITY = web.AppKey("observability", Observability)


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _page(name: str) -> web.Response:
    text = (resources.files("bot") / "pages" / f"{name}.html").read_text(encoding="utf-8")
    return web.Response(
        text=text,
        content_type="text/html",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


async def _privacy(request: web.Request) -> web.Response:
    """The privacy notice the Teams app package links to."""
    return _page("privacy")


async def _terms(request: web.Request) -> web.Response:
    return _page("terms")


def room_needed(settings: Settings) -> int:
    """Free space the server needs to take the largest file a person may send. While its turn
    is taken, the file is in the inbound journal (base64, and encrypted: about 1.8 times its
    size) and in the evidence store (encrypted: 1.33 times), and the database grows as well:
    four times the largest upload, 200 MB with the default 50 MB for videos."""
    return 4 * settings.evidence.largest_upload_bytes


async def _storage_shortage(runtime: Runtime) -> dict[str, object] | None:
    """Why new evidence cannot be kept now, or None. Without room a person's files would be
    refused and their messages taken without the journal's protection, so the server is not
    ready: an orchestrator sends people to an instance with room, or IT frees some."""
    needed = room_needed(runtime.settings)
    short = await runtime.blobs.shortage(reserve=needed)
    if short is not None:
        return {"status": "evidence storage full", "detail": short}
    journal_free = await asyncio.to_thread(free_bytes, runtime.journal.root)
    if journal_free < needed:
        detail = f"{journal_free // 1_048_576} MB free, {needed // 1_048_576} MB needed"
        return {"status": "journal storage full", "detail": detail}
    return None


async def _readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    ready = await runtime.db.ping()
    if not ready:
        return web.json_response({"status": "database unreachable"}, status=503)
    shortage = await _storage_shortage(runtime)
    if shortage is not None:
        return web.json_response(shortage, status=503)
    body: dict[str, object] = {"status": "ready"}
    # Messages that keep failing do not make the server unready (another instance would do no
    # better), but monitoring should see them; `policybot deliveries` lists them.
    undelivered = await stuck(runtime.db)
    if undelivered.retrying or undelivered.escalated:
        body["undelivered"] = {
            "retrying": undelivered.retrying,
            "escalated": undelivered.escalated,
        }
    return web.json_response(body)


def _admitting(runtime: Runtime, handler: Handler) -> Handler:
    """A platform's requests are answered before turns go on (ConversationRunner.admitting)."""

    async def admit(request: web.Request) -> web.StreamResponse:
        with runtime.runner.admitting():
            return await handler(request)

    return admit


def _add_channels(
    app: web.Application, runtime: Runtime, worker: DeliveryWorker, metrics: Metrics
) -> None:
    """Slack and Teams as configured: each delivers through the worker, and takes its events
    on a route of its own (Slack in Socket Mode needs none), whose answers are counted and
    timed here, so the channels know nothing of metrics."""
    slack_settings = runtime.settings.slack
    if slack_settings is not None:
        slack = SlackChannel(runtime, slack_settings)
        app[SLACK] = slack
        worker.transports.append(slack.transport)
        if not slack_settings.socket_mode:
            handler = _admitting(runtime, slack.handle_http)
            app.router.add_post(ids.EVENTS_PATH, metrics.timing_acks("slack", handler))
    if runtime.settings.teams.enabled:
        # Without credentials (or the development mode asked for), there is no route at all:
        # nobody on it could be told apart.
        teams = TeamsChannel(runtime, runtime.settings.teams)
        app[TEAMS] = teams
        worker.transports.append(teams.transport)
        handler = _admitting(runtime, teams.handle_http)
        app.router.add_post("/api/messages", metrics.timing_acks("teams", handler))


def _channels(settings: Settings) -> list[str]:
    """The channels whose series exist from the start (at zero)."""
    named = [("slack", settings.slack is not None), ("teams", settings.teams.enabled)]
    return [name for name, configured in named if configured]


def create_app(runtime: Runtime, *, run_jobs: bool = True) -> web.Application:
    """Build the application; nothing starts until aiohttp runs its start-up hooks."""
    app = web.Application(client_max_size=2 * 1024 * 1024, middlewares=[request_ids])
    app[RUNTIME] = runtime
    observability = Observability(runtime, _channels(runtime.settings))
    app[OBSERVABILITY] = observability
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/privacy", _privacy)
    app.router.add_get("/terms", _terms)
    worker = DeliveryWorker(runtime, [])
    app[DELIVERY] = worker
    slack_settings = runtime.settings.slack
    _add_channels(app, runtime, worker, observability.metrics)
    CommentWebhooks(runtime).register(app)

    async def on_startup(app: web.Application) -> None:
        # The people learned in earlier runs; a database that is down must not stop the server
        # starting (readiness says so), so then they are loaded once it is back.
        try:
            await runtime.load_people()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            runtime.in_background(runtime.load_people_when_possible())
        if run_jobs and runtime.leases is not None:
            # Other hosts sharing the journal leave this one's entries alone while it renews.
            runtime.in_background(runtime.leases.keep_renewing())
        if run_jobs:
            from bot.config_reload import ConfigReloader

            runtime.in_background(ConfigReloader(runtime).watch())
        if SLACK in app:
            await app[SLACK].start()
        if SLACK in app and slack_settings is not None and slack_settings.socket_mode:
            await app[SLACK].start_socket_mode()
            log.info("Slack: connected in Socket Mode")
        if run_jobs:
            worker.start()
            worker.kick()
            scheduler = start_scheduler(runtime, paused=True)
            observability.watch_scheduler(scheduler)
            app[SCHEDULER] = scheduler
            lead_the_scheduler(runtime, scheduler, on_change=observability.jobs.leading)
        await observability.start(runtime.settings.metrics)

    async def on_shutdown(app: web.Application) -> None:
        # Background work stops first: aiohttp waits for running tasks before clean-up, and
        # these loops would otherwise keep a stopping server waiting.
        if SCHEDULER in app:
            scheduler = app[SCHEDULER]
            scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
        await worker.stop()
        if SLACK in app:
            await app[SLACK].close()

    async def on_cleanup(app: web.Application) -> None:
        await observability.stop()
        if TEAMS in app:
            await app[TEAMS].close()
        await runtime.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app
