"""Drive the real aiohttp app and botbuilder adapter with Teams-shaped, signed activities.

The Bot Framework side is tests/fakes/botframework.py: it signs the tokens Teams would put on each
request, logs the bot in, and records every call the bot makes to the Bot Connector. Tests assert
on what people would see: the activities and cards that reached the connector, the bodies of
invoke responses, and the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import DELIVERY, TEAMS, create_app
from bot.channels.teams import cards
from bot.channels.teams.channel import TeamsChannel
from bot.channels.teams.delivery import Pacer
from bot.config import Settings, TeamsSettings
from bot.runtime import Runtime, build_runtime
from dialogs.services.outbox import DeliveryResult
from tests.conftest import Clock
from tests.fakes.botframework import (
    APP_ID,
    APP_PASSWORD,
    TENANT_ID,
    FakeBotFramework,
    auth_configuration,
)


class UploadTarget:
    """Where Teams would let the bot upload a file (a OneDrive upload session)."""

    def __init__(self) -> None:
        self.uploads: list[tuple[str, bytes, dict[str, str]]] = []
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_put("/upload/{name}", self._put)
        self.server = TestServer(app)

    async def _put(self, request: web.Request) -> web.Response:
        self.uploads.append((request.path, await request.read(), dict(request.headers)))
        return web.json_response({"id": "onedrive-item"}, status=201)

    def url(self, name: str) -> str:
        return str(self.server.make_url(f"/upload/{name}"))


SAFEGUARDING = "19:safeguarding@thread.tacv2"
APPROVALS = "19:approvals@thread.tacv2"
TEAM = "19:staffroom-team@thread.tacv2"


@dataclass(frozen=True)
class TeamsUser:
    """Someone in the school's tenant: their ids as Teams sends them, and their 1:1 chat."""

    name: str
    aad_object_id: str
    user_id: str
    chat: str

    @property
    def account(self) -> dict[str, str]:
        return {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_object_id}


def _user(name: str, aad: str, short: str) -> TeamsUser:
    return TeamsUser(name, aad, f"29:1{short}-teams-user", f"a:1{short}-personal-chat")


SAM = _user("Sam Patel", "00000000-0000-4000-8000-00000000005a", "sam")
JO = _user("Jo Williams", "00000000-0000-4000-8000-0000000000a0", "jo")
DANA = _user("Dana Okafor", "00000000-0000-4000-8000-0000000000da", "dana")
PRIYA = _user("Priya Shah", "00000000-0000-4000-8000-0000000000b1", "priya")
LEE = _user("Lee Brown", "00000000-0000-4000-8000-0000000000ee", "lee")
MORGAN = _user("Morgan Ellis", "00000000-0000-4000-8000-0000000000c0", "morgan")
STRANGER = _user("Alex Unknown", "8c2a4e6f-1b3d-4f5a-9e7c-0d2b4a6c8e1f", "stranger")


def channel_data(channel: str = SAFEGUARDING) -> dict[str, Any]:
    return {
        "tenant": {"id": TENANT_ID},
        "team": {"id": TEAM, "name": "Staff room"},
        "channel": {"id": channel, "name": "Safeguarding"},
    }


@dataclass
class TeamsHarness:
    client: TestClient[web.Request, web.Application]
    fake: FakeBotFramework
    runtime: Runtime
    settings: Settings
    app: web.Application
    invoke_answers: list[Any] = field(default_factory=list)

    # -- posting to /api/messages ----------------------------------------------------------

    async def post(
        self,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        **mint: Any,
    ) -> tuple[int, Any]:
        """Post an activity with a token minted for it (unless `headers` are given); returns the
        status and the JSON body (None when there is none)."""
        if headers is None:
            headers = self.fake.headers_for(body, app_id=APP_ID, **mint)
        response = await self.client.post("/api/messages", json=body, headers=headers)
        text = await response.text()
        # Teams is answered before the turn is taken; a person sees the replies a moment
        # later, and so do the tests.
        await self.app[TEAMS].settled()
        if response.content_type == "application/json" and text:
            return response.status, await response.json()
        return response.status, None

    def message(self, user: TeamsUser, text: str, **overrides: Any) -> dict[str, Any]:
        """A message in the person's 1:1 chat with the bot."""
        return self.fake.activity(
            text=text, **{"from": user.account, "conversation": {"id": user.chat}}, **overrides
        )

    async def say(
        self, user: TeamsUser, text: str, *, attachments: list[dict[str, Any]] | None = None
    ) -> int:
        overrides: dict[str, Any] = {}
        if attachments:
            overrides["attachments"] = attachments
        status, _ = await self.post(self.message(user, text, **overrides))
        assert status == 201, status
        return status

    async def invoke(
        self,
        user: TeamsUser,
        verb: str,
        data: Mapping[str, Any],
        *,
        conversation: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> Any:
        """An Action.Execute press (an invoke); returns the invoke response's body."""
        body = self.fake.invoke_action(
            verb,
            data,
            **{"from": user.account, "conversation": conversation or {"id": user.chat}},
            **overrides,
        )
        status, answer = await self.post(body)
        assert status == 200, (status, answer)
        self.invoke_answers.append(answer)
        return answer

    async def answer_file_offer(
        self, user: TeamsUser, action: str, context: Any, upload: Mapping[str, Any]
    ) -> int:
        """Accept or decline a file consent card, as Teams sends it; returns the HTTP status."""
        value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
        if upload:
            value["uploadInfo"] = dict(upload)
        body = self.fake.activity(
            **{
                "type": "invoke",
                "name": "fileConsent/invoke",
                "from": user.account,
                "conversation": {"id": user.chat},
                "text": None,
                "textFormat": None,
                "attachments": None,
                "value": value,
            }
        )
        status, _ = await self.post(body)
        return status

    def latest_card_with(self, user: TeamsUser, title: str) -> dict[str, Any]:
        """The newest card in the person's 1:1 chat that has a button with this title."""
        for activity in reversed(self.sent_to(user.chat)):
            for attachment in activity.get("attachments") or []:
                content = attachment.get("content")
                if any(a.get("title") == title for a in actions(content)):
                    assert isinstance(content, dict)
                    return content
        raise AssertionError(f"no card with a {title!r} button in {user.name}'s chat")

    async def press(self, user: TeamsUser, title: str) -> Any:
        """Press a button on the newest card that has it, sending the data Teams would send."""
        action = action_titled(self.latest_card_with(user, title), title)
        return await self.invoke(user, str(action["verb"]), action["data"])

    async def press_on(self, user: TeamsUser, card: Mapping[str, Any], title: str) -> Any:
        """Press a button on a card the person was sent earlier (not necessarily the newest)."""
        action = action_titled(card, title)
        return await self.invoke(user, str(action["verb"]), action["data"])

    async def tick(self, user: TeamsUser, *values: str) -> Any:
        """Tick checkboxes and press Done: the ticked values arrive comma-separated in the data."""
        action = action_titled(self.latest_card_with(user, "Done"), "Done")
        assert action["verb"] == cards.MULTI_DONE
        data = {**action["data"], cards.MULTI_INPUT: ",".join(values)}
        return await self.invoke(user, cards.MULTI_DONE, data)

    async def press_in_channel(
        self,
        user: TeamsUser,
        card: Mapping[str, Any],
        title: str,
        *,
        card_id: str,
        channel: str = SAFEGUARDING,
    ) -> Any:
        """Press a button on a card posted in a channel (its id is `card_id`)."""
        action = action_titled(card, title)
        conversation = {
            "id": f"{channel};messageid={card_id}",
            "conversationType": "channel",
            "isGroup": True,
        }
        return await self.invoke(
            user,
            str(action["verb"]),
            action["data"],
            conversation=conversation,
            channelData=channel_data(channel),
            replyToId=card_id,
        )

    async def install_in_team(self) -> int:
        """What Teams sends when the bot is added to the team, from the safeguarding channel."""
        body = self.fake.conversation_update_added(
            members_added=[{"id": f"28:{APP_ID}"}],
            **{
                "from": DANA.account,
                "conversation": {
                    "id": SAFEGUARDING,
                    "conversationType": "channel",
                    "isGroup": True,
                },
                "channelData": {**channel_data(), "eventType": "teamMemberAdded"},
            },
        )
        status, _ = await self.post(body)
        return status

    # -- what arrived at the connector ------------------------------------------------------

    def sent_to(self, conversation: str) -> list[dict[str, Any]]:
        return self.fake.sent_activities(conversation)

    def posts(self, conversation: str) -> list[tuple[str, dict[str, Any]]]:
        """(id the connector gave, activity) of each accepted new post in a conversation."""
        found = []
        for call in self.fake.calls:
            route = call.path.removeprefix("/emea/v3/conversations/").split("/")
            if (
                call.method == "POST"
                and 200 <= call.status < 300
                and route[0] == conversation
                and route[1:2] == ["activities"]
            ):
                found.append((str(call.response["id"]), call.body))
        return found

    def calls_about(self, text: str) -> list[str]:
        """Every connector call whose path mentions `text` (e.g. a channel's id)."""
        return [f"{c.method} {c.path}" for c in self.fake.calls if text in c.path]

    async def replies(self, user: TeamsUser, action: Any) -> list[dict[str, Any]]:
        """Do something and return the activities it caused in the person's 1:1 chat."""
        before = len(self.sent_to(user.chat))
        await action
        await self.app[TEAMS].settled()
        return self.sent_to(user.chat)[before:]

    async def deliver(self) -> DeliveryResult:
        return await self.app[DELIVERY].run_once()


# -- reading cards --------------------------------------------------------------------------


def card_of(activity: Mapping[str, Any]) -> dict[str, Any]:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachment["content"]
    return content


def runs(node: Any) -> list[str]:
    """The text of every TextRun in a card, in order."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") == "TextRun":
                found.append(str(item.get("text", "")))
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return found


def text_of(activities: list[dict[str, Any]]) -> str:
    return "\n".join(
        text
        for activity in activities
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
        for text in runs(attachment.get("content"))
    )


def actions(card: Any) -> list[dict[str, Any]]:
    """Every Action.Execute on a card (their Action.Submit fallbacks are left out)."""
    found: list[dict[str, Any]] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") == "Action.Execute":
                found.append(item)
            for key, value in item.items():
                if key != "fallback":
                    walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(card)
    return found


def action_titled(card: Any, title: str) -> dict[str, Any]:
    matching = [a for a in actions(card) if a.get("title") == title]
    assert matching, f"no {title!r} button in {[a.get('title') for a in actions(card)]}"
    return matching[0]


def teams_settings(fake: FakeBotFramework) -> TeamsSettings:
    auth = auth_configuration(fake, app_id=APP_ID, password=APP_PASSWORD)
    return TeamsSettings(
        app_id=auth.APP_ID,
        app_password=auth.APP_PASSWORD,
        tenant_id=None,
        app_type=auth.APP_TYPE,
        openid_metadata_url=auth.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        emulator_metadata_url=auth.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        token_issuer=auth.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        login_url=auth.TO_CHANNEL_FROM_BOT_LOGIN_URL,
        oauth_url=auth.OAUTH_URL,
    )


@asynccontextmanager
async def teams_harness(
    settings: Settings, clock: Clock, fake: FakeBotFramework
) -> AsyncIterator[TeamsHarness]:
    """The whole app with the Teams channel pointed at the fake; delivery runs only on demand."""
    configured = replace(settings, teams=teams_settings(fake))
    runtime = build_runtime(configured, clock=clock)
    app = create_app(runtime, run_jobs=False)
    # Teams' pace (4 sends a second per conversation) is the pacer's own test; here it would only
    # make every multi-message reply slow.
    app[TEAMS].pacer = Pacer(per_second=10_000)
    # The fake connector serves files from 127.0.0.1, as Teams' file servers do from public
    # addresses; only its own address and port are allowed, not the rest of this machine.
    allow_file_host(app[TEAMS], fake.url)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield TeamsHarness(client=client, fake=fake, runtime=runtime, settings=configured, app=app)
    finally:
        await client.close()


def allow_file_host(target: TeamsHarness | TeamsChannel, url: str) -> None:
    """Let the bot fetch files from a test server (at `url`, an address and port) standing in
    for one of Teams' file servers."""
    channel = target.app[TEAMS] if isinstance(target, TeamsHarness) else target
    channel.fetch_policy = channel.fetch_policy.allowing(url)
