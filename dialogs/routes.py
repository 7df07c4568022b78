"""Where a turn goes: a button to its kind's handler, typed words to an intent, an answer to
the dialog under way.

Every kind of button a person can press in their own chat is one `ButtonKind`, written in the
module of its context and listed in `BUTTONS`; the runner (dialogs.conversations) knows none of
them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dialogs.account_checks import OWNER_BUTTONS
from dialogs.account_request import ACCOUNT_BUTTONS
from dialogs.comment_dialogs import COMMENT_BUTTONS
from dialogs.home import (
    APPROVALS,
    ASK_POLICY,
    MENU_VALUES,
    MY_REPORTS,
    REQUEST_POST,
    START_REPORT,
    menu,
)
from dialogs.intents import idle
from dialogs.other_processes import WEBSITE_BUTTONS
from dialogs.policy_question import POLICY_BUTTONS
from dialogs.post_actions import POST_BUTTONS
from dialogs.reporter_answer import REPORTER_BUTTONS
from dialogs.safeguarding_intercept import worry
from dialogs.services.messages import UserInput, moved_on
from dialogs.turn import ButtonKind, Turn, TurnOutcome

BUTTONS: tuple[ButtonKind[Any], ...] = (
    POLICY_BUTTONS,
    POST_BUTTONS,
    COMMENT_BUTTONS,
    ACCOUNT_BUTTONS,
    REPORTER_BUTTONS,
    WEBSITE_BUTTONS,
    OWNER_BUTTONS,
)
# Menu buttons that leave a policy question unasked rather than being typed into it.
_MENU = frozenset({START_REPORT, MY_REPORTS, ASK_POLICY, REQUEST_POST, APPROVALS})


async def route(turn: Turn, given: UserInput) -> TurnOutcome:
    """Decide one turn: from where the person was (`turn.current`) to where they are now."""
    current = turn.current
    if current and current.dialog == ASK_POLICY and given.value in _MENU:
        turn = replace(turn, current=None)  # a menu button pressed instead of typing a question
        current = None
    if given.value:
        for kind in BUTTONS:
            pressed = await kind.pressed(turn, given.value)
            if pressed is not None:
                return pressed
    if current is not None and given.value in MENU_VALUES and given.question is None:
        # A menu button (an old menu, the App Home) is not an answer to the question
        # asked now, though its value might pass for one ("my_reports" as a platform).
        return current, [turn.busy("press it again"), *turn.resumed()]
    if current is None and given.question is not None:
        # A button of a question whose dialog has ended (sent, cancelled, expired).
        return None, [moved_on(False), menu(turn.who.person, turn.who.school)]
    if current is None:
        return await idle(turn, given)
    if current.dialog == ASK_POLICY and (found := worry(turn, given)):
        return None, found  # however long: the lead, not "too long"
    advanced = await turn.engine.advance(given, turn.context(current))
    return advanced.state, advanced.messages
