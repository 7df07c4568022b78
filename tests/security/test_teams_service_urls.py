"""The bot calls only Bot Connector addresses that authenticated activities gave.

Each call carries the bot's own Entra token and, usually, something a person wrote or a case's
details. Teams signs the service address into every activity's token, so an address from an
authenticated activity (or saved from one) is Teams' own; anything else is refused before a
connection is made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from bot.app import TEAMS
from bot.channels.teams.service_urls import ServiceUrls, UntrustedService
from tests.channels.teams.harness import SAM, TeamsHarness, text_of
from tests.fakes.botframework import APP_ID, FakeBotFramework


@pytest.fixture
async def elsewhere() -> AsyncIterator[FakeBotFramework]:
    """A Bot Connector no activity came from: it records whatever reaches it."""
    async with FakeBotFramework(require_auth=False) as fake:
        yield fake


def reference_at(service_url: str) -> ConversationReference:
    return ConversationReference(
        service_url=service_url,
        channel_id="msteams",
        conversation=ConversationAccount(id=SAM.chat, conversation_type="personal"),
        user=ChannelAccount(id=SAM.user_id),
        bot=ChannelAccount(id=f"28:{APP_ID}"),
    )


async def test_the_bots_token_never_goes_to_a_service_no_activity_gave(
    teams: TeamsHarness, elsewhere: FakeBotFramework
) -> None:
    await teams.say(SAM, "report")  # Teams' own service is known from here on

    async def send(context: TurnContext) -> None:
        await context.send_activity(MessageFactory.text("Report CB-0001: a new note"))

    with pytest.raises(UntrustedService):
        await teams.app[TEAMS].adapter.continue_conversation(
            reference_at(elsewhere.service_url), send, APP_ID
        )
    assert elsewhere.calls == []
    before = len(teams.sent_to(SAM.chat))
    await teams.app[TEAMS].adapter.continue_conversation(
        reference_at(teams.fake.service_url), send, APP_ID
    )
    assert "a new note" in str(teams.sent_to(SAM.chat)[before:])


async def test_replies_go_to_the_service_the_authenticated_activity_named(
    teams: TeamsHarness,
) -> None:
    await teams.say(SAM, "report")
    assert "Who is being targeted?" in text_of(teams.sent_to(SAM.chat))


def test_an_address_is_trusted_as_given_whatever_its_case_or_final_slash() -> None:
    services = ServiceUrls(local_only=False)
    assert not services.allows("https://smba.trafficmanager.net/emea/")
    services.trust("https://smba.trafficmanager.net/emea/")
    assert services.allows("https://SMBA.trafficmanager.net/emea")
    assert services.allows("https://smba.trafficmanager.net:443/emea/")
    assert not services.allows("https://smba.trafficmanager.net/amer/")
    assert not services.allows("http://smba.trafficmanager.net/emea/")
    assert not services.allows("https://smba.trafficmanager.net.attacker.example/emea/")
    assert not services.allows("https://user@smba.trafficmanager.net/emea/")


def test_in_development_mode_only_this_machine_is_called() -> None:
    services = ServiceUrls(local_only=True)
    services.trust("https://smba.trafficmanager.net/emea/")  # nothing is authenticated
    assert not services.allows("https://smba.trafficmanager.net/emea/")
    assert services.allows("http://localhost:56150/_connector")
    assert services.allows("http://127.0.0.1:56150/")
    assert not services.allows("http://10.0.0.5:56150/")
