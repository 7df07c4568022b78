"""The Microsoft Teams channel: Bot Framework activities in, neutral input to dialogs, cards out.

Every botbuilder import lives in this package, so moving to its successor touches nothing else.
Conversation references are saved in the database whenever someone talks to the bot or installs
it, which is what lets the bot tell a reporter about their case days later, after restarts.

Only authenticated activities are saved as addresses with credentials. The local development
mode (dev_mode.py) keeps its addresses apart, under DEV_ADDRESS_BOOK: what an unauthenticated
request said is never used by a server with credentials, even on the same database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botbuilder.schema.teams import TeamsChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.downloads import ShortDownload, cut_short, read_whole, unavailable
from bot.channels.shared_files import read_files, unreadable_notice
from bot.channels.teams import cards, dev_mode
from bot.channels.teams.clients import ReusingAuthentication
from bot.channels.teams.delivery import Pacer, status_of, with_retries
from bot.channels.teams.directory import TeamsDirectory, account_of, team_of, tenant_of
from bot.channels.teams.people import TeamsPeople
from bot.channels.teams.safe_fetch import FetchPolicy, RefusedAddress, guarded_session, open_url
from bot.channels.teams.service_urls import ServiceUrls
from bot.channels.teams.tokens import check_lifetime
from bot.config import TeamsSettings
from bot.runtime import Runtime
from dialogs import case_actions
from dialogs.case_actions import Declined, FormWanted
from dialogs.inbox import Arrival, Who
from dialogs.not_staff import (
    StaffButtonValue,
    asks_to_change_school,
    change_school_message,
    keeps_message,
    not_staff_message,
    school_chosen_message,
)
from dialogs.services.cases.card import CaseButtonValue, CaseVerb, next_statuses
from dialogs.services.comments.card import CommentButtonValue
from dialogs.services.errors import UploadRejected
from dialogs.services.keyed_locks import KeyedLocks
from dialogs.services.messages import IncomingFile, Message, MessageKind, UserInput
from dialogs.services.outbox import NO_ALERT, Alert
from dialogs.services.people import held_messages
from dialogs.services.people.directory import (
    DirectoryUnavailable,
    Found,
    Identified,
    Refusal,
    Refused,
)
from dialogs.services.posts.card import PostButtonValue
from dialogs.services.school.schools import Person, School
from storage import addresses
from storage.conversations import ConversationKey
from storage.db import is_unavailable

log = logging.getLogger(__name__)

PLATFORM: Final = "teams"
# Where the development mode keeps addresses: apart from those saved with credentials.
DEV_ADDRESS_BOOK = "teams-dev"
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


# botbuilder's public-cloud values. Once any endpoint is overridden (a sovereign cloud, a test
# server), botbuilder stops filling in the others, so they are all given explicitly then.
_PUBLIC_CLOUD: dict[str, Any] = {
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    ),
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    ),
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "https://api.botframework.com",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://login.microsoftonline.com/botframework.com",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
    "OAUTH_URL": "https://api.botframework.com",
    "CALLER_ID": "urn:botframework:azure",
    "VALIDATE_AUTHORITY": True,
}


class _Config:
    """The attribute names botbuilder's configuration classes read."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.APP_ID = settings.app_id or ""
        self.APP_PASSWORD = settings.app_password or ""
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.tenant_id
        overrides = {
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": settings.openid_metadata_url,
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": settings.emulator_metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": settings.token_issuer,
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": settings.login_url,
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": settings.oauth_scope,
            "OAUTH_URL": settings.oauth_url,
        }
        if any(overrides.values()):
            for name, default in _PUBLIC_CLOUD.items():
                setattr(self, name, overrides.get(name) or default)


_PRIVATE_ONLY = Message(
    kind=MessageKind.INFO,
    text="Please talk to me in a private chat: reports are confidential.",
)


_CHANNEL_REFUSALS = {
    "approvals": "Only the school's approvers can act on post requests here. Nothing has been "
    "changed.",
    "moderators": "Only the school's moderators can answer comments here. Nothing has been "
    "changed.",
}


def _answered_first(activity: Activity) -> bool:
    """Messages and button presses in a personal chat are journaled and answered before their
    turn is taken (TeamsChannel._admit), and their address is saved with the turn."""
    conversation = activity.conversation
    return (
        activity.type in (ActivityTypes.message, ActivityTypes.invoke)
        and conversation is not None
        and conversation.conversation_type == "personal"
    )


def _plain_text(activity: Activity) -> str:
    """What the person typed, without the mention of the bot Teams puts in a channel message.

    Nothing else is taken out: Teams sends what was typed as plain text (any formatting goes in
    a separate text/html attachment), so "<b>" or "<at>everyone</at>" here are the person's own
    words, and a report must keep them exactly.
    """
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        extra = getattr(entity, "additional_properties", None) or {}
        mentioned = extra.get("mentioned")
        if (
            getattr(entity, "type", None) == "mention"
            and isinstance(mentioned, dict)
            and bot_id
            and mentioned.get("id") == bot_id
            and isinstance(extra.get("text"), str)
        ):
            text = text.replace(extra["text"], "")
    return text.replace("&nbsp;", " ").strip()


def _question_of(message: Message) -> str:
    return "\n".join(filter(None, [message.title, message.text]))[:400]


class TeamsChannel:
    def __init__(self, runtime: Runtime, settings: TeamsSettings, *, on_outbox: Any = None) -> None:
        self.runtime = runtime
        self.settings = settings
        self.on_outbox = on_outbox or (lambda: None)
        self.services = ServiceUrls(local_only=settings.development_mode)
        self.adapter = CloudAdapter(ReusingAuthentication(_Config(settings), self.services))
        self.address_book = DEV_ADDRESS_BOOK if settings.development_mode else PLATFORM
        # Public addresses only; tests add their local stand-ins for Teams' file servers.
        self.fetch_policy = FetchPolicy()
        self._remembered: dict[tuple[str, str], str] = {}
        # One first contact at a time per person: a burst from someone new asks Teams once.
        self._first_contacts: KeyedLocks[str] = KeyedLocks()
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = _PolicyBot(self)
        self.transport = TeamsTransport(self)
        # For the daily sync and `policybot people sync`: Teams asked outside any turn.
        people = TeamsPeople(self)
        runtime.platform_directories["teams"] = (people, people)
        self.pacer = Pacer()
        self._http: aiohttp.ClientSession | None = None
        if settings.development_mode:
            log.warning(dev_mode.WARNING)

    # -- HTTP ----------------------------------------------------------------------------

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
            activity = Activity().deserialize(body)
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

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await self.send(
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

    # -- addresses -----------------------------------------------------------------------

    async def remember(self, activity: Activity) -> None:
        """Keep where to reach each person and served channel, for messages sent later.

        Only what changed is written: the same person in the same chat sends the same address
        every time, and writing it on every message was a transaction per message.
        """
        writes = [
            (kind, key, reference)
            for kind, key, reference in self._addresses_in(activity)
            if self._remembered.get((kind, key)) != _fingerprint(reference)
        ]
        if not writes:
            return
        now = self.runtime.clock()
        async with self.runtime.db.session() as session:
            for kind, key, reference in writes:
                await addresses.remember(
                    session,
                    platform=self.address_book,
                    kind=kind,
                    key=key,
                    reference=reference,
                    now=now,
                )
        if len(self._remembered) > 50_000:
            self._remembered.clear()
        for kind, key, reference in writes:
            self._remembered[(kind, key)] = _fingerprint(reference)

    async def remember_if_possible(self, activity: Activity) -> None:
        try:
            await self.remember(activity)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # The address is kept from an earlier visit; the message itself must not wait on
            # it, and goes on to the journal.
            log.warning("Teams address not saved: the database is unavailable")

    def _addresses_in(self, activity: Activity) -> list[tuple[str, str, dict[str, Any]]]:
        serialised = TurnContext.get_conversation_reference(activity).serialize()
        tenant = tenant_of(activity)
        if tenant:
            # botbuilder reads and writes the tenant as "tenantID", which Teams never sends; it
            # is kept here, because opening a 1:1 chat later needs it.
            serialised["conversation"] = {
                **(serialised.get("conversation") or {}),
                "tenantId": tenant,
            }
        conversation = activity.conversation
        sender = activity.from_property
        found: list[tuple[str, str, dict[str, Any]]] = []
        # Only people and channels policybot serves are remembered (data minimisation).
        known = self.person_of(activity) is not None
        if known and conversation is not None and conversation.conversation_type == "personal":
            for key in {sender.aad_object_id, sender.id} - {None} if sender else set():
                found.append(("person", str(key), serialised))
        channel_id = _channel_id(activity)
        directory = self.runtime.directory
        served = channel_id is not None and any(
            directory.by_teams_channel(channel_id, purpose)
            for purpose in ("safeguarding", "approvals", "moderators")
        )
        if channel_id and served:
            # The channel itself, not the thread this activity came from ("19:…;messageid=…"):
            # otherwise every later post would be a reply in the thread of whatever card was
            # last pressed.
            channel_reference = dict(serialised)
            channel_reference["conversation"] = {
                **(serialised.get("conversation") or {}),
                "id": channel_id,
            }
            channel_reference.pop("activityId", None)
            team = team_of(activity)
            if team:
                # The team the channel is in: whose roster finds a lead listed by email who has
                # never written to the bot (TeamsTransport.member_by_email).
                channel_reference["teamId"] = team
            found.append(("channel", channel_id, channel_reference))
        return found

    # -- sending -------------------------------------------------------------------------

    def activity_for(
        self, message: Message, *, mention: Sequence[tuple[str, str]] = ()
    ) -> Activity:
        """The message as a card; `mention` lists (Teams id, name) of people it alerts."""
        card = cards.card_for(message)
        if mention:
            card = cards.with_mentions(card, mention, after_title=bool(message.title))
        question = _question_of(message)
        _stamp(card, question)
        activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        activity.summary = cards.summary_text(message)
        return activity

    async def activities_for(self, message: Message) -> list[Activity]:
        """The message's card, then an offer of each file it hands over.

        Teams lets a bot give files only through a consent card in a personal chat, and the
        file lands in the person's own OneDrive; messages with files go only to personal chats.
        """
        activities = [self.activity_for(message)]
        if not message.files:
            return activities
        from bot.channels.teams.files import consent_card

        files = await read_files(self.runtime, message.files)
        for file in files:
            if file.data is not None:
                activities.append(
                    consent_card(
                        file.ref.name,
                        file.data,
                        f"{file.ref.name}, from {cards.summary_text(message)}",
                        store=self.runtime.settings.data_dir,
                        kind="media",
                    )
                )
        notice = unreadable_notice(files)
        if notice is not None:
            activities.append(self.activity_for(notice))
        return activities

    async def send(self, context: TurnContext, messages: Sequence[Message]) -> list[str]:
        ids: list[str] = []
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        for message in messages:
            for activity in await self.activities_for(message):
                await self.pacer.wait(conversation)

                async def send_one(activity: Activity = activity) -> Any:
                    return await context.send_activity(activity)

                response = await with_retries(send_one)
                ids.append(getattr(response, "id", "") or "")
        return ids

    async def reply(self, context: TurnContext, who: Who, messages: Sequence[Message]) -> None:
        """Send a turn's replies in order. The turn is already saved, so if Teams still refuses
        after its retries, what is left goes to the outbox and is sent later, never dropped."""

        async def post(message: Message) -> None:
            await self.send(context, [message])

        if not await self.runtime.runner.send_replies(who, messages, post):
            self.on_outbox()

    # -- people --------------------------------------------------------------------------

    def person_of(
        self, activity: Activity, school: School | None = None
    ) -> tuple[School, Person] | None:
        sender = activity.from_property
        if sender is None:
            return None
        for found_school, person in self.runtime.directory.by_teams_user(
            sender.aad_object_id, sender.id
        ):
            if school is None or found_school.id == school.id:
                return found_school, person
        return None

    def who(self, activity: Activity) -> Who | None:
        """The sender as this process already knows them, without asking anyone (a cheap check,
        e.g. on installation); messages and buttons are identified with `who_is`."""
        found = self.person_of(activity)
        if found is None or activity.conversation is None:
            return None
        school, person = found
        key = ConversationKey(
            PLATFORM, str(activity.from_property.id), str(activity.conversation.id)
        )
        return Who(person=person, school=school, key=key)

    def _account_of(self, activity: Activity) -> str | None:
        """The id the staff directory knows the sender by: the one the configuration lists
        them under (their Entra object id, or a "29:" id), else their Entra object id."""
        sender = activity.from_property
        if sender is None:
            return None
        directory = self.runtime.directory
        for key in (sender.aad_object_id, sender.id):
            if key and directory.by_teams_user(str(key)):
                return str(key)
        found = sender.aad_object_id or sender.id
        return str(found) if found else None

    def is_known(self, activity: Activity) -> bool:
        """Whether the sender is listed or learned already: what can be told before Teams is
        answered, without asking anyone."""
        sender = activity.from_property
        return sender is not None and any(
            self.runtime.staff.is_known(PLATFORM, str(key))
            for key in (sender.aad_object_id, sender.id)
            if key
        )

    def directory_for(self, context: TurnContext, activity: Activity) -> TeamsDirectory:
        """Teams' directory as seen from an activity: the teams whose members are staff, when
        schools name them (Membership.teams_teams), else the team or chat it came from."""
        staff_teams = tuple(
            dict.fromkeys(
                team
                for school in self.runtime.directory.schools
                for team in school.membership.teams_teams
            )
        )
        return TeamsDirectory(context, activity, staff_teams=staff_teams)

    async def identify(self, context: TurnContext, activity: Activity | None = None) -> Identified:
        """Who sent `activity` (the turn's own, by default): listed, learned, or looked up in
        the roster of the team or chat it came from (bot.channels.teams.directory)."""
        activity = activity or context.activity
        account = self._account_of(activity)
        if account is None:
            return Refused(Refusal.OUTSIDE)
        runtime, lookup = self.runtime, self.directory_for(context, activity)
        return await runtime.staff.identify(
            runtime.db.session, PLATFORM, account, lookup, runtime.clock()
        )

    async def who_is(self, context: TurnContext) -> Who | Message:
        """The school and person writing in a personal chat, or what to tell someone the bot
        cannot take as staff."""
        activity = context.activity
        identified = await self.identify(context)
        if not isinstance(identified, Found):
            return not_staff_message(identified, "Teams")
        if activity.conversation is None or activity.from_property is None:
            return not_staff_message(Refused(Refusal.OUTSIDE), "Teams")
        key = ConversationKey(
            PLATFORM, str(activity.from_property.id), str(activity.conversation.id)
        )
        return Who(person=identified.person, school=identified.school, key=key)

    async def _hold(self, activity: Activity, text: str, attachments: Sequence[Any]) -> None:
        """Keep what someone new wrote, before Teams is answered; who they are is asked of
        Teams after (the roster could take longer than Teams waits)."""
        account = self._account_of(activity)
        if account is None or activity.conversation is None:
            return
        async with self.runtime.db.session() as session:
            await held_messages.hold(
                session,
                platform=PLATFORM,
                user_id=account,
                conversation=str(activity.conversation.id),
                text=text,
                files=[a.serialize() for a in attachments],
                delivery_id=str(activity.id) if activity.id else None,
                now=self.runtime.clock(),
            )
        self.runtime.runner.in_background(self._first_contact(activity))

    async def _first_contact(self, activity: Activity) -> None:
        """After Teams has its answer: who someone the bot did not know is, and then what they
        wrote (held until now), taken in order as their first turns; or, if they cannot be
        taken as staff, why, and what they wrote is kept only if they may yet be."""
        account = self._account_of(activity)
        assert account is not None
        assert activity.conversation is not None
        runtime = self.runtime
        reference = TurnContext.get_conversation_reference(activity)
        async with self._first_contacts.hold(account):
            outcome: list[Identified] = []
            failures: list[Exception] = []

            async def ask(context: TurnContext) -> None:
                # Caught here, not left to botbuilder, which would apologise for a failed turn
                # to someone whose message is safely held.
                try:
                    identified = await self.identify(context, activity)
                    outcome.append(identified)
                    if isinstance(identified, Found):
                        return
                    if not keeps_message(identified):
                        async with runtime.db.session() as session:
                            for row in await held_messages.held_for(session, PLATFORM, account):
                                assert row.id is not None
                                await held_messages.let_go(session, row.id)
                    await self.send(context, [not_staff_message(identified, "Teams")])
                except Exception as exc:
                    failures.append(exc)

            await self.adapter.continue_conversation(reference, ask, self.settings.app_id or "")
            if failures:
                raise failures[0]
            if not outcome or not isinstance(outcome[0], Found):
                return
            await self._take_held(activity, account, outcome[0])

    async def _take_held(self, activity: Activity, account: str, found: Found) -> None:
        """What someone wrote before they were known, taken in order as their first turns."""
        assert activity.conversation is not None
        assert activity.from_property is not None
        runtime = self.runtime
        async with runtime.db.session() as session:
            held = await held_messages.held_for(session, PLATFORM, account)
        who = Who(
            person=found.person,
            school=found.school,
            key=ConversationKey(
                PLATFORM, str(activity.from_property.id), str(activity.conversation.id)
            ),
        )
        for row in held:
            assert row.id is not None
            attachments = [
                Attachment().deserialize(f) for f in row.files or [] if isinstance(f, dict)
            ]
            delivery_id = row.delivery_id or f"held:{row.id}"
            await self._admit(activity, who, UserInput(text=row.text), delivery_id, attachments)
            async with runtime.db.session() as session:
                await held_messages.let_go(session, row.id)

    async def chose_school(self, context: TurnContext, choice: StaffButtonValue) -> None:
        """Someone whose email fits several schools pressed the one they work at (first, or
        after "change school"): recorded, and what they wrote before, if anything, is taken."""
        activity = context.activity
        account = self._account_of(activity)
        if account is None:
            return
        runtime = self.runtime
        school = runtime.directory.school(choice.reference)
        async with self._first_contacts.hold(account):
            identified: Identified
            try:
                profile = await self.directory_for(context, activity).profile(account)
            except DirectoryUnavailable:
                identified = Refused(Refusal.UNAVAILABLE)
            else:
                identified = await runtime.staff.learn(
                    runtime.db.session, PLATFORM, account, profile, runtime.clock(), school=school
                )
            if not isinstance(identified, Found):
                await self.send(context, [not_staff_message(identified, "Teams")])
                return
            await self.send(context, [school_chosen_message(identified.school)])
            await self._take_held(activity, account, identified)

    # -- files ---------------------------------------------------------------------------

    async def fetch(
        self, context: TurnContext, attachment: Any, service_url: str | None
    ) -> IncomingFile | None:
        """A file or pasted image from the message, or None for Teams' own extra parts."""
        content_type = str(getattr(attachment, "content_type", "") or "")
        name = str(getattr(attachment, "name", "") or "screenshot")[:200]
        headers: dict[str, str] = {}
        if content_type == FILE_DOWNLOAD_INFO:
            content = getattr(attachment, "content", None) or {}
            url = str(content.get("downloadUrl") or "")
            if content.get("fileType") and "." not in name:
                name = f"{name}.{content['fileType']}"
        elif content_type.startswith("image/"):
            url = str(getattr(attachment, "content_url", "") or "")
            if _same_host(url, service_url):
                # Pasted images sit behind the connector and need the bot's own token; it is
                # never sent anywhere but the service the activity came from.
                token = await self._bot_token(context)
                if token:
                    headers["Authorization"] = f"Bearer {token}"
        else:
            return None  # e.g. the text/html copy of the message Teams adds
        max_bytes = self.runtime.settings.evidence.largest_upload_bytes
        if self._http is None:
            # Long enough for a video at a school's upload speed; a stuck download still ends.
            self._http = guarded_session(lambda: self.fetch_policy, total_seconds=120)
        try:
            response = await open_url(self._http, url, self.fetch_policy, headers)
            async with response:
                if response.status != 200:
                    raise unavailable(name, "Teams")
                downloaded = await read_whole(response, max_bytes=max_bytes)
        except (RefusedAddress, ValueError) as exc:
            # Why, but not the address: it may carry the file's access token.
            why = str(exc) if isinstance(exc, RefusedAddress) else "not a URL"
            log.warning("Teams: a file was not fetched: %s", why)
            raise UploadRejected(
                f"I couldn't fetch “{name[:80]}” from Teams. Please send it again."
            ) from exc
        except (ShortDownload, aiohttp.ClientPayloadError) as exc:
            raise cut_short(name, "Teams") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise unavailable(name, "Teams") from exc
        return downloaded.as_incoming(name, content_type)

    async def _bot_token(self, context: TurnContext) -> str | None:
        """The token the turn's connector client already uses (none in development mode)."""
        if self.settings.development_mode:
            return None
        client = context.turn_state.get(self.adapter.BOT_CONNECTOR_CLIENT_KEY)
        credentials = getattr(getattr(client, "config", None), "credentials", None)
        get_token = getattr(credentials, "get_access_token", None)
        if get_token is None:
            return None
        token = await asyncio.to_thread(get_token)
        return str(token) if token else None

    # -- turns ---------------------------------------------------------------------------

    async def on_message(self, context: TurnContext) -> None:
        activity = context.activity
        if isinstance(activity.value, dict) and cards.action_data(activity.value) is not None:
            verb, data = cards.action_data(activity.value) or ("", {})
            await self.on_action(context, verb, data)
            return
        conversation = activity.conversation
        if conversation is None or conversation.conversation_type != "personal":
            await self.send(context, [_PRIVATE_ONLY])
            return
        text = _plain_text(activity)
        attachments = [a for a in activity.attachments or [] if _is_file(a)]
        if not text and not attachments:
            return
        if not self.is_known(activity):
            await self._hold(activity, text, attachments)
            return
        who = await self.who_is(context)
        if isinstance(who, Message):
            await self.send(context, [who])
            return
        if asks_to_change_school(text):
            schools = self.runtime.staff.schools_for(who.person)
            await self.send(context, [change_school_message(who.school, schools)])
            return
        await self._admit(activity, who, UserInput(text=text), activity.id, attachments)

    async def _admit(
        self,
        activity: Activity,
        who: Who,
        given: UserInput,
        delivery_id: str | None,
        attachments: Sequence[Any] = (),
    ) -> None:
        """Journal the message and return, so Teams has its answer at once (it allows 15
        seconds, and a burst of turns or a slow download could take longer); the turn is taken
        straight after, with the replies sent to the chat as new messages."""
        reference = TurnContext.get_conversation_reference(activity)
        service_url = activity.service_url

        async def then(arrival: Arrival) -> None:
            # Saved here rather than before Teams was answered (see _answered_first): only a
            # new or changed address is written, but a burst of new people would otherwise
            # make Teams wait on the database.
            await self.remember_if_possible(activity)

            async def turn(context: TurnContext) -> None:
                async def fetch(attachment: Any) -> IncomingFile | None:
                    return await self.fetch(context, attachment, service_url)

                async def send(messages: Sequence[Message]) -> None:
                    await self.reply(context, who, messages)

                await self.runtime.runner.take(
                    arrival, given, files=attachments, fetch=fetch, send=send
                )

            await self.adapter.continue_conversation(reference, turn, self.settings.app_id or "")
            self.on_outbox()

        await self.runtime.runner.admit(
            who,
            given,
            file_names=[str(getattr(a, "name", None) or "a file") for a in attachments],
            delivery_id=delivery_id,
            then=then,
        )

    async def on_action(
        self, context: TurnContext, verb: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A card button; returns the card that should replace the one pressed, if any."""
        activity = context.activity
        if verb == cards.CASE_FORM:
            await self.on_case_form(context, data)
            return None
        value = str(data.get("value") or "")
        if verb == cards.MULTI_DONE:
            value = str(data.get(cards.MULTI_INPUT) or "")
        school_choice = StaffButtonValue.decode(value)
        if school_choice is not None:
            await self.chose_school(context, school_choice)
            return None
        case_button = CaseButtonValue.decode(value)
        if case_button is not None:
            await self.on_case_button(context, case_button)
            return None
        conversation = activity.conversation
        in_channel = conversation is not None and conversation.conversation_type != "personal"
        if in_channel and PostButtonValue.decode(value) is not None:
            await self.on_channel_button(context, value, "approvals")
            return None
        if in_channel and CommentButtonValue.decode(value) is not None:
            await self.on_channel_button(context, value, "moderators")
            return None
        if conversation is None or conversation.conversation_type != "personal":
            # A report's questions are only ever answered in a private chat.
            await self.send(context, [_PRIVATE_ONLY])
            return None
        who = await self.who_is(context)
        if isinstance(who, Message):
            await self.send(context, [who])
            return None
        delivery = f"{activity.id or ''}:{activity.reply_to_id or ''}:{value}"
        given = UserInput(value=value, question=cards.question_of(data))
        # The turn decides (a press on something that has moved on changes nothing); the card
        # is replaced now, so it is marked by what is current at this moment.
        stale = await self.runtime.runner.has_moved_on(who, given)
        await self._admit(activity, who, given, delivery)
        if stale:
            return cards.moved_on_card(str(data.get("q") or ""))
        chosen = str(data.get("label") or value)
        labels = data.get("labels")
        if verb == cards.MULTI_DONE and isinstance(labels, dict) and value:
            # What was ticked, not the "Done" button's own label.
            chosen = ", ".join(str(labels.get(v, v)) for v in value.split(","))
        question = str(data.get("q") or "")
        return cards.card_for(
            Message(kind=MessageKind.INFO, text=f"{question}\n✅ You chose: {chosen}".strip())
        )

    # -- case cards ----------------------------------------------------------------------

    async def _actor(
        self, context: TurnContext, purpose: str = "safeguarding"
    ) -> tuple[School, Person] | None:
        """Who pressed a button on a card in one of a school's channels: a lead or approver
        listed by email may never have written to the bot, so they are looked up in the team's
        roster like anyone new."""
        activity = context.activity
        channel_id = _channel_id(activity)
        school = (
            self.runtime.directory.by_teams_channel(channel_id, purpose) if channel_id else None
        )
        if school is None:
            return None
        identified = await self.identify(context)
        if isinstance(identified, Found) and identified.school.id == school.id:
            return identified.school, identified.person
        return self.person_of(activity, school)

    async def on_channel_button(self, context: TurnContext, value: str, purpose: str) -> None:
        """A button on a card in the approvals or moderators channel: acted on as the person
        who pressed it, with every reply (and any question, such as a reason) in their private
        chat. Whether they may act is checked by the services, as for a typed command."""
        activity = context.activity
        actor = await self._actor(context, purpose)
        if actor is None:
            refused = Message(kind=MessageKind.HINT, text=_CHANNEL_REFUSALS[purpose])
            await self.tell_privately(context, None, refused)
            return
        school, person = actor
        reference = await self.transport.personal_chat(person)
        if reference is None or reference.user is None or reference.conversation is None:
            await self.send(
                context,
                [
                    Message(
                        kind=MessageKind.INFO,
                        text="Please open a private chat with me first (say hello), then press "
                        "the button again: I'll follow up there, not in this channel.",
                    )
                ],
            )
            return
        who = Who(
            person=person,
            school=school,
            key=ConversationKey(PLATFORM, str(reference.user.id), str(reference.conversation.id)),
        )
        delivery = f"{activity.id or ''}:{activity.reply_to_id or ''}:{value}"
        replies = await self.runtime.runner.handle(
            who, UserInput(value=value), delivery_id=delivery
        )
        for reply in replies:
            await self.transport.send_to_person(person, reply)
        self.on_outbox()

    async def on_case_button(self, context: TurnContext, button: CaseButtonValue) -> None:
        actor = await self._actor(context)
        person = actor[1] if actor else None
        activity = context.activity
        # One press is acted on once: the same activity sent again (a replay) changes nothing
        # and, for an export, offers no second pack.
        delivery = f"button:{_delivery_of(activity)}:{activity.reply_to_id or ''}:{button.encode()}"
        async with case_actions.press(
            self.runtime.unit_of_work, button, actor, source=PLATFORM, delivery_id=delivery
        ) as pressed:
            if isinstance(pressed, Declined):
                await self.tell_privately(context, person, pressed.message)
                return
            if isinstance(pressed, FormWanted):
                assert person is not None
                await self._send_form(context, person, pressed)
                return
            if pressed is None:
                return
            assert person is not None
            if pressed.pack is not None:
                await self.transport.offer_file(person, pressed.pack, pressed.message)
            else:
                await self.transport.send_to_person(person, pressed.message)
        self.on_outbox()

    async def _send_form(self, context: TurnContext, person: Person, form: FormWanted) -> None:
        """The form goes to the handler's private chat, never into the channel."""
        statuses = [(s.value, s.value.title()) for s in next_statuses(form.case)]
        card = cards.case_form_card(
            verb=form.verb.value,
            reference=form.case.reference,
            statuses=statuses if form.verb is CaseVerb.STATUS else None,
        )
        if not await self.transport.send_card_to_person(person, card):
            await self.send(
                context,
                [
                    Message(
                        kind=MessageKind.INFO,
                        text="Please open a private chat with me first (say hello), then "
                        "press the button again: forms are sent there, not into this "
                        "channel.",
                    )
                ],
            )

    async def on_case_form(self, context: TurnContext, data: dict[str, Any]) -> None:
        try:
            verb = CaseVerb(str(data.get("verb")))
        except ValueError:
            return
        identified = await self.identify(context)
        actor = (identified.school, identified.person) if isinstance(identified, Found) else None
        # Claimed in the action's own transaction: a replay of this invoke changes nothing,
        # and a form refused (rolled back) can still be sent again.
        outcome = await case_actions.submit(
            self.runtime.unit_of_work,
            actor,
            source=PLATFORM,
            delivery_id=f"case-form:{_delivery_of(context.activity)}",
            verb=verb,
            reference=str(data.get("reference") or ""),
            text=_str(data.get("text")),
            status=_str(data.get("status")),
            outcome=_str(data.get("outcome")),
            handlers_only=True,
        )
        if isinstance(outcome, Declined):
            await self.send(context, [outcome.message])  # the form keeps what they wrote
            return
        if outcome is None:
            return  # a replay of a form already acted on
        await self.send(context, [outcome.message])
        self.on_outbox()

    async def tell_privately(
        self, context: TurnContext, person: Person | None, message: Message | None
    ) -> None:
        """Teams has no private replies in a channel: answer in the person's 1:1 chat when the
        bot can, and never in the channel itself."""
        if message is None:
            message = Message(
                kind=MessageKind.INFO, text="I've sent you a form in our private chat."
            )
        try:
            if person is not None and await self.transport.send_to_person(person, message):
                return
            sender = context.activity.from_property
            if sender is not None and await self.transport.send_to_address(
                str(sender.aad_object_id or sender.id), message
            ):
                return
        except Exception as exc:  # Teams refused; still never fall back to the channel
            log.warning("could not reach someone privately in Teams: %s", type(exc).__name__)
            return
        log.info("could not reach someone privately in Teams; they have not chatted with the bot")


class _PolicyBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, channel: TeamsChannel) -> None:
        self.channel = channel

    async def on_turn(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type in (
            ActivityTypes.message,
            ActivityTypes.invoke,
            ActivityTypes.conversation_update,
            ActivityTypes.installation_update,
        ) and not _answered_first(turn_context.activity):
            await self.channel.remember_if_possible(turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.channel.on_message(turn_context)

    async def on_card_action(self, turn_context: TurnContext) -> dict[str, Any]:
        """An Action.Execute press (`adaptiveCard/action`), answered with the invoke response's
        body: the card that replaces the one pressed, or a short message.

        botbuilder is bypassed here on purpose: it hands the action over as a plain dict (not a
        model with attributes), and its AdaptiveCardInvokeResponse cannot serialise the string
        value that a message response has.
        """
        value = turn_context.activity.value
        parsed = cards.action_data(value) if isinstance(value, dict) else None
        card = None
        if parsed is not None:
            card = await self.channel.on_action(turn_context, *parsed)
        if card is None:
            return {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "Done",
            }
        return {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card}

    async def on_invoke_activity(self, turn_context: TurnContext) -> Any:
        from botbuilder.core import InvokeResponse

        if turn_context.activity.name == "adaptiveCard/action":
            return InvokeResponse(status=200, body=await self.on_card_action(turn_context))
        if turn_context.activity.name == "fileConsent/invoke":
            from bot.channels.teams.files import settle_consent

            value = (
                turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
            )
            shown = await settle_consent(value, store=self.channel.runtime.settings.data_dir)
            if shown is not None:
                await turn_context.send_activity(shown)
            return InvokeResponse(status=200)
        return await super().on_invoke_activity(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if (
            activity.conversation is not None
            and activity.conversation.conversation_type == "personal"
        ):
            # Someone new is looked up in the roster and, if they are staff, greeted and their
            # chat remembered; anyone else is told nothing yet (they have written nothing).
            who = await self.channel.who_is(turn_context)
            if isinstance(who, Message):
                return
            await self.channel.remember_if_possible(activity)
            await self.channel.send(turn_context, await self.channel.runtime.runner.opening(who))


class TeamsTransport:
    """The delivery worker's way into Teams: proactive messages through saved references."""

    name = PLATFORM

    def __init__(self, channel: TeamsChannel) -> None:
        self.channel = channel
        # Email -> (Teams user id "29:…", Entra object id) of full members found in a roster.
        self._by_email: dict[str, tuple[str, str]] = {}

    def reaches(self, person: Person) -> bool:
        """Someone with a Teams account on record, or an email Teams may know them by (a lead
        listed by email who has never written to the bot)."""
        return person.teams_user_id is not None or person.email is not None

    def channel_for(self, school: School, purpose: str) -> str | None:
        ref = getattr(school.channels, purpose, None)
        return ref.teams if ref is not None else None

    async def saved_address(self, kind: str, key: str) -> ConversationReference | None:
        """A person's ("person", their Entra object id) or channel's saved address, if any."""
        return await self._reference(kind, key)

    async def _reference(self, kind: str, key: str) -> ConversationReference | None:
        async with self.channel.runtime.db.session() as session:
            stored = await addresses.look_up(
                session, platform=self.channel.address_book, kind=kind, key=key
            )
            if stored is None and kind == "channel":
                stored = await self._channel_from_any(session, key)
        if not stored:
            return None
        self.channel.services.trust(stored.get("serviceUrl"))
        return ConversationReference().deserialize(stored)

    async def _any_address(self, session: AsyncSession) -> dict[str, Any] | None:
        """Some saved address, for its service URL, tenant and bot: a team's channel first
        (where the app is installed for everyone in the team), else anyone's chat."""
        reference = await addresses.any_reference(session, platform=self.channel.address_book)
        if reference is None:
            return None
        self.channel.services.trust(reference.get("serviceUrl"))
        return reference

    async def _channel_from_any(
        self, session: AsyncSession, channel_id: str
    ) -> dict[str, Any] | None:
        """A channel the bot has not heard from yet is reached through its team's service."""
        reference = await self._any_address(session)
        if reference is None:
            return None
        conversation = dict(reference.get("conversation") or {})
        conversation.update(id=channel_id, conversationType="channel", isGroup=True)
        reference["conversation"] = conversation
        reference.pop("activityId", None)
        reference.pop("user", None)
        return reference

    async def _proactive(
        self,
        reference: ConversationReference,
        activity: Activity,
        *,
        update: str | None = None,
    ) -> str:
        result: dict[str, str] = {}
        failures: list[Exception] = []

        async def callback(context: TurnContext) -> None:
            conversation = reference.conversation.id if reference.conversation else ""
            await self.channel.pacer.wait(conversation)
            # Caught here, not left to botbuilder: its pipeline would hand the error to
            # on_turn_error (an apology to someone who sent nothing) and swallow it, so the
            # outbox would mark an undelivered message as delivered.
            try:
                if update:
                    activity.id = update
                    await with_retries(lambda: context.update_activity(activity))
                    result["id"] = update
                else:
                    response = await with_retries(lambda: context.send_activity(activity))
                    result["id"] = getattr(response, "id", "") or ""
            except Exception as exc:
                failures.append(exc)

        await self.channel.adapter.continue_conversation(
            reference, callback, self.channel.settings.app_id or ""
        )
        if failures:
            raise failures[0]
        return result.get("id", "")

    async def _personal_reference(self, key: str) -> ConversationReference | None:
        """The person's 1:1 chat with the bot: the saved one, or one the bot opens now."""
        reference = await self._reference("person", key)
        if reference is None:
            reference = await self._open_personal_chat(key)
        return reference

    async def _open_personal_chat(
        self, key: str, member_id: str | None = None, *, template: dict[str, Any] | None = None
    ) -> ConversationReference | None:
        """Open the 1:1 chat with someone who has never messaged the bot, as Teams allows once
        the app is installed in a team they are in; its address is kept for later, under `key`.
        `member_id` is their Teams user id ("29:…") when known (from a roster), and `template`
        the saved address to open it from (the team they were found in). None when there is
        nowhere to ask yet (not installed anywhere) or Teams will not open it (the person has
        blocked the bot, left the tenant, or the app is not allowed for them)."""
        if template is None:
            async with self.channel.runtime.db.session() as session:
                template = await self._any_address(session)
        service_url = template.get("serviceUrl") if template else None
        tenant = self.channel.settings.tenant_id or (
            (template or {}).get("conversation") or {}
        ).get("tenantId")
        if template is None or not service_url or not tenant:
            log.info("no Teams team or chat known yet to open a private chat from")
            return None
        bot = dict(template.get("bot") or {"id": f"28:{self.channel.settings.app_id or ''}"})
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
            members=[ChannelAccount(id=member_id or key)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created: list[str] = []

        async def opened(context: TurnContext) -> None:
            conversation = context.activity.conversation
            if conversation is not None and conversation.id:
                created.append(str(conversation.id))

        try:
            await with_retries(
                lambda: self.channel.adapter.create_conversation(
                    self.channel.settings.app_id or "",
                    opened,
                    parameters,
                    template.get("channelId") or "msteams",
                    service_url,
                    None,
                )
            )
        except Exception as exc:
            status = status_of(exc)
            if status not in _CANNOT_OPEN:
                raise
            log.warning("Teams would not open a private chat with someone (HTTP %s)", status)
            return None
        if not created:
            return None
        user = {"id": member_id or key}
        if not key.startswith("29:"):
            user["aadObjectId"] = key
        reference = {
            "bot": bot,
            "user": user,
            "conversation": {"id": created[0], "conversationType": "personal", "tenantId": tenant},
            "channelId": template.get("channelId") or "msteams",
            "serviceUrl": service_url,
        }
        async with self.channel.runtime.db.session() as session:
            await addresses.remember(
                session,
                platform=self.channel.address_book,
                kind="person",
                key=key,
                reference=reference,
                now=self.channel.runtime.clock(),
            )
        log.info("opened a private Teams chat with someone who had not messaged the bot")
        return ConversationReference().deserialize(reference)

    async def send_to_address(self, key: str, message: Message) -> bool:
        reference = await self._personal_reference(key)
        if reference is None:
            return False
        for activity in await self.channel.activities_for(message):
            await self._proactive(reference, activity)
        return True

    async def send_to_person(self, person: Person, message: Message) -> bool:
        """Send in the person's 1:1 chat: the saved one, or one opened now, for someone listed
        by email only, after finding them in the roster of a team the app is installed in.
        False when Teams has nobody by that email, or will not open a chat with them."""
        if person.teams_user_id is not None:
            return await self.send_to_address(person.teams_user_id, message)
        found = await self.member_by_email(person.email)
        if found is None:
            return False
        member_id, aad_object_id, template = found
        reference = await self._reference("person", aad_object_id)
        if reference is None:
            reference = await self._open_personal_chat(aad_object_id, member_id, template=template)
        if reference is None:
            return False
        for activity in await self.channel.activities_for(message):
            await self._proactive(reference, activity)
        return True

    async def member_by_email(
        self, email: str | None
    ) -> tuple[str, str, dict[str, Any] | None] | None:
        """(Teams user id, Entra object id, the saved address of the team they were found in)
        of a full member with this email (or user principal name, whatever its case) in the
        roster of a team the app is installed in; None when no such team has them, or only a
        guest account. Found ids are kept for the life of the process; a miss is not (they may
        join a team later)."""
        if not email or "@" not in email:
            return None
        wanted = email.strip().lower()
        if wanted in self._by_email:
            member_id, aad_object_id = self._by_email[wanted]
            return member_id, aad_object_id, None
        for template, team in await self._teams_installed():
            account = await self._find_in_roster(template, team, wanted)
            if account is not None:
                member_id, aad_object_id = str(account.id), str(account.aad_object_id or "")
                if not aad_object_id:
                    continue
                self._by_email[wanted] = (member_id, aad_object_id)
                return member_id, aad_object_id, template
        return None

    async def _teams_installed(self) -> list[tuple[dict[str, Any], str]]:
        """(a saved channel address, the team it is in) for each team the app is installed in
        that the bot has heard from: the team's id when it was saved with the address, else the
        channel's (Teams answers a channel's members APIs with its team's roster)."""
        async with self.channel.runtime.db.session() as session:
            saved = await addresses.channel_references(session, platform=self.channel.address_book)
        teams: dict[tuple[str, str], dict[str, Any]] = {}
        for reference in saved:
            conversation = reference.get("conversation") or {}
            team = str(reference.get("teamId") or conversation.get("id") or "")
            service_url = str(reference.get("serviceUrl") or "")
            if team and service_url:
                teams.setdefault((service_url, team), reference)
        return [(reference, team) for (_, team), reference in teams.items()]

    async def _find_in_roster(
        self, template: dict[str, Any], team: str, wanted: str
    ) -> TeamsChannelAccount | None:
        """Page through a team's members (TeamsInfo.get_paged_team_members) for a full member
        whose email or user principal name is `wanted`."""
        from botbuilder.core.teams import TeamsInfo

        self.channel.services.trust(template.get("serviceUrl"))
        reference = ConversationReference().deserialize(template)
        found: list[TeamsChannelAccount] = []
        failures: list[Exception] = []

        async def page_through(context: TurnContext) -> None:
            token: str | None = None
            try:
                while True:

                    async def one_page(token: str | None = token) -> Any:
                        return await TeamsInfo.get_paged_team_members(
                            context, team, token, _ROSTER_PAGE
                        )

                    page = await with_retries(one_page)
                    for member in page.members or []:
                        account = account_of(member)
                        role = str(account.user_role or "").lower()
                        addresses = {
                            str(value).strip().lower()
                            for value in (account.email, account.user_principal_name)
                            if value
                        }
                        if wanted in addresses and role not in {"guest", "anonymous"}:
                            found.append(account)
                            return
                    token = page.continuation_token
                    if not token:
                        return
            except Exception as exc:
                failures.append(exc)

        await self.channel.adapter.continue_conversation(
            reference, page_through, self.channel.settings.app_id or ""
        )
        if failures:
            raise failures[0]
        return found[0] if found else None

    async def personal_chat(self, person: Person) -> ConversationReference | None:
        """The person's 1:1 chat with the bot: where they have talked to it or installed it, or
        a new one when the bot may open it."""
        if person.teams_user_id is None:
            return None
        return await self._personal_reference(person.teams_user_id)

    async def send_card_to_person(self, person: Person, card: dict[str, Any]) -> bool:
        if person.teams_user_id is None:
            return False
        reference = await self._reference("person", person.teams_user_id)
        if reference is None:
            return False
        await self._proactive(reference, MessageFactory.attachment(CardFactory.adaptive_card(card)))
        return True

    async def offer_file(self, person: Person, pack: Path, message: Message) -> bool:
        """Send an exported pack to the lead's private chat, as a file they must accept."""
        from bot.channels.teams.files import pack_card

        if person.teams_user_id is None:
            return False
        reference = await self._reference("person", person.teams_user_id)
        if reference is None:
            return False
        await self._proactive(
            reference, pack_card(pack, message, store=self.channel.runtime.settings.data_dir)
        )
        return True

    async def post_to_channel(
        self, channel_ref: str, message: Message, *, replace: str | None, alert: Alert = NO_ALERT
    ) -> str | None:
        reference = await self._reference("channel", channel_ref)
        if reference is None:
            return None  # the bot has not been added to that team yet
        mention = [(p.teams_user_id, p.name) for p in alert.people if p.teams_user_id]
        if replace:
            _, _, activity_id = replace.rpartition("|")
            try:
                await self._proactive(
                    reference,
                    self.channel.activity_for(message, mention=mention),
                    update=activity_id,
                )
                return replace
            except Exception as exc:
                if status_of(exc) != 404:
                    raise
                # Someone deleted the earlier card: post it afresh, or every later change to
                # the case or request would fail the same way and nobody would see it.
                log.info("the earlier card in %s is gone; posting a new one", channel_ref)
        sent = await self._proactive(reference, self.channel.activity_for(message, mention=mention))
        return f"{channel_ref}|{sent}"


# Members asked for at once when paging through a team's roster (Teams allows up to 500).
_ROSTER_PAGE = 200

# What Teams answers when it will not open a 1:1 chat with that person: retrying at once will
# not change its mind (throttling and outages are retried; they raise).
_CANNOT_OPEN = frozenset({400, 403, 404})


def _fingerprint(reference: dict[str, Any]) -> str:
    """An address as far as reaching it goes: which message it came with does not matter."""
    return json.dumps({k: v for k, v in reference.items() if k != "activityId"}, sort_keys=True)


def _delivery_of(activity: Activity) -> str:
    """The activity's id, which Teams sends again with a retried delivery; without one
    (never from Teams itself), every delivery counts as new."""
    return str(activity.id or uuid.uuid4().hex)


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _stamp(card: dict[str, Any], question: str) -> None:
    """Carry the question and each button's label in its data, so that the card shown after an
    answer can say what was asked and chosen (Teams sends back only the data)."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if node.get("type") in ("Action.Execute", "Action.Submit") and isinstance(data, dict):
                data.setdefault("q", question)
                data.setdefault("label", node.get("title", ""))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(card)


def _channel_id(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = data.get("channel") or {}
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if channel_id:
        return str(channel_id)
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type == "channel" and conversation.id:
        return str(conversation.id).split(";", 1)[0]
    return None


def _is_file(attachment: Any) -> bool:
    content_type = str(getattr(attachment, "content_type", "") or "")
    return content_type == FILE_DOWNLOAD_INFO or content_type.startswith("image/")


def _same_host(url: str, service_url: str | None) -> bool:
    return bool(service_url) and urlsplit(url).netloc == urlsplit(service_url or "").netloc
