"""The reporter's answer to a question the safeguarding lead asked about their report.

The question reaches the reporter in their own chat with an Answer button; their answer goes
back through the bot, so a reporter who chose to be anonymous stays anonymous.
"""

from __future__ import annotations

from dialogs.engine import DialogContext
from dialogs.one_answer import OneAnswerDialog
from dialogs.services.cases.card import ReporterButtonValue
from dialogs.turn import ButtonKind, Turn, TurnOutcome

REPORTER_ANSWER = "reporter_answer"


class ReporterAnswer(OneAnswerDialog):
    name = REPORTER_ANSWER
    title = "Answer to the safeguarding lead"
    noun = "answer"
    start_word = "my reports"
    restart_hint = "press Answer on the question again"
    help_text = "Type your answer; it goes to the safeguarding lead handling your report."
    key = "answer"
    label = "Your answer"
    question = "Type your answer. It goes to the safeguarding lead handling your report."
    min_length = 1
    max_length = 8000

    async def act(self, ctx: DialogContext, answer: str) -> str:
        case = await ctx.services.cases.answer_from_reporter(
            ctx.state.flags["reference"], school=ctx.school, actor=ctx.person, answer=answer
        )
        return f"Thank you: your answer about {case.reference} has been passed on."


async def press_reporter_button(turn: Turn, button: ReporterButtonValue) -> TurnOutcome:
    """The reporter pressed Answer on a question from the lead: ask for the answer."""
    who = turn.who
    services = turn.services()

    async def reference() -> str:
        case = await services.cases.for_answer(
            button.reference, school=who.school, actor=who.person
        )
        return case.reference

    return await turn.at_once_or_reason(
        act=None, reason_dialog=REPORTER_ANSWER, reference=reference
    )


REPORTER_BUTTONS = ButtonKind("reporter", ReporterButtonValue.decode, press_reporter_button)
