"""Dialogs of one typed answer that act at once: the reason for a decision, a link.

A button that needs words before it can act (reject with a reason, mark as published with the
link) starts one of these in the presser's own chat; the record it acts on travels in the
dialog's flags, and the service checks again, when the answer comes, that the person may act.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from dialogs.engine import Dialog, DialogContext, Step
from dialogs.prompts import TextPrompt
from dialogs.services.messages import Message, MessageKind


class OneAnswerDialog(Dialog):
    confirm = False
    noun = "decision"
    key: ClassVar[str] = "reason"
    label: ClassVar[str] = "Reason"
    question: ClassVar[str]
    min_length: ClassVar[int] = 3
    max_length: ClassVar[int] = 2000

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "question" in cls.__dict__:
            prompt = TextPrompt(cls.question, min_length=cls.min_length, max_length=cls.max_length)
            cls.steps = (Step(cls.key, cls.label, prompt),)

    @abstractmethod
    async def act(self, ctx: DialogContext, answer: str) -> str:
        """Do it, and say what was done."""

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        return [Message(kind=MessageKind.INFO, text=await self.act(ctx, answers[self.key]))]
