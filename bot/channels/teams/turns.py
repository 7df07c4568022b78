"""Taking a person's turn after Teams has its answer: journaled first, taken straight after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.channels.teams import address_book, incoming_files, sending
from dialogs.inbox import Arrival, Who
from dialogs.services.messages import IncomingFile, Message, UserInput

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection


async def admit(
    channel: TeamsConnection,
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
        # Saved here rather than before Teams was answered (see activities._answered_first): only a
        # new or changed address is written, but a burst of new people would otherwise
        # make Teams wait on the database.
        await address_book.remember_if_possible(channel, activity)

        async def turn(context: TurnContext) -> None:
            async def fetch(attachment: Any) -> IncomingFile | None:
                return await incoming_files.fetch(channel, context, attachment, service_url)

            async def send(messages: Sequence[Message]) -> None:
                await sending.reply(channel, context, who, messages)

            await channel.runtime.runner.take(
                arrival, given, files=attachments, fetch=fetch, send=send
            )

        await channel.adapter.continue_conversation(reference, turn, channel.settings.app_id or "")

    await channel.runtime.runner.admit(
        who,
        given,
        file_names=[str(getattr(a, "name", None) or "a file") for a in attachments],
        delivery_id=delivery_id,
        then=then,
    )
