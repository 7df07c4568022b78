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


def button_action_id(index: int) -> str:
    return f"{BUTTON_PREFIX}{index}"


def multi_select_action_id(index: int) -> str:
    """The first checkboxes element keeps the plain id, so the common case reads simply."""
    return MULTI_SELECT if index == 0 else f"{MULTI_SELECT}.{index}"
