"""Where each person and served channel can be reached in Teams, saved whenever they talk to the
bot or install it: what lets the bot tell a reporter about their case days later, after restarts.

Only authenticated activities are saved as addresses with credentials. The local development
mode (dev_mode.py) keeps its addresses apart, under DEV_ADDRESS_BOOK: what an unauthenticated
request said is never used by a server with credentials, even on the same database.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.channels.teams import identity
from bot.channels.teams.activity_json import as_json
from bot.channels.teams.connection import DEV_ADDRESS_BOOK as DEV_ADDRESS_BOOK
from bot.channels.teams.connection import PLATFORM as PLATFORM
from bot.channels.teams.directory import channel_of, team_of, tenant_of
from storage import addresses
from storage.db import is_unavailable

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection

log = logging.getLogger(__name__)


async def remember(channel: TeamsConnection, activity: Activity) -> None:
    """Keep where to reach each person and served channel, for messages sent later.

    Only what changed is written: the same person in the same chat sends the same address
    every time, and writing it on every message was a transaction per message.
    """
    writes = [
        (kind, key, reference)
        for kind, key, reference in _addresses_in(channel, activity)
        if channel._remembered.get((kind, key)) != _fingerprint(reference)
    ]
    if not writes:
        return
    now = channel.runtime.clock()
    async with channel.runtime.db.session() as session:
        for kind, key, reference in writes:
            await addresses.remember(
                session,
                platform=channel.address_book,
                kind=kind,
                key=key,
                reference=reference,
                now=now,
            )
    if len(channel._remembered) > 50_000:
        channel._remembered.clear()
    for kind, key, reference in writes:
        channel._remembered[(kind, key)] = _fingerprint(reference)


async def remember_if_possible(channel: TeamsConnection, activity: Activity) -> None:
    try:
        await remember(channel, activity)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # The address is kept from an earlier visit; the message itself must not wait on
        # it, and goes on to the journal.
        log.warning("Teams address not saved: the database is unavailable")


def _addresses_in(
    channel: TeamsConnection, activity: Activity
) -> list[tuple[str, str, dict[str, Any]]]:
    serialised = as_json(TurnContext.get_conversation_reference(activity))
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
    known = identity.person_of(channel, activity) is not None
    if known and conversation is not None and conversation.conversation_type == "personal":
        for key in {sender.aad_object_id, sender.id} - {None} if sender else set():
            found.append(("person", str(key), serialised))
    channel_id = channel_of(activity)
    directory = channel.runtime.directory
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
            # never written to the bot (proactive.TeamsTransport.member_by_email).
            channel_reference["teamId"] = team
        found.append(("channel", channel_id, channel_reference))
    return found


def _fingerprint(reference: dict[str, Any]) -> str:
    """An address as far as reaching it goes: which message it came with does not matter."""
    return json.dumps({k: v for k, v in reference.items() if k != "activityId"}, sort_keys=True)
