"""Teams' directory of people, as the staff directory asks it (staff_directory.PlatformDirectory).

A member of a team or a 1:1 chat is asked of the Bot Connector, as `TeamsInfo.get_member` does:
in a team, `GET /v3/conversations/{team id}/members/{id}` (the team's roster: someone removed
from the team is not found), in a personal chat the chat's own members API. The answer is a
TeamsChannelAccount: the person's name, their email (or, when Teams gives none, their user
principal name, which in a school's tenant is their sign-in address), their Entra object id and
tenant, and `userRole`, which is "guest" for an Entra B2B guest and "anonymous" for someone who
joined a meeting without an account; both are taken as guests.

TeamsInfo itself is not called: it reads the team from the turn's activity, and the bot asks
after Teams has been answered, from a continued turn whose activity carries no channelData. So
the conversation and team are taken from the activity the person sent, and the turn gives only
its connector client (with the bot's credentials for that service URL).

Not found (404, Teams' "member not found") means the account is not in the team or chat any
more, or never was: None, which the staff directory turns into "left" for someone it knew and
"outside" for anyone else. The connector client itself tries a 5xx answer again three times
(msrest's retry policy); throttling (429, which it does not retry) and brief outages are retried
as every Teams call is (delivery.with_retries, honouring Retry-After), within
ASK_WITHIN_SECONDS. What still fails, or a network error, is an outage (DirectoryUnavailable),
which never stops someone already known.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from botbuilder.schema.teams import TeamsChannelAccount

from bot.channels.teams.delivery import status_of, with_retries
from dialogs.services.people.directory import AccountKind, DirectoryUnavailable, Profile

log = logging.getLogger(__name__)

# What Teams answers for an account that is not (or no longer) in the team, chat or tenant.
# Nothing else counts: a 403 (the bot itself removed from the team, say) says nothing about the
# person, and taking it as "gone" would lock out everyone at once.
_NOT_FOUND = frozenset({404})
# userRole values that are not one of the tenant's own accounts.
_GUEST_ROLES = frozenset({"guest", "anonymous"})
# How long one look-up may take, retries included: the person, or Teams, is waiting.
ASK_WITHIN_SECONDS = 10.0


def team_of(activity: Activity) -> str | None:
    """The team a channel activity came from (channelData.team.id)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team") or {}
    found = team.get("id") if isinstance(team, dict) else None
    return str(found) if found else None


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant of the activity (channelData.tenant.id, else conversation.tenantId)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") or {}
    found = tenant.get("id") if isinstance(tenant, dict) else None
    if not found and activity.conversation is not None:
        found = activity.conversation.tenant_id
    return str(found) if found else None


def channel_of(activity: Activity) -> str | None:
    """The channel an activity came from, without the thread ("19:…;messageid=…")."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = data.get("channel") or {}
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if channel_id:
        return str(channel_id)
    conversation = activity.conversation
    if conversation is not None and conversation.conversation_type == "channel" and conversation.id:
        return str(conversation.id).split(";", 1)[0]
    return None


def account_of(member: Any) -> TeamsChannelAccount:
    """A connector ChannelAccount as the TeamsChannelAccount it is on the wire (its Teams
    fields arrive as additional properties), as TeamsInfo builds it."""
    if isinstance(member, TeamsChannelAccount):
        return member
    extra = getattr(member, "additional_properties", None) or {}
    return TeamsChannelAccount().deserialize(dict(member.serialize(), **extra))


def email_of(account: TeamsChannelAccount) -> str | None:
    """The account's email, or its user principal name when Teams gives no email; lowercased."""
    for value in (account.email, account.user_principal_name):
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None


def profile_of(account: TeamsChannelAccount, tenant: str | None) -> Profile:
    role = str(account.user_role or "").strip().lower()
    return Profile(
        platform="teams",
        user_id=str(account.aad_object_id or account.id or ""),
        name=str(account.name or "").strip()[:120],
        email=email_of(account),
        workspace=str(account.tenant_id or tenant or "") or None,
        kind=AccountKind.GUEST if role in _GUEST_ROLES else AccountKind.MEMBER,
    )


def connector_of(context: TurnContext) -> Any:
    """The Bot Connector client of a turn (set by the adapter for every turn it runs)."""
    client = context.turn_state.get(context.adapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is None:
        raise DirectoryUnavailable("no connector client in this turn")
    return client


class TeamsDirectory:
    """The members of the team or chat an activity came from, asked through a turn's connector
    client. Built for each activity: which roster to ask depends on where the person wrote."""

    def __init__(
        self,
        context: TurnContext,
        activity: Activity | None = None,
        *,
        staff_teams: tuple[str, ...] = (),
    ) -> None:
        """`staff_teams`: the teams whose members are staff (Membership.teams_teams), asked
        instead of the team or chat the activity came from when a school names them."""
        self._context = context
        self._activity = activity or context.activity
        self._staff_teams = staff_teams

    async def profile(self, user_id: str) -> Profile | None:
        """`user_id` is the Entra object id; Teams is asked by the "29:" id the activity
        carries for that person when it has one (either is accepted)."""
        activity = self._activity
        sender = activity.from_property
        member_id = user_id
        if sender is not None and sender.id and sender.aad_object_id == user_id:
            member_id = str(sender.id)
        conversation = team_of(activity) or (
            activity.conversation.id if activity.conversation is not None else None
        )
        asked = self._staff_teams or ((conversation,) if conversation else ())
        if not asked:
            raise DirectoryUnavailable("no team or chat to ask")
        for where in asked:
            member = await self._member(str(where), member_id)
            if member is not None:
                return profile_of(account_of(member), tenant_of(activity))
        return None

    async def _member(self, conversation: str, member_id: str) -> Any:
        """The member of a team or chat, or None when it does not have them (404)."""
        connector = connector_of(self._context)

        async def ask() -> Any:
            return await connector.conversations.get_conversation_member(conversation, member_id)

        try:
            async with asyncio.timeout(ASK_WITHIN_SECONDS):
                return await with_retries(ask, attempts=3, base_delay=0.25)
        except Exception as exc:
            status = status_of(exc)
            if status in _NOT_FOUND:
                return None
            log.warning("Teams member look-up failed: %s (HTTP %s)", type(exc).__name__, status)
            raise DirectoryUnavailable(f"Teams answered {status or type(exc).__name__}") from exc
