"""Someone the bot does not know yet: what they wrote is held before Teams is answered, who they
are is asked of Teams after, and then what they wrote is taken, or they are told why not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, Attachment

from bot.channels.teams import address_book, identity, sending, turns
from dialogs.inbox import Who
from dialogs.not_staff import (
    StaffButtonValue,
    keeps_message,
    not_staff_message,
    school_chosen_message,
)
from dialogs.services.messages import UserInput
from dialogs.services.people import held_messages
from dialogs.services.people.directory import (
    DirectoryUnavailable,
    Found,
    Identified,
    Refusal,
    Refused,
)
from storage.conversations import ConversationKey

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection


async def hold(
    channel: TeamsConnection, activity: Activity, text: str, attachments: Sequence[Any]
) -> None:
    """Keep what someone new wrote, before Teams is answered; who they are is asked of
    Teams after (the roster could take longer than Teams waits)."""
    account = identity.staff_account(channel, activity)
    if account is None or activity.conversation is None:
        return
    async with channel.runtime.db.session() as session:
        await held_messages.hold(
            session,
            platform=address_book.PLATFORM,
            user_id=account,
            conversation=str(activity.conversation.id),
            text=text,
            files=[a.serialize() for a in attachments],
            delivery_id=str(activity.id) if activity.id else None,
            now=channel.runtime.clock(),
        )
    channel.runtime.runner.in_background(_first_contact(channel, activity))


async def _first_contact(channel: TeamsConnection, activity: Activity) -> None:
    """After Teams has its answer: who someone the bot did not know is, and then what they
    wrote (held until now), taken in order as their first turns; or, if they cannot be
    taken as staff, why, and what they wrote is kept only if they may yet be."""
    account = identity.staff_account(channel, activity)
    assert account is not None
    assert activity.conversation is not None
    runtime = channel.runtime
    reference = TurnContext.get_conversation_reference(activity)
    async with channel._first_contacts.hold(account):
        outcome: list[Identified] = []
        failures: list[Exception] = []

        async def ask(context: TurnContext) -> None:
            # Caught here, not left to botbuilder, which would apologise for a failed turn
            # to someone whose message is safely held.
            try:
                identified = await identity.identify(channel, context, activity)
                outcome.append(identified)
                if isinstance(identified, Found):
                    return
                if not keeps_message(identified):
                    async with runtime.db.session() as session:
                        for row in await held_messages.held_for(
                            session, address_book.PLATFORM, account
                        ):
                            assert row.id is not None
                            await held_messages.let_go(session, row.id)
                await sending.send(channel, context, [not_staff_message(identified, "Teams")])
            except Exception as exc:
                failures.append(exc)

        await channel.adapter.continue_conversation(reference, ask, channel.settings.app_id or "")
        if failures:
            raise failures[0]
        if not outcome or not isinstance(outcome[0], Found):
            return
        await _take_held(channel, activity, account, outcome[0])


async def _take_held(
    channel: TeamsConnection, activity: Activity, account: str, found: Found
) -> None:
    """What someone wrote before they were known, taken in order as their first turns."""
    assert activity.conversation is not None
    assert activity.from_property is not None
    runtime = channel.runtime
    async with runtime.db.session() as session:
        held = await held_messages.held_for(session, address_book.PLATFORM, account)
    who = Who(
        person=found.person,
        school=found.school,
        key=ConversationKey(
            address_book.PLATFORM, str(activity.from_property.id), str(activity.conversation.id)
        ),
    )
    for row in held:
        assert row.id is not None
        attachments = [Attachment().deserialize(f) for f in row.files or [] if isinstance(f, dict)]
        delivery_id = row.delivery_id or f"held:{row.id}"
        await turns.admit(
            channel, activity, who, UserInput(text=row.text), delivery_id, attachments
        )
        async with runtime.db.session() as session:
            await held_messages.let_go(session, row.id)


async def chose_school(
    channel: TeamsConnection, context: TurnContext, choice: StaffButtonValue
) -> None:
    """Someone whose email fits several schools pressed the one they work at (first, or
    after "change school"): recorded, and what they wrote before, if anything, is taken."""
    activity = context.activity
    account = identity.staff_account(channel, activity)
    if account is None:
        return
    runtime = channel.runtime
    school = runtime.directory.school(choice.reference)
    async with channel._first_contacts.hold(account):
        identified: Identified
        try:
            profile = await identity.directory_for(channel, context, activity).profile(account)
        except DirectoryUnavailable:
            identified = Refused(Refusal.UNAVAILABLE)
        else:
            identified = await runtime.staff.learn(
                runtime.db.session,
                address_book.PLATFORM,
                account,
                profile,
                runtime.clock(),
                school=school,
            )
        if not isinstance(identified, Found):
            await sending.send(channel, context, [not_staff_message(identified, "Teams")])
            return
        await sending.send(channel, context, [school_chosen_message(identified.school)])
        await _take_held(channel, activity, account, identified)
