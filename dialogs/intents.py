"""What someone types when no dialog is under way: a worry about a child, a question about the
policy, or one of the things the bot does, each found in a table and started from here.

The order holds a promise: a worry about a child is answered before anything else is tried,
and words about the policy before the menu's intents.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from dialogs.comment_dialogs import open_comments
from dialogs.engine import DialogState
from dialogs.home import (
    APPROVALS,
    ASK_POLICY,
    COLLEAGUE_MISUSE,
    COMMENTS,
    LOG_COMMENT,
    MEDIA_ENQUIRY,
    MY_REPORTS,
    REQUEST_ACCOUNT,
    REQUEST_POST,
    START_REPORT,
    WEBSITE_BLOCK,
    intent,
    menu,
    my_reports,
)
from dialogs.policy_question import about_the_policy
from dialogs.post_actions import waiting_for
from dialogs.report_abuse import platform_mentioned
from dialogs.safeguarding_intercept import worry
from dialogs.services.messages import Message, MessageKind, UserInput
from dialogs.turn import Turn, TurnOutcome

# What an intent does, given the turn, the intent found and the words typed.
Intent = Callable[[Turn, str, str], Awaitable[TurnOutcome]]


async def idle(turn: Turn, given: UserInput) -> TurnOutcome:
    """Someone writes (or sends files) with no dialog under way."""
    found = worry(turn, given)
    if found:
        return None, found
    typed = given.answer
    wanted = intent(typed)
    if not given.files:
        handled = await about_the_policy(turn, typed, wanted)
        if handled is not None:
            return handled
    if wanted is not None and wanted in INTENTS:
        return await INTENTS[wanted](turn, wanted, typed)
    messages: list[Message] = []
    if given.files:
        messages.append(
            Message(
                kind=MessageKind.HINT,
                text="I can only keep files as part of a report. Start a report first, then "
                "send them when I ask for screenshots.",
            )
        )
    return None, [*messages, menu(turn.who.person, turn.who.school)]


async def _start(turn: Turn, wanted: str, _typed: str) -> TurnOutcome:
    return await turn.start(wanted)


async def _approvals(turn: Turn, _wanted: str, _typed: str) -> TurnOutcome:
    return None, await waiting_for(turn.services(), turn.who.school, turn.who.person)


async def _comments(turn: Turn, _wanted: str, _typed: str) -> TurnOutcome:
    return None, await open_comments(turn.services(), turn.who.school, turn.who.person)


async def _colleague(turn: Turn, _wanted: str, _typed: str) -> TurnOutcome:
    # The same confidential route as a report of abuse, with the colleague as the one
    # responsible; only the safeguarding lead and deputy see it.
    state = DialogState(dialog="report_abuse", flags={"about": "colleague"})
    started = await turn.engine.start(
        "report_abuse", turn.context(state), prefill={"responsible": "staff"}
    )
    return started.state, started.messages


async def _report(turn: Turn, _wanted: str, typed: str) -> TurnOutcome:
    ctx = turn.context(DialogState(dialog="report_abuse"))
    platform = platform_mentioned(typed)
    prefill: dict[str, Any] = {"platform": platform} if platform else {}
    if re.search(r"(?i)\banonymous(ly)?\b", typed):
        prefill["reporter_visibility"] = "anonymous"
    started = await turn.engine.start("report_abuse", ctx, prefill=prefill)
    return started.state, started.messages


async def _my_reports(turn: Turn, _wanted: str, _typed: str) -> TurnOutcome:
    who = turn.who
    cases = await turn.services().cases.list_for(
        school=who.school, actor=who.person, mine_only=True
    )
    return None, [my_reports(cases, who.school), menu(who.person, who.school, greeting=False)]


INTENTS: dict[str, Intent] = {
    ASK_POLICY: _start,
    REQUEST_POST: _start,
    LOG_COMMENT: _start,
    MEDIA_ENQUIRY: _start,
    WEBSITE_BLOCK: _start,
    REQUEST_ACCOUNT: _start,
    APPROVALS: _approvals,
    COMMENTS: _comments,
    COLLEAGUE_MISUSE: _colleague,
    START_REPORT: _report,
    MY_REPORTS: _my_reports,
}
