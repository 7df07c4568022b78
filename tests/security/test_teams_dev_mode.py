"""Teams' development mode is on only when asked for, and then only for callers on this machine.

Without a Bot Framework token nobody can be told apart on /api/messages: a request naming a
lead's Entra object id would be taken as the lead. So a server with no Teams credentials has no
/api/messages at all, and the development mode that runs without tokens (for the Agents
Playground) must be switched on with POLICYBOT_TEAMS_DEV=1, refuses anything a proxy forwarded,
and talks only to a service on this machine.

The attack these tests replay went through a reverse proxy on the same host (as nginx or Caddy
in front of the bot), so every caller looked local: with only the lead's object id, the
attacker put their own service URL in the lead's saved address, pressed "View details" and
"Export evidence pack" on a case card, and accepted the pack into their own upload URL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner
from sqlmodel import select

from bot.app import TEAMS, create_app
from bot.channels.teams import cards
from bot.channels.teams.channel import DEV_ADDRESS_BOOK
from bot.channels.teams.dev_mode import refuse_exposed
from bot.cli import main
from bot.config import Settings, TeamsSettings, load_settings
from bot.runtime import Runtime, build_runtime
from dialogs.services.cases.card import case_card
from dialogs.services.errors import ConfigError
from dialogs.services.messages import Message, MessageKind
from storage.models import Case, Conversation, PlatformAddress
from tests.channels.teams.harness import (
    DANA,
    SAFEGUARDING,
    SAM,
    UploadTarget,
    action_titled,
    channel_data,
    teams_harness,
    text_of,
)
from tests.conftest import Clock
from tests.fakes.botframework import FakeBotFramework, activity
from tests.fakes.reverse_proxy import reverse_proxy
from tests.security.support import file_case, rows

NO_TEAMS = TeamsSettings(None, None, None, "MultiTenant")
DESCRIPTION = "A parent posted that I am useless and should be sacked"
ATTACKER_ID = "29:1attacker-teams-user"
ATTACKER_CHAT = "a:1attacker-personal-chat"


@dataclass
class Server:
    client: TestClient[web.Request, web.Application]
    runtime: Runtime
    app: web.Application

    async def post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        response = await self.client.post("/api/messages", json=body, headers=headers or {})
        await response.read()
        if TEAMS in self.app:
            await self.app[TEAMS].settled()
        return response.status


@asynccontextmanager
async def serving(
    settings: Settings, clock: Clock, teams: TeamsSettings, *, behind_proxy: bool
) -> AsyncIterator[Server]:
    """The whole app with these Teams settings, reached directly or through a reverse proxy."""
    runtime = build_runtime(replace(settings, teams=teams), clock=clock)
    app = create_app(runtime, run_jobs=False)
    direct: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await direct.start_server()
    client = direct
    if behind_proxy:
        client = TestClient(TestServer(reverse_proxy(direct.make_url("/"))))
        await client.start_server()
    try:
        yield Server(client=client, runtime=runtime, app=app)
    finally:
        if client is not direct:
            await client.close()
        await direct.close()


def as_the_lead(attacker: FakeBotFramework, **overrides: Any) -> dict[str, Any]:
    """The lead's object id with the attacker's own Teams id, chat and service URL."""
    account = {"id": ATTACKER_ID, "name": DANA.name, "aadObjectId": DANA.aad_object_id}
    return {"from": account, **overrides}


async def case_button(runtime: Runtime, title: str) -> dict[str, Any]:
    """The data of a button on the case's card in the safeguarding channel."""
    async with runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    school = runtime.settings.directory.schools[0]
    card = cards.card_for(case_card(case, school))
    return action_titled(card, title)


async def attack(server: Server, attacker: FakeBotFramework, upload: UploadTarget) -> list[int]:
    """The attack as it happened; returns the status of each request."""
    statuses = []
    hello = attacker.activity(
        text="hello", **as_the_lead(attacker, conversation={"id": ATTACKER_CHAT})
    )
    statuses.append(await server.post(hello))
    in_channel = {
        "conversation": {
            "id": f"{SAFEGUARDING};messageid=1",
            "conversationType": "channel",
            "isGroup": True,
        },
        "channelData": channel_data(),
        "replyToId": "1",
    }
    for title in ("View details", "Export evidence pack"):
        button = await case_button(server.runtime, title)
        press = attacker.invoke_action(
            str(button["verb"]), button["data"], **as_the_lead(attacker, **in_channel)
        )
        statuses.append(await server.post(press))
    offers = [
        attachment
        for activity in attacker.sent_activities(ATTACKER_CHAT)
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.teams.card.file.consent"
    ]
    context = offers[0]["content"]["acceptContext"] if offers else {"file": "0" * 32}
    accept = attacker.activity(
        **as_the_lead(
            attacker,
            type="invoke",
            name="fileConsent/invoke",
            conversation={"id": ATTACKER_CHAT},
            text=None,
            textFormat=None,
            attachments=None,
            value={
                "type": "fileUpload",
                "action": "accept",
                "context": context,
                "uploadInfo": {"uploadUrl": upload.url("pack.zip"), "name": "pack.zip"},
            },
        )
    )
    statuses.append(await server.post(accept))
    return statuses


@pytest.fixture
async def attacker() -> AsyncIterator[FakeBotFramework]:
    """The attacker's own Bot Connector: it records everything the bot sends it."""
    async with FakeBotFramework(require_auth=False) as fake:
        yield fake


@pytest.fixture
async def upload() -> AsyncIterator[UploadTarget]:
    target = UploadTarget()
    await target.server.start_server()
    try:
        yield target
    finally:
        await target.server.close()


# Which server, and how it must answer every request of the attack: no such route, or refused.
SERVERS: dict[str, tuple[dict[str, Any], int]] = {
    "no Teams credentials": ({}, 404),
    "development mode": ({"development": True}, 403),
}


@pytest.mark.parametrize("kind", list(SERVERS))
async def test_the_lead_cannot_be_impersonated_through_a_reverse_proxy_without_a_token(
    settings: Settings,
    clock: Clock,
    attacker: FakeBotFramework,
    upload: UploadTarget,
    kind: str,
) -> None:
    changes, refused = SERVERS[kind]
    teams = replace(NO_TEAMS, **changes)
    async with serving(settings, clock, teams, behind_proxy=True) as server:
        await file_case(server.runtime)
        statuses = await attack(server, attacker, upload)
        addresses = await rows(server.runtime, PlatformAddress)
    seen = text_of(attacker.sent_activities())
    assert DESCRIPTION not in seen
    assert upload.uploads == []
    assert attacker.calls == []
    assert addresses == []
    assert statuses == [refused] * 4


async def test_without_teams_credentials_there_is_no_teams_route(
    settings: Settings, clock: Clock, attacker: FakeBotFramework
) -> None:
    async with serving(settings, clock, NO_TEAMS, behind_proxy=False) as server:
        hello = attacker.activity(text="hello", **as_the_lead(attacker))
        assert await server.post(hello) == 404
        assert TEAMS not in server.app
        assert await rows(server.runtime, PlatformAddress) == []
    assert attacker.calls == []


PROXY_HEADERS = [
    {"X-Forwarded-For": "203.0.113.9"},
    {"Forwarded": "for=203.0.113.9;proto=https"},
    {"X-Real-IP": "203.0.113.9"},
    {"X-Forwarded-Host": "policybot.oakfield.example"},
    {"Via": "1.1 caddy"},
]


@pytest.mark.parametrize("headers", PROXY_HEADERS, ids=[next(iter(h)) for h in PROXY_HEADERS])
async def test_development_mode_refuses_what_a_proxy_forwarded(
    settings: Settings, clock: Clock, attacker: FakeBotFramework, headers: dict[str, str]
) -> None:
    dev = replace(NO_TEAMS, development=True)
    async with serving(settings, clock, dev, behind_proxy=False) as server:
        hello = attacker.activity(text="hello", **as_the_lead(attacker))
        assert await server.post(hello, headers) == 403
        assert await rows(server.runtime, PlatformAddress) == []
    assert attacker.calls == []


async def test_development_mode_refuses_a_request_addressed_to_another_site(
    settings: Settings, clock: Clock, attacker: FakeBotFramework
) -> None:
    """A web page whose name was re-pointed at 127.0.0.1 can make a browser on this machine post
    to the bot; the Host it sends is still the page's."""
    dev = replace(NO_TEAMS, development=True)
    async with serving(settings, clock, dev, behind_proxy=False) as server:
        hello = attacker.activity(text="hello", **as_the_lead(attacker))
        assert await server.post(hello, {"Host": "rebound.attacker.example:3978"}) == 403
        assert await rows(server.runtime, PlatformAddress) == []
    assert attacker.calls == []


async def test_development_mode_answers_only_a_service_on_this_machine(
    settings: Settings, clock: Clock
) -> None:
    dev = replace(NO_TEAMS, development=True)
    async with serving(settings, clock, dev, behind_proxy=False) as server:
        sam: dict[str, Any] = {"from": SAM.account, "conversation": {"id": SAM.chat}}
        elsewhere = activity(service_url="https://smba.trafficmanager.net/emea/", **sam)
        assert await server.post(elsewhere) == 400
        assert await rows(server.runtime, PlatformAddress) == []
        assert await rows(server.runtime, Conversation) == []


async def test_development_mode_works_with_a_playground_on_this_machine(
    settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    dev = replace(NO_TEAMS, development=True)
    with caplog.at_level(logging.WARNING, logger="bot.channels.teams.channel"):
        async with (
            FakeBotFramework(require_auth=False) as playground,
            serving(settings, clock, dev, behind_proxy=False) as server,
        ):
            message = playground.activity(
                text="report", **{"from": SAM.account, "conversation": {"id": SAM.chat}}
            )
            assert await server.post(message) == 201
            assert "Who is being targeted?" in text_of(playground.sent_activities(SAM.chat))
            kept = await rows(server.runtime, PlatformAddress)
    assert {a.platform for a in kept} == {DEV_ADDRESS_BOOK}
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("LOCAL DEVELOPMENT MODE" in r.getMessage() for r in warned)


async def test_an_address_kept_in_development_mode_is_not_used_with_credentials(
    settings: Settings, clock: Clock, attacker: FakeBotFramework
) -> None:
    """Someone tried the playground on the school's server (as Dana, whose id they knew), then
    Teams was set up properly on the same database."""
    dev = replace(NO_TEAMS, development=True)
    async with serving(settings, clock, dev, behind_proxy=False) as server:
        hello = attacker.activity(
            text="hello", **as_the_lead(attacker, conversation={"id": ATTACKER_CHAT})
        )
        assert await server.post(hello) == 201
    before = len(attacker.calls)
    async with FakeBotFramework() as teams, teams_harness(settings, clock, teams) as harness:
        dana = settings.directory.schools[0].person("dana")
        assert dana is not None
        note = Message(kind=MessageKind.INFO, text="Report CB-0001 has a new note.")
        assert await harness.app[TEAMS].transport.send_to_person(dana, note) is False
    assert len(attacker.calls) == before


def test_development_mode_is_only_on_when_asked_for(settings: Settings) -> None:
    base = {"POLICYBOT_CONFIG": str(settings.config_path), "DATABASE_URL": "sqlite://"}
    assert not load_settings(base).teams.enabled
    assert load_settings({**base, "POLICYBOT_TEAMS_DEV": "1"}).teams.development_mode
    assert not load_settings({**base, "POLICYBOT_TEAMS_DEV": "0"}).teams.enabled
    with pytest.raises(ConfigError, match="POLICYBOT_TEAMS_DEV must be 1"):
        load_settings({**base, "POLICYBOT_TEAMS_DEV": "yes"})
    with_credentials = {
        **base,
        "POLICYBOT_TEAMS_DEV": "1",
        "MICROSOFT_APP_ID": "5b0d3c1e-7a42-4f0b-9c8e-2d6f1a9b7c30",
        "MICROSOFT_APP_PASSWORD": "a-real-looking-client-secret",
    }
    with pytest.raises(ConfigError, match="cannot be used with MICROSOFT_APP_ID"):
        load_settings(with_credentials)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.53"])
def test_development_mode_may_listen_on_this_machine(host: str) -> None:
    refuse_exposed(replace(NO_TEAMS, development=True), host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "policybot.oakfield.example"])
def test_development_mode_may_not_listen_beyond_this_machine(host: str) -> None:
    refuse_exposed(NO_TEAMS, host)  # Teams off: nothing to protect
    with pytest.raises(ConfigError, match=r"--host 127\.0\.0\.1"):
        refuse_exposed(replace(NO_TEAMS, development=True), host)


def test_serve_will_not_start_development_mode_on_every_interface(settings: Settings) -> None:
    env = {
        "POLICYBOT_CONFIG": str(settings.config_path),
        "POLICYBOT_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "POLICYBOT_TEAMS_DEV": "1",
        "MICROSOFT_APP_ID": "",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_APP_TOKEN": "",
    }
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 2
    assert "POLICYBOT_TEAMS_DEV=1" in result.output
    assert "policybot serve --host 127.0.0.1" in result.output
