"""Forms for case actions that need words from the handler: a note, or a status and reason.

The reference travels in private_metadata and is checked again on submission, so a forged
submission can do no more than the person submitting it is allowed to.
"""

from __future__ import annotations

from typing import Any

from bot.channels.slack import ids
from dialogs.services.cases.card import next_statuses
from storage.models import Case


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def _text_input(
    block_id: str, label: str, *, optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": True,
            "max_length": 3000,
        },
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def note_modal(reference: str, metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.NOTE_MODAL,
        "private_metadata": metadata,
        "title": _plain("Add a note"),
        "submit": _plain("Add note"),
        "close": _plain("Cancel"),
        "blocks": [
            _text_input(
                "text",
                f"Note for {reference}",
                hint="It goes into the case's chronology, which only the safeguarding lead and "
                "deputy can see.",
            )
        ],
    }


def ask_modal(reference: str, metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.ASK_MODAL,
        "private_metadata": metadata,
        "title": _plain("Ask the reporter"),
        "submit": _plain("Send the question"),
        "close": _plain("Cancel"),
        "blocks": [
            _text_input(
                "text",
                f"Question about {reference}",
                hint="I pass it to the reporter in their own chat and bring the answer back to "
                "you. If they reported anonymously, they stay anonymous.",
            )
        ],
    }


def status_modal(case: Case, metadata: str) -> dict[str, Any]:
    options = [
        {"text": _plain(status.value.title()), "value": status.value}
        for status in next_statuses(case)
    ]
    return {
        "type": "modal",
        "callback_id": ids.STATUS_MODAL,
        "private_metadata": metadata,
        "title": _plain("Change status"),
        "submit": _plain("Change status"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "status",
                "label": _plain(f"New status for {case.reference} (now {case.status})"),
                "element": {"type": "static_select", "action_id": "value", "options": options},
            },
            _text_input("text", "Reason for this decision", hint="It goes into the chronology."),
            _text_input("outcome", "Outcome (needed when closing)", optional=True),
        ],
    }
