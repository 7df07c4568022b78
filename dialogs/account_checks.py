"""The yearly check on an official account, answered by its owners with a button in their chat.

"Still mine, credentials safe" and the like need nothing more, so they are recorded at once,
even in the middle of a dialog, which then carries on.
"""

from __future__ import annotations

from dialogs.services.accounts.checks import OwnerButtonValue
from dialogs.services.messages import Message, MessageKind
from dialogs.turn import ButtonKind, Turn, TurnOutcome


async def press_owner_button(turn: Turn, owner: OwnerButtonValue) -> TurnOutcome:
    answered = await turn.services().account_checks.answer(
        owner.reference, school=turn.who.school, actor=turn.who.person, verb=owner.verb
    )
    messages = [Message(kind=MessageKind.INFO, text=answered.message)]
    if turn.current is not None:
        messages += turn.engine.current(turn.context(turn.current))
    return turn.current, messages


OWNER_BUTTONS = ButtonKind("account owner", OwnerButtonValue.decode, press_owner_button)
