"""The bare persisted Teams turn, bench/turns.py's yardstick for policybot's Teams turns: the best
any Teams turn that keeps its answer can do on this machine.

botbuilder's CloudAdapter on aiohttp, with the Bot Framework clients built once and reused as
policybot builds them (bot/channels/teams/clients.py), in the same local development mode (no app
id, so no token checks) that the benchmark runs policybot in. It replies the way policybot does
(bot/channels/teams/turns.py): Teams is answered first, and the turn is taken straight after,
when the conversation's row is loaded and saved in one transaction (bot/channels/bare_turn.py,
through storage.db as policybot's engine is built) and one reply is sent with
`turn_context.send_activity` inside `adapter.continue_conversation`. Nothing else: no journal,
no dialog, no card, no pacing.

It sits here because every botbuilder import lives under bot/channels/teams/.
Run: DATABASE_URL=... python -m bot.channels.teams.bare_persisted --port PORT
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.channels import bare_turn
from bot.channels.bare_server import arguments, run_on_loopback
from bot.channels.teams.bare_bot import NoApp
from bot.channels.teams.clients import ReusingAuthentication
from bot.channels.teams.service_urls import ServiceUrls
from storage.db import Database

log = logging.getLogger(__name__)


class _Saving(ActivityHandler):  # type: ignore[misc]
    """Answers Teams at once; each message's turn is then taken in a task of its own."""

    def __init__(self, adapter: CloudAdapter, database: Database) -> None:
        self.adapter = adapter
        self.database = database
        self.under_way: set[asyncio.Task[None]] = set()

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        task = asyncio.create_task(
            self._take(
                TurnContext.get_conversation_reference(activity),
                activity.conversation.id,
                activity.text or "",
            )
        )
        self.under_way.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.under_way.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a bare persisted turn failed", exc_info=task.exception())

    async def _take(self, reference: ConversationReference, conversation: str, text: str) -> None:
        turns = await bare_turn.take(self.database, conversation, text)

        async def send(context: TurnContext) -> None:
            await context.send_activity(MessageFactory.text(bare_turn.reply_text(turns, text)))

        await self.adapter.continue_conversation(reference, send, "")


def build(database: Database) -> web.Application:
    authentication = ReusingAuthentication(NoApp(), ServiceUrls(local_only=True))
    adapter = CloudAdapter(authentication)
    bot = _Saving(adapter, database)

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        await bare_turn.create_table(database)
        yield
        if bot.under_way:
            await asyncio.gather(*bot.under_way, return_exceptions=True)
        await database.dispose()
        await authentication.close()

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.cleanup_ctx.append(lifetime)
    return app


def main() -> None:
    args = arguments(__doc__).parse_args()
    run_on_loopback(build(Database(os.environ["DATABASE_URL"])), args.port)


if __name__ == "__main__":
    main()
