"""Replies in a turn: each neutral message as an Adaptive Card (and any files it hands over as
consent cards), paced and retried as Teams requires."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.channels.shared_files import read_files, unreadable_notice
from bot.channels.teams import cards
from bot.channels.teams.delivery import with_retries
from dialogs.inbox import Who
from dialogs.services.messages import Message

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection


def _question_of(message: Message) -> str:
    return "\n".join(filter(None, [message.title, message.text]))[:400]


def activity_for(
    channel: TeamsConnection, message: Message, *, mention: Sequence[tuple[str, str]] = ()
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


async def activities_for(channel: TeamsConnection, message: Message) -> list[Activity]:
    """The message's card, then an offer of each file it hands over.

    Teams lets a bot give files only through a consent card in a personal chat, and the
    file lands in the person's own OneDrive; messages with files go only to personal chats.
    """
    activities = [activity_for(channel, message)]
    if not message.files:
        return activities
    from bot.channels.teams.files import consent_card

    files = await read_files(channel.runtime, message.files)
    for file in files:
        if file.data is not None:
            activities.append(
                consent_card(
                    file.ref.name,
                    file.data,
                    f"{file.ref.name}, from {cards.summary_text(message)}",
                    store=channel.runtime.settings.data_dir,
                    kind="media",
                )
            )
    notice = unreadable_notice(files)
    if notice is not None:
        activities.append(activity_for(channel, notice))
    return activities


async def send(
    channel: TeamsConnection, context: TurnContext, messages: Sequence[Message]
) -> list[str]:
    ids: list[str] = []
    conversation = context.activity.conversation.id if context.activity.conversation else ""
    for message in messages:
        for activity in await activities_for(channel, message):
            await channel.pacer.wait(conversation)

            async def send_one(activity: Activity = activity) -> Any:
                return await context.send_activity(activity)

            response = await with_retries(send_one)
            ids.append(getattr(response, "id", "") or "")
    return ids


async def reply(
    channel: TeamsConnection, context: TurnContext, who: Who, messages: Sequence[Message]
) -> None:
    """Send a turn's replies in order. The turn is already saved, so if Teams still refuses
    after its retries, what is left goes to the outbox and is sent later, never dropped."""

    async def post(message: Message) -> None:
        await send(channel, context, [message])

    await channel.runtime.runner.send_replies(who, messages, post)


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
