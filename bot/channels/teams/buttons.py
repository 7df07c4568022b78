"""Buttons on cards in a school's channels (the safeguarding channel's case cards, approvals,
moderators): translated to the neutral actions (dialogs.case_actions, the turn runner), with
every answer in the presser's private chat, never in the channel."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.channels.teams import address_book, cards, identity, sending
from bot.channels.teams.delivery import with_retries
from bot.channels.teams.directory import channel_of
from dialogs import case_actions
from dialogs.case_actions import Declined, FormWanted
from dialogs.inbox import Who
from dialogs.services.cases.card import CaseButtonValue, CaseVerb, next_statuses
from dialogs.services.errors import FormField
from dialogs.services.messages import Message, MessageKind, UserInput
from dialogs.services.people.directory import Found
from dialogs.services.school.schools import Person, School
from storage.conversations import ConversationKey

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection

log = logging.getLogger(__name__)


_CHANNEL_REFUSALS = {
    "approvals": "Only the school's approvers can act on post requests here. Nothing has been "
    "changed.",
    "moderators": "Only the school's moderators can answer comments here. Nothing has been "
    "changed.",
}


async def _actor(
    channel: TeamsConnection, context: TurnContext, purpose: str = "safeguarding"
) -> tuple[School, Person] | None:
    """Who pressed a button on a card in one of a school's channels: a lead or approver
    listed by email may never have written to the bot, so they are looked up in the team's
    roster like anyone new."""
    activity = context.activity
    channel_id = channel_of(activity)
    school = channel.runtime.directory.by_teams_channel(channel_id, purpose) if channel_id else None
    if school is None:
        return None
    identified = await identity.identify(channel, context)
    if isinstance(identified, Found) and identified.school.id == school.id:
        return identified.school, identified.person
    return identity.person_of(channel, activity, school)


async def on_channel_button(
    channel: TeamsConnection, context: TurnContext, value: str, purpose: str
) -> None:
    """A button on a card in the approvals or moderators channel: acted on as the person
    who pressed it, with every reply (and any question, such as a reason) in their private
    chat. Whether they may act is checked by the services, as for a typed command."""
    activity = context.activity
    actor = await _actor(channel, context, purpose)
    if actor is None:
        refused = Message(kind=MessageKind.HINT, text=_CHANNEL_REFUSALS[purpose])
        await tell_privately(channel, context, None, refused)
        return
    school, person = actor
    reference = await channel.transport.personal_chat(person)
    if reference is None or reference.user is None or reference.conversation is None:
        await sending.send(
            channel,
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
        key=ConversationKey(
            address_book.PLATFORM, str(reference.user.id), str(reference.conversation.id)
        ),
    )
    delivery = f"{activity.id or ''}:{activity.reply_to_id or ''}:{value}"
    replies = await channel.runtime.runner.handle(who, UserInput(value=value), delivery_id=delivery)
    for reply in replies:
        await channel.transport.send_to_person(person, reply)


async def on_case_button(
    channel: TeamsConnection, context: TurnContext, button: CaseButtonValue
) -> None:
    actor = await _actor(channel, context)
    person = actor[1] if actor else None
    activity = context.activity
    # One press is acted on once: the same activity sent again (a replay) changes nothing
    # and, for an export, offers no second pack.
    delivery = f"button:{_delivery_of(activity)}:{activity.reply_to_id or ''}:{button.encode()}"
    async with case_actions.press(
        channel.runtime.unit_of_work,
        button,
        actor,
        source=address_book.PLATFORM,
        delivery_id=delivery,
    ) as pressed:
        if isinstance(pressed, Declined):
            await tell_privately(channel, context, person, pressed.message)
            return
        if isinstance(pressed, FormWanted):
            assert person is not None
            await _send_form(channel, context, person, pressed)
            return
        if pressed is None:
            return
        assert person is not None
        if pressed.pack is not None:
            await channel.transport.offer_file(person, pressed.pack, pressed.message)
        else:
            await channel.transport.send_to_person(person, pressed.message)


async def _send_form(
    channel: TeamsConnection, context: TurnContext, person: Person, form: FormWanted
) -> None:
    """The form goes to the handler's private chat, never into the channel."""
    statuses = [(s.value, s.value.title()) for s in next_statuses(form.case)]
    card = cards.case_form_card(
        verb=form.verb.value,
        reference=form.case.reference,
        statuses=statuses if form.verb is CaseVerb.STATUS else None,
    )
    if not await channel.transport.send_card_to_person(person, card):
        await sending.send(
            channel,
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


async def on_case_form(
    channel: TeamsConnection, context: TurnContext, data: dict[str, Any]
) -> None:
    try:
        verb = CaseVerb(str(data.get("verb")))
    except ValueError:
        return
    identified = await identity.identify(channel, context)
    actor = (identified.school, identified.person) if isinstance(identified, Found) else None
    # Claimed in the action's own transaction: a replay of this invoke changes nothing,
    # and a form refused (rolled back) can still be sent again.
    outcome = await case_actions.submit(
        channel.runtime.unit_of_work,
        actor,
        source=address_book.PLATFORM,
        delivery_id=f"case-form:{_delivery_of(context.activity)}",
        verb=verb,
        reference=str(data.get("reference") or ""),
        text=_str(data.get("text")),
        status=_str(data.get("status")),
        outcome=_str(data.get("outcome")),
        handlers_only=True,
    )
    if isinstance(outcome, Declined):
        if outcome.field is not None and actor is not None:
            await _show_on_form(channel, context, actor, verb, data, outcome)
        await sending.send(channel, context, [outcome.message])  # the form keeps what they wrote
        return
    if outcome is None:
        return  # a replay of a form already acted on
    await sending.send(channel, context, [outcome.message])


async def _show_on_form(
    channel: TeamsConnection,
    context: TurnContext,
    actor: tuple[School, Person],
    verb: CaseVerb,
    data: dict[str, Any],
    refused: Declined,
) -> None:
    """The form pressed, shown again with the refusal beside the input it is about and what
    was typed kept. Best effort: the refusal is also said in the chat."""
    reply_to = context.activity.reply_to_id
    assert refused.field is not None
    if not reply_to:
        return
    wanted = await case_actions.form(
        channel.runtime.unit_of_work, actor, verb, str(data.get("reference") or "")
    )
    if not isinstance(wanted, FormWanted):
        return
    statuses = [(s.value, s.value.title()) for s in next_statuses(wanted.case)]
    card = cards.case_form_card(
        verb=verb.value,
        reference=wanted.case.reference,
        statuses=statuses if verb is CaseVerb.STATUS else None,
        problem=(_FIELD_INPUT[refused.field], refused.message.text),
        values={k: str(data[k]) for k in ("text", "status", "outcome") if _str(data.get(k))},
    )
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.id = reply_to
    try:
        await with_retries(lambda: context.update_activity(activity))
    except Exception as exc:  # the chat still has the refusal
        log.warning("could not show a refusal on a Teams form: %s", type(exc).__name__)


async def tell_privately(
    channel: TeamsConnection, context: TurnContext, person: Person | None, message: Message | None
) -> None:
    """Teams has no private replies in a channel: answer in the person's 1:1 chat when the
    bot can, and never in the channel itself."""
    if message is None:
        message = Message(kind=MessageKind.INFO, text="I've sent you a form in our private chat.")
    try:
        if person is not None and await channel.transport.send_to_person(person, message):
            return
        sender = context.activity.from_property
        if sender is not None and await channel.transport.send_to_address(
            str(sender.aad_object_id or sender.id), message
        ):
            return
    except Exception as exc:  # Teams refused; still never fall back to the channel
        log.warning("could not reach someone privately in Teams: %s", type(exc).__name__)
        return
    log.info("could not reach someone privately in Teams; they have not chatted with the bot")


# Where a form's refusal is shown: the input of the form (cards.case_form_card) that holds
# the field it is about.
_FIELD_INPUT = {
    FormField.NOTE: "text",
    FormField.QUESTION: "text",
    FormField.REASON: "text",
    FormField.STATUS: "status",
    FormField.OUTCOME: "outcome",
}


def _delivery_of(activity: Activity) -> str:
    """The activity's id, which Teams sends again with a retried delivery; without one
    (never from Teams itself), every delivery counts as new."""
    return str(activity.id or uuid.uuid4().hex)


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
