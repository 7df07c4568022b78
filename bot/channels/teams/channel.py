"""The Microsoft Teams channel: Bot Framework activities in, neutral input to dialogs, cards out.

Every botbuilder import lives in this package, so moving to its successor touches nothing else.
TeamsChannel is the entry point: it holds what a Teams connection keeps (the adapter, the
pacer, the addresses already saved) and answers POST /api/messages; the work is done in
modules named for it: activities (what comes in), buttons (cards in a school's channels),
first_contact (someone new), turns, sending, identity, address_book, incoming_files, and
proactive (reaching people outside a turn).
"""

from __future__ import annotations

import json
import logging
import time

from aiohttp import web
from botbuilder.core import TurnContext

from bot.channels.teams import activities, dev_mode, proactive, sending
from bot.channels.teams.activity_json import activity_from_json
from bot.channels.teams.connection import DEV_ADDRESS_BOOK, PLATFORM, TeamsConnection
from bot.channels.teams.people import TeamsPeople
from bot.channels.teams.tokens import check_lifetime
from bot.config import TeamsSettings
from bot.runtime import Runtime
from dialogs.services.messages import Message, MessageKind

log = logging.getLogger(__name__)

__all__ = ["DEV_ADDRESS_BOOK", "PLATFORM", "TeamsChannel"]


class TeamsChannel(TeamsConnection):
    transport: proactive.TeamsTransport

    def __init__(self, runtime: Runtime, settings: TeamsSettings) -> None:
        super().__init__(runtime, settings)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = activities.PolicyBot(self)
        self.transport = proactive.TeamsTransport(self)
        # For the daily sync and `policybot people sync`: Teams asked outside any turn.
        people = TeamsPeople(self)
        runtime.platform_directories["teams"] = (people, people)
        if settings.development_mode:
            log.warning(dev_mode.WARNING)

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages: token checked by botbuilder (401 on any problem), or in the
        development mode, the caller checked to be on this machine (403 otherwise)."""
        development = self.settings.development_mode
        if development:
            refused = dev_mode.refusal(request.remote, request.host, request.headers)
            if refused is not None:
                log.warning("Teams development mode refused a request: %s", refused)
                return web.json_response({"error": refused}, status=403)
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # nested too deep
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return web.json_response({"error": "the body is not an activity"}, status=400)
        try:
            activity = activity_from_json(body)
        except ValueError:  # msrest's DeserializationError, e.g. "from": 5
            return web.json_response({"error": "the body is not an activity"}, status=400)
        if development and not dev_mode.is_local_url(activity.service_url):
            return web.json_response(
                {"error": "development mode answers only a service on this machine (serviceUrl)"},
                status=400,
            )
        # Authenticate first, so that every bad token is a 401 (botbuilder's own process()
        # turns some token faults into 500s) and nothing runs for an unauthenticated caller.
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
            if not development:
                check_lifetime(authenticated.claims_identity.claims or {}, time.time())
        except Exception as exc:
            log.info("Teams request refused: %s", type(exc).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        if not development:
            # Signed into the token as `serviceurl`, and checked by botbuilder.
            self.services.trust(activity.service_url)
        invoke = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        if invoke is None:
            return web.Response(status=201)
        body_out = invoke.body.serialize() if hasattr(invoke.body, "serialize") else invoke.body
        return web.json_response(body_out, status=invoke.status)

    async def settled(self) -> None:
        """Wait for messages still being handled after their request was answered."""
        await self.runtime.runner.settled()

    async def close(self) -> None:
        await self.settled()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.authentication.close()

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await sending.send(
                self,
                context,
                [
                    Message(
                        kind=MessageKind.HINT,
                        text="Sorry, something went wrong on my side. Everything you gave me "
                        "before is safe. Please send that again in a minute.",
                    )
                ],
            )
        except Exception:  # the apology itself could not be sent; nothing more to do
            log.warning("could not tell the person about a failed turn")
