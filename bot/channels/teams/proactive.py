"""Reaching people outside a turn: the delivery worker's way into Teams, through saved
conversation references, a team's roster, or a newly opened 1:1 chat."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botbuilder.schema.teams import TeamsChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.teams import address_book, sending
from bot.channels.teams.delivery import status_of, with_retries
from bot.channels.teams.directory import account_of
from dialogs.services.messages import Message
from dialogs.services.outbox import NO_ALERT, Alert
from dialogs.services.school.schools import Person, School
from storage import addresses

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection

log = logging.getLogger(__name__)


class TeamsTransport:
    """The delivery worker's way into Teams: proactive messages through saved references."""

    name = address_book.PLATFORM

    def __init__(self, channel: TeamsConnection) -> None:
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
        for activity in await sending.activities_for(self.channel, message):
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
        for activity in await sending.activities_for(self.channel, message):
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
                    sending.activity_for(self.channel, message, mention=mention),
                    update=activity_id,
                )
                return replace
            except Exception as exc:
                if status_of(exc) != 404:
                    raise
                # Someone deleted the earlier card: post it afresh, or every later change to
                # the case or request would fail the same way and nobody would see it.
                log.info("the earlier card in %s is gone; posting a new one", channel_ref)
        sent = await self._proactive(
            reference, sending.activity_for(self.channel, message, mention=mention)
        )
        return f"{channel_ref}|{sent}"


# Members asked for at once when paging through a team's roster (Teams allows up to 500).
_ROSTER_PAGE = 200


# What Teams answers when it will not open a 1:1 chat with that person: retrying at once will
# not change its mind (throttling and outages are retried; they raise).
_CANNOT_OPEN = frozenset({400, 403, 404})
