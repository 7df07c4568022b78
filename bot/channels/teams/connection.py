"""What a Teams connection keeps between requests, as every module of the channel sees it.

The channel's modules (activities, buttons, first_contact, turns, sending, identity,
address_book, incoming_files, proactive, people) are each given this, never the channel
itself, so none of them imports the module that wires them together (channel.py) and the
package has no import cycle. `Reach` is what they need of the proactive transport.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Protocol

import aiohttp
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.channels.teams import cloud_config
from bot.channels.teams.clients import ReusingAuthentication
from bot.channels.teams.delivery import Pacer
from bot.channels.teams.safe_fetch import FetchPolicy
from bot.channels.teams.service_urls import ServiceUrls
from bot.config import TeamsSettings
from bot.runtime import Runtime
from dialogs.services.keyed_locks import KeyedLocks
from dialogs.services.messages import Message
from dialogs.services.school.schools import Person

PLATFORM: Final = "teams"
# Where the development mode keeps addresses: apart from those saved with credentials.
DEV_ADDRESS_BOOK: Final = "teams-dev"


class Reach(Protocol):
    """Reaching people and channels outside a turn (proactive.TeamsTransport)."""

    async def saved_address(self, kind: str, key: str) -> ConversationReference | None: ...

    async def send_to_address(self, key: str, message: Message) -> bool: ...

    async def send_to_person(self, person: Person, message: Message) -> bool: ...

    async def member_by_email(
        self, email: str | None
    ) -> tuple[str, str, dict[str, Any] | None] | None: ...

    async def personal_chat(self, person: Person) -> ConversationReference | None: ...

    async def send_card_to_person(self, person: Person, card: dict[str, Any]) -> bool: ...

    async def offer_file(self, person: Person, pack: Path, message: Message) -> bool: ...


class TeamsConnection:
    """The adapter, the pacer, the addresses already saved, the files session: what one Teams
    connection keeps. `transport` is set by the channel once it is built."""

    transport: Reach

    def __init__(self, runtime: Runtime, settings: TeamsSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.services = ServiceUrls(local_only=settings.development_mode)
        self.authentication = ReusingAuthentication(
            cloud_config.BotFrameworkConfig(settings), self.services
        )
        self.adapter = CloudAdapter(self.authentication)
        self.address_book = DEV_ADDRESS_BOOK if settings.development_mode else PLATFORM
        # Public addresses only; tests add their local stand-ins for Teams' file servers.
        self.fetch_policy = FetchPolicy()
        self._remembered: dict[tuple[str, str], str] = {}
        # One first contact at a time per person: a burst from someone new asks Teams once.
        self._first_contacts: KeyedLocks[str] = KeyedLocks()
        self.pacer = Pacer()
        self._http: aiohttp.ClientSession | None = None
