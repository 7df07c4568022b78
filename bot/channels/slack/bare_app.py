"""The bare Slack framework, for bench/turns.py to measure policybot against: a Bolt AsyncApp on
aiohttp that checks each request's signature and acknowledges it, and does nothing else.

It sits here, beside the Slack channel, so that the baseline moves with the framework if the
channel ever does. Run: python -m bot.channels.slack.bare_app --port PORT
"""

from __future__ import annotations

import logging
import os

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.bare_server import arguments, run_on_loopback


def build(signing_secret: str, token: str, api_url: str | None) -> web.Application:
    client = AsyncWebClient(token=token, base_url=api_url or AsyncWebClient.BASE_URL)
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
        logger=logging.getLogger("slack_bolt"),
    )

    async def acknowledged() -> None:
        """Bolt has already acknowledged the event; a bare app does nothing with it."""

    app.event("message")(acknowledged)
    return app.web_app(path="/slack/events")


def main() -> None:
    args = arguments(__doc__).parse_args()
    app = build(
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ["SLACK_BOT_TOKEN"],
        os.environ.get("SLACK_API_URL"),
    )
    run_on_loopback(app, args.port)


if __name__ == "__main__":
    main()
