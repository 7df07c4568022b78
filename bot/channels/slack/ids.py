"""Every id policybot gives Slack, in one place, so the renderer and the listeners cannot drift.

All ids start with "pb." so policybot's actions never collide with another app's listeners, or
with ids Slack generates itself. A button's action id carries only its position in the message
(action ids must be unique within a block); what it means travels in its `value`, which is the
neutral `Button.value` unchanged.
"""

from __future__ import annotations

import re
from typing import Final

# Buttons: action_id = f"{BUTTON_PREFIX}{index}", value = Button.value.
BUTTON_PREFIX: Final = "pb.button."
BUTTON_PATTERN: Final = re.compile(r"^pb\.button\.\d+$")

# The buttons of a question (Message.question) sit in actions blocks whose block_id names it,
# "pb.q.<question>.<n>", so a press says which asking of which question it answers. The Done
# button of checkboxes carries it as its value instead (that block's id is MULTI_BLOCK).
QUESTION_BLOCK_PREFIX: Final = "pb.q."

# "Pick all that apply": checkboxes in one actions block, answered with a Done button. Slack
# allows 10 options per checkboxes element, so longer lists get more elements: the first is
# MULTI_SELECT, the next MULTI_SELECT + ".1", ".2", ... (action ids must differ within a block).
MULTI_BLOCK: Final = "pb.multi"
MULTI_SELECT: Final = "pb.multi.select"
MULTI_SELECT_PATTERN: Final = re.compile(r"^pb\.multi\.select(?:\.\d+)?$")
MULTI_DONE: Final = "pb.multi.done"

# Entry points declared in manifests/slack/manifest.yaml (tests check the two agree).
REPORT_SHORTCUT: Final = "pb.report_message"
SLASH_COMMAND: Final = "/policy"

# Modals (view callback ids).
NOTE_MODAL: Final = "pb.modal.note"
STATUS_MODAL: Final = "pb.modal.status"
ASK_MODAL: Final = "pb.modal.ask"

# Where Slack sends events, interactions and slash commands over HTTP (one Bolt endpoint).
EVENTS_PATH: Final = "/slack/events"


def question_block_id(question: str, index: int) -> str:
    return f"{QUESTION_BLOCK_PREFIX}{question}.{index}"


def question_of_block(block_id: object) -> str | None:
    """The question a pressed button's actions block names, or None (an older message, a
    button that answers no question)."""
    if not isinstance(block_id, str) or not block_id.startswith(QUESTION_BLOCK_PREFIX):
        return None
    question, _, index = block_id.removeprefix(QUESTION_BLOCK_PREFIX).rpartition(".")
    return question if question and index.isdigit() else None


def button_action_id(index: int) -> str:
    return f"{BUTTON_PREFIX}{index}"


def multi_select_action_id(index: int) -> str:
    """The first checkboxes element keeps the plain id, so the common case reads simply."""
    return MULTI_SELECT if index == 0 else f"{MULTI_SELECT}.{index}"
