"""The bare persisted Slack turn, bench/turns.py's yardstick for policybot's Slack turns: the best
any Slack turn that keeps its answer can do on this machine.

A Bolt AsyncApp on aiohttp checks each event's signature and acknowledges it; then its listener
loads the conversation's row, saves it in one transaction (bot/channels/bare_turn.py, through
storage.db as policybot's engine is built), and posts one reply with chat.postMessage to the same
channel. The Web API client is policybot's own (bot/channels/slack/web.py: its timeout and
retries), with one connection pool for every call as SlackChannel.start gives it, so the reply
costs what policybot's costs. Nothing else: no journal, no dialog, no rendering of blocks.

Bolt acknowledges before the listener runs (process_before_response=False), which is the
cheapest order; policybot answers Slack once its journal entry is saved, and that extra write
is part of what it is measured to cost.

Run: DATABASE_URL=... SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=... [SLACK_API_URL=...]
python -m bot.channels.slack.bare_persisted --port PORT
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.channels import bare_turn
from bot.channels.bare_server import arguments, run_on_loopback
from bot.channels.slack.web import web_client
from bot.config import SlackSettings
from storage.db import Database


def build(settings: SlackSettings, database: Database) -> web.Application:
    client = web_client(settings)
    app = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret,
        process_before_response=False,
        logger=logging.getLogger("slack_bolt"),
    )

    async def turn(event: dict[str, Any]) -> None:
        """After the acknowledgement: one row loaded and saved, one reply posted."""
        channel, text = str(event.get("channel", "")), str(event.get("text", ""))
        turns = await bare_turn.take(database, channel, text)
        await client.chat_postMessage(channel=channel, text=bare_turn.reply_text(turns, text))

    app.event("message")(turn)
    web_app = app.web_app(path="/slack/events")

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        await bare_turn.create_table(database)
        client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
        yield
        await client.session.close()
        await database.dispose()

    web_app.cleanup_ctx.append(lifetime)
    return web_app


def main() -> None:
    args = arguments(__doc__).parse_args()
    settings = SlackSettings(
        bot_token=os.environ["SLACK_BOT_TOKEN"],
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        app_token=None,
        api_url=os.environ.get("SLACK_API_URL"),
    )
    run_on_loopback(build(settings, Database(os.environ["DATABASE_URL"])), args.port)


if __name__ == "__main__":
    main()
