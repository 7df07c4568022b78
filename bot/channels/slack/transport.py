"""Sending policybot's messages through Slack: direct messages, channel posts, replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.shared_files import FileContent, unreadable_notice
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.render import fallback_text, mentions, to_blocks
from bot.channels.slack.web import failure_of
from dialogs.services.messages import ImageRef, Message
from dialogs.services.outbox import NO_ALERT, Alert
from dialogs.services.people.directory import AccountKind, DirectoryUnavailable
from dialogs.services.school.schools import Person, School

log = logging.getLogger(__name__)

# conversations.open's answers for a person who cannot have a DM with the bot at all.
_CANNOT_DM = frozenset({"user_not_found", "user_not_visible", "user_disabled", "cannot_dm_bot"})


class SlackTransport:
    """The delivery worker's way into Slack (see dialogs.services.outbox.Transport)."""

    name = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        read_files: Callable[[Sequence[ImageRef]], Awaitable[list[FileContent]]],
    ) -> None:
        self.client = client
        self.read_files = read_files
        self._dm_channels: dict[str, str] = {}
        self._by_email: dict[str, str] = {}

    def reaches(self, person: Person) -> bool:
        """Someone with a Slack account on record, or an email Slack may know them by (a lead
        listed by email who has never written to the bot)."""
        return person.slack_user_id is not None or person.email is not None

    def channel_for(self, school: School, purpose: str) -> str | None:
        ref = getattr(school.channels, purpose, None)
        return ref.slack if ref is not None else None

    async def dm_channel(self, user_id: str) -> str:
        if user_id not in self._dm_channels:
            response = await self.client.conversations_open(users=user_id)
            channel = response["channel"]["id"]
            assert isinstance(channel, str)
            self._dm_channels[user_id] = channel
        return self._dm_channels[user_id]

    async def send_to_person(self, person: Person, message: Message) -> bool:
        """Send in the person's DM; False when Slack will not open one with them (their account
        is deactivated or gone, or is a bot's), which no retry soon would change."""
        try:
            user_id = person.slack_user_id or await self.user_by_email(person.email)
            if user_id is None:
                return False
            channel = await self.dm_channel(user_id)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in _CANNOT_DM:
                raise
            log.warning("Slack would not open a DM with someone: %s", error)
            return False
        await self.post(channel, [message])
        return True

    async def user_by_email(self, email: str | None) -> str | None:
        """The Slack member id of a full member of the workspace with this email
        (users.lookupByEmail), or None when Slack has nobody, or only a guest, bot or
        deactivated account, by it. An id found is kept for the life of the process; a
        failure to ask is raised, so the delivery is retried."""
        if not email:
            return None
        wanted = email.strip().lower()
        if wanted in self._by_email:
            return self._by_email[wanted]
        try:
            profile = await SlackDirectory(self.client).by_email(wanted)
        except DirectoryUnavailable as exc:
            raise exc.__cause__ or exc from None
        if profile is None or profile.kind is not AccountKind.MEMBER:
            return None  # not kept: they may join Slack later
        self._by_email[wanted] = profile.user_id
        return profile.user_id

    async def post(
        self, channel: str, messages: Sequence[Message], *, mention: str | None = None
    ) -> list[str]:
        """Post each message in order, with any files it hands over; returns their timestamps.
        `mention` (see render.mentions) alerts people in a channel."""
        stamps = []
        for message in messages:
            response = await self.client.chat_postMessage(
                channel=channel,
                text=fallback_text(message, mention=mention),
                blocks=to_blocks(message, mention=mention),
            )
            stamps.append(str(response["ts"]))
            if message.files:
                await self._upload(channel, message.files)
        return stamps

    async def _upload(self, channel: str, refs: Sequence[ImageRef]) -> None:
        files = await self.read_files(refs)
        uploads = [
            {"content": f.data, "filename": f.ref.name, "title": f.ref.name}
            for f in files
            if f.data is not None
        ]
        if uploads:
            await self.client.files_upload_v2(channel=channel, file_uploads=uploads)
        notice = unreadable_notice(files)
        if notice is not None:
            await self.client.chat_postMessage(
                channel=channel, text=fallback_text(notice), blocks=to_blocks(notice)
            )

    async def post_to_channel(
        self, channel_ref: str, message: Message, *, replace: str | None, alert: Alert = NO_ALERT
    ) -> str:
        mention = (
            mentions(
                [p.slack_user_id for p in alert.people if p.slack_user_id],
                group=alert.channel.slack_group,
            )
            if alert.people
            else None
        )
        if replace is not None:
            channel, _, ts = replace.partition(":")
            try:
                await self.client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=fallback_text(message, mention=mention),
                    blocks=to_blocks(message, mention=mention),
                )
                return replace
            except SlackApiError as exc:
                if failure_of(exc) != "message_not_found":
                    raise
                # Someone deleted the earlier card: post it afresh, or every later change to
                # the case or request would fail the same way and nobody would see it.
                log.info("the earlier card in %s is gone; posting a new one", channel_ref)
        (ts,) = await self.post(channel_ref, [message], mention=mention)
        return f"{channel_ref}:{ts}"

    async def ephemeral(self, channel: str, user: str, message: Message) -> None:
        await self.client.chat_postEphemeral(
            channel=channel, user=user, text=fallback_text(message), blocks=to_blocks(message)
        )

    async def update(self, channel: str, ts: str, blocks: list[dict[str, Any]], text: str) -> None:
        await self.client.chat_update(channel=channel, ts=ts, blocks=blocks, text=text)
