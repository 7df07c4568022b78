"""The bare Teams framework, for bench/turns.py to measure policybot against: botbuilder's
CloudAdapter on aiohttp with a bot that does nothing, in the same local development mode (no
app id, so no token checks) that the benchmark runs policybot in.

It sits here because every botbuilder import lives under bot/channels/teams/: when the SDK is
replaced, the baseline is replaced with it. Run: python -m bot.channels.teams.bare_bot --port PORT
"""

from __future__ import annotations

from aiohttp import web
from botbuilder.core import ActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bot.channels.bare_server import arguments, run_on_loopback
from bot.channels.teams.clients import ReusingAuthentication
from bot.channels.teams.service_urls import ServiceUrls


class NoApp:
    """No app id and no password: the local development mode, without token checks."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = None


class _Silent(ActivityHandler):  # type: ignore[misc]
    """Receives every activity and answers none."""


def build(*, reuse_clients: bool = False) -> web.Application:
    """With `reuse_clients`, botbuilder's per-activity clients are built once, as policybot
    builds them (bot/channels/teams/clients.py), to show what that alone is worth."""
    authentication = (
        ReusingAuthentication(NoApp(), ServiceUrls(local_only=True))
        if reuse_clients
        else ConfigurationBotFrameworkAuthentication(NoApp())
    )
    adapter = CloudAdapter(authentication)
    bot = _Silent()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--reuse-clients", action="store_true")
    args = parser.parse_args()
    run_on_loopback(build(reuse_clients=args.reuse_clients), args.port)


if __name__ == "__main__":
    main()
