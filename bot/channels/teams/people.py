"""Teams' directory outside any turn: for `policybot people sync|check` and the daily sync.

Why: a leaver who never writes again must still lose their roles, and a lead listed by email
must be reachable before they ever write; in Teams both need the Bot Connector, which the bot
reaches only through an address it has saved. So:

- whether someone learned is still a member is asked through their own saved 1:1 chat (the
  chat's members API, as TeamsDirectory asks it in a turn): Teams answers 404 once they are
  gone from the tenant. Someone with no saved chat cannot be asked (counted as not asked,
  never as gone). A team's roster is never used to decide that someone has left: the app may
  be installed only in the leads' own team, and everyone else would seem gone.
- someone listed by email is looked for in the roster of each team the app is installed in
  (TeamsTransport.member_by_email), guests left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.channels.teams import identity
from dialogs.services.people.directory import AccountKind, DirectoryUnavailable, Profile

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection


class TeamsPeople:
    """PlatformDirectory and EmailDirectory (dialogs.services.people.directory) for Teams."""

    def __init__(self, channel: TeamsConnection) -> None:
        self.channel = channel

    async def profile(self, user_id: str) -> Profile | None:
        """`user_id` is the Entra object id; asked through the person's saved 1:1 chat."""
        reference = await self.channel.transport.saved_address("person", user_id)
        if reference is None:
            raise DirectoryUnavailable("no saved chat with them to ask through")
        # The activity the person would have sent in that chat: who they are, and where.
        activity = Activity(
            type="message",
            channel_id=reference.channel_id,
            service_url=reference.service_url,
            conversation=reference.conversation,
            from_property=reference.user,
            recipient=reference.bot,
        )
        found: list[Profile | None] = []
        failures: list[Exception] = []

        async def ask(context: TurnContext) -> None:
            try:
                lookup = identity.directory_for(self.channel, context, activity)
                found.append(await lookup.profile(user_id))
            except Exception as exc:  # raised below, not left to the adapter's error handler
                failures.append(exc)

        try:
            await self.channel.adapter.continue_conversation(
                reference, ask, self.channel.settings.app_id or ""
            )
        except Exception as exc:
            raise DirectoryUnavailable(type(exc).__name__) from exc
        if failures:
            if isinstance(failures[0], DirectoryUnavailable):
                raise failures[0]
            raise DirectoryUnavailable(type(failures[0]).__name__) from failures[0]
        return found[0] if found else None

    async def by_email(self, email: str) -> Profile | None:
        """A full member of a team the app is installed in with this email, or None."""
        try:
            member = await self.channel.transport.member_by_email(email)
        except Exception as exc:
            raise DirectoryUnavailable(type(exc).__name__) from exc
        if member is None:
            return None
        _, aad_object_id, template = member
        return Profile(
            platform="teams",
            user_id=aad_object_id,
            name="",  # the listing's name is used for someone listed
            email=email.strip().lower(),
            workspace=_tenant_of(template) or self.channel.settings.tenant_id,
            kind=AccountKind.MEMBER,
        )


def _tenant_of(reference: dict[str, Any] | None) -> str | None:
    conversation = (reference or {}).get("conversation") or {}
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    return str(tenant) if tenant else None
