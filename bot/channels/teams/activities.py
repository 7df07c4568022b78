"""Inbound activities: messages, card presses and invokes, routed to what handles them.

Messages and presses in a personal chat are journaled and answered before their turn is taken
(turns.admit); in a channel, only card buttons are acted on, and reports are never taken there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.channels.teams import (
    address_book,
    buttons,
    cards,
    first_contact,
    identity,
    incoming_files,
    sending,
    turns,
)
from dialogs.not_staff import StaffButtonValue, asks_to_change_school, change_school_message
from dialogs.services.cases.card import CaseButtonValue
from dialogs.services.comments.card import CommentButtonValue
from dialogs.services.messages import Message, MessageKind, UserInput
from dialogs.services.posts.card import PostButtonValue

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection


_PRIVATE_ONLY = Message(
    kind=MessageKind.INFO,
    text="Please talk to me in a private chat: reports are confidential.",
)


def _answered_first(activity: Activity) -> bool:
    """Messages and button presses in a personal chat are journaled and answered before their
    turn is taken (turns.admit), and their address is saved with the turn."""
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


async def on_message(channel: TeamsConnection, context: TurnContext) -> None:
    activity = context.activity
    if isinstance(activity.value, dict) and cards.action_data(activity.value) is not None:
        verb, data = cards.action_data(activity.value) or ("", {})
        await on_action(channel, context, verb, data)
        return
    conversation = activity.conversation
    if conversation is None or conversation.conversation_type != "personal":
        await sending.send(channel, context, [_PRIVATE_ONLY])
        return
    text = _plain_text(activity)
    attachments = [a for a in activity.attachments or [] if incoming_files.is_file(a)]
    if not text and not attachments:
        return
    if not identity.is_known(channel, activity):
        await first_contact.hold(channel, activity, text, attachments)
        return
    who = await identity.who_is(channel, context)
    if isinstance(who, Message):
        await sending.send(channel, context, [who])
        return
    if asks_to_change_school(text):
        schools = channel.runtime.staff.schools_for(who.person)
        await sending.send(channel, context, [change_school_message(who.school, schools)])
        return
    await turns.admit(channel, activity, who, UserInput(text=text), activity.id, attachments)


async def on_action(
    channel: TeamsConnection, context: TurnContext, verb: str, data: dict[str, Any]
) -> dict[str, Any] | None:
    """A card button; returns the card that should replace the one pressed, if any."""
    activity = context.activity
    if verb == cards.CASE_FORM:
        await buttons.on_case_form(channel, context, data)
        return None
    value = str(data.get("value") or "")
    if verb == cards.MULTI_DONE:
        value = str(data.get(cards.MULTI_INPUT) or "")
    school_choice = StaffButtonValue.decode(value)
    if school_choice is not None:
        await first_contact.chose_school(channel, context, school_choice)
        return None
    case_button = CaseButtonValue.decode(value)
    if case_button is not None:
        await buttons.on_case_button(channel, context, case_button)
        return None
    conversation = activity.conversation
    in_channel = conversation is not None and conversation.conversation_type != "personal"
    if in_channel and PostButtonValue.decode(value) is not None:
        await buttons.on_channel_button(channel, context, value, "approvals")
        return None
    if in_channel and CommentButtonValue.decode(value) is not None:
        await buttons.on_channel_button(channel, context, value, "moderators")
        return None
    if conversation is None or conversation.conversation_type != "personal":
        # A report's questions are only ever answered in a private chat.
        await sending.send(channel, context, [_PRIVATE_ONLY])
        return None
    who = await identity.who_is(channel, context)
    if isinstance(who, Message):
        await sending.send(channel, context, [who])
        return None
    delivery = f"{activity.id or ''}:{activity.reply_to_id or ''}:{value}"
    given = UserInput(value=value, question=cards.question_of(data))
    # The turn decides (a press on something that has moved on changes nothing); the card
    # is replaced now, so it is marked by what is current at this moment.
    stale = await channel.runtime.runner.has_moved_on(who, given)
    await turns.admit(channel, activity, who, given, delivery)
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


class PolicyBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, channel: TeamsConnection) -> None:
        self.channel = channel

    async def on_turn(self, turn_context: TurnContext) -> None:
        if turn_context.activity.type in (
            ActivityTypes.message,
            ActivityTypes.invoke,
            ActivityTypes.conversation_update,
            ActivityTypes.installation_update,
        ) and not _answered_first(turn_context.activity):
            await address_book.remember_if_possible(self.channel, turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await on_message(self.channel, turn_context)

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
            card = await on_action(self.channel, turn_context, *parsed)
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
            who = await identity.who_is(self.channel, turn_context)
            if isinstance(who, Message):
                return
            await address_book.remember_if_possible(self.channel, activity)
            await sending.send(
                self.channel, turn_context, await self.channel.runtime.runner.opening(who)
            )
