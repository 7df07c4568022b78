"""One turn as the code that decides it sees it, and the kinds of button a turn can be.

The runner (dialogs.conversations) owns the skeleton of a turn: the journal, the transaction,
the retry. What the turn *means* is decided elsewhere (dialogs.routes): by a button's handler,
an intent's, or the dialog under way. Each of those gets a `Turn` (who, where they were, the
unit of work) and returns an `TurnOutcome` (where they are now, what to say), so a new kind of
button is one `ButtonKind` in the module of its context and one line in the routing table,
not an edit to the runner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.engine import DialogContext, DialogState, Engine
from dialogs.inbox import Who
from dialogs.services.container import Services
from dialogs.services.messages import Message, MessageKind

ServicesFactory = Callable[[AsyncSession, datetime], Services]
# Where the person is after the turn (None: no dialog under way) and what the bot says.
TurnOutcome = tuple[DialogState | None, list[Message]]
B = TypeVar("B")


@dataclass(frozen=True)
class Turn:
    """One person's turn inside its unit of work: `current` is the dialog they were in."""

    who: Who
    session: AsyncSession
    now: datetime
    current: DialogState | None
    engine: Engine
    services_for: ServicesFactory

    def services(self) -> Services:
        return self.services_for(self.session, self.now)

    def context(self, state: DialogState) -> DialogContext:
        return DialogContext(
            person=self.who.person,
            school=self.who.school,
            channel=self.who.key.channel,
            now=self.now,
            services=self.services(),
            state=state,
        )

    def resumed(self) -> list[Message]:
        """The question of the dialog under way, asked again after something done beside it."""
        return self.engine.current(self.context(self.current)) if self.current else []

    def busy(self, later: str) -> Message:
        """A button that would start something new, pressed while a dialog is under way: the
        dialog is kept, and the person is told how to come back to the button's business."""
        assert self.current is not None
        title = self.engine.dialogs[self.current.dialog].title.lower()
        return Message(
            kind=MessageKind.HINT,
            text=f"You're in the middle of a {title}. Finish or cancel it first; then {later}.",
        )

    async def start(self, dialog: str, state: DialogState | None = None) -> TurnOutcome:
        """Start `dialog` (with `state`'s flags, when given)."""
        started = await self.engine.start(dialog, self.context(state or DialogState(dialog=dialog)))
        return started.state, started.messages

    async def at_once_or_reason(
        self,
        *,
        act: Callable[[], Awaitable[str]] | None,
        reason_dialog: str,
        reference: Callable[[], Awaitable[str]],
    ) -> TurnOutcome:
        """A decision button in a person's own chat: one that needs nothing more is done at
        once, even mid-dialog; one that needs a reason asks for it, unless a dialog is under
        way (which is kept, and the person told how to come back to this). `reference` checks
        that the person may act on the record as it is now, before anything is asked, so a
        refusal comes at once rather than after the reason is typed."""
        resumed = self.resumed()
        if act is not None:
            return self.current, [Message(kind=MessageKind.INFO, text=await act()), *resumed]
        flags = {"reference": await reference()}
        if self.current is not None:
            later = self.engine.dialogs[reason_dialog].restart_hint
            return self.current, [self.busy(later), *resumed]
        return await self.start(reason_dialog, DialogState(dialog=reason_dialog, flags=flags))


@dataclass(frozen=True)
class ButtonKind(Generic[B]):
    """One kind of button a person can press in their own chat: how its value is read (None:
    not this kind), and what pressing it does, at any point of a conversation."""

    name: str
    decode: Callable[[str], B | None]
    press: Callable[[Turn, B], Awaitable[TurnOutcome]]

    async def pressed(self, turn: Turn, value: str) -> TurnOutcome | None:
        button = self.decode(value)
        return None if button is None else await self.press(turn, button)
