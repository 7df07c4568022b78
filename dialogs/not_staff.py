"""What someone the bot cannot take as staff is told, in every channel (staff_directory.Refusal).

Each message says why in plain words, who can fix it (the school's IT administrators, by name
when the configuration gives them), whether what they wrote was kept, and, because the person
may be writing about something urgent, that 999 is the number when anyone is in immediate
danger. It never says anything about other people or the school's configuration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dialogs.services.messages import Button, InputKind, Message, MessageKind
from dialogs.services.people.directory import Choose, Refusal, Refused
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.schools import Role, School

DANGER = "If anyone is in immediate danger, call 999 now."


class StaffVerb(StrEnum):
    SCHOOL = "school"


@dataclass(frozen=True)
class StaffButtonValue(VerbButton[StaffVerb]):
    """A press of "I work at this school" by someone whose email could be at several: the
    channel records the choice (StaffDirectory.learn with the school) before anything else."""

    PREFIX = "staff"
    VERBS = StaffVerb


KEPT = "I've kept your message, so you won't need to write it again."
_CHANGE_SCHOOL = re.compile(
    r"^\s*(?:change|switch|move|choose|pick) (?:my |your )?school\s*[.!?]*\s*$", re.IGNORECASE
)


def asks_to_change_school(text: str) -> bool:
    """ "change school": someone whose email fits several schools choosing again."""
    return _CHANGE_SCHOOL.match(text) is not None


def _school_buttons(schools: Sequence[School]) -> tuple[Button, ...]:
    return tuple(
        StaffButtonValue(StaffVerb.SCHOOL, school.id).button(school.name) for school in schools
    )


def change_school_message(current: School, schools: Sequence[School]) -> Message:
    """The answer to "change school": the schools their email fits, or why there is no choice."""
    if len(schools) < 2:
        return Message(
            kind=MessageKind.INFO,
            text=f"You're with {current.name}, and your email address isn't at any other school "
            f"I work for, so there's nothing to change. If that's wrong, please ask "
            f"{_admins([current])}.",
        )
    return Message(
        kind=MessageKind.PROMPT,
        title="Which school do you work at?",
        text=f"You're with {current.name} now. Your reports go to the safeguarding lead of the "
        "school you choose; reports you have already made stay with the school they went to.",
        buttons=_school_buttons(schools),
        expects=InputKind.CHOICE,
    )


def school_chosen_message(school: School) -> Message:
    return Message(
        kind=MessageKind.INFO,
        text=f"Thank you: you're with {school.name}, so what you report goes to its safeguarding "
        'lead. To change it, write "change school".',
    )


def _admins(schools: Sequence[School]) -> str:
    names = list(
        dict.fromkeys(p.name for school in schools for p in school.with_role(Role.IT_ADMIN))
    )
    if not names:
        return "your school's IT administrator"
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"your IT administrator ({listed})"


def not_staff_message(refused: Refused | Choose, platform: str) -> Message:
    """The reply to a message from someone the bot cannot take as staff; `platform` is
    "Slack" or "Teams"."""
    if isinstance(refused, Choose):
        names = ", ".join(s.name for s in refused.schools)
        return Message(
            kind=MessageKind.PROMPT,
            title="Which school do you work at?",
            text=f"Hello. Your email address could belong to more than one school ({names}), "
            "and I need to know which is yours before I can help: your reports go to that "
            f"school's safeguarding lead. If it changes, ask {_admins(refused.schools)}. "
            f"{KEPT} {DANGER}",
            buttons=_school_buttons(refused.schools),
            expects=InputKind.CHOICE,
        )
    admins = _admins(refused.schools)
    texts = {
        Refusal.NO_SCHOOL: "Hello. I can't tell which school you work at: your email address "
        f"isn't at an address of any school I work for. Please ask {admins} to add you. "
        f"{KEPT} Once you're added, write to me again and I'll pick it up. {DANGER}",
        Refusal.NO_EMAIL: f"Hello. I can't see an email address on your {platform} account, so "
        f"I can't tell which school you work at. Please ask {admins} to add you. {KEPT} "
        f"{DANGER}",
        Refusal.UNAVAILABLE: f"Hello. I couldn't check your {platform} account just now "
        f"({platform} isn't answering me). {KEPT} Please write to me again in a few minutes "
        f"and I'll pick it up. {DANGER}",
        Refusal.GUEST: f"Hello. This is a guest account in the school's {platform}, and "
        "policybot is for the school's own staff, so I can't take reports or requests from it "
        f"and haven't kept your message. If you work at the school, please ask {admins} for a "
        "full account. To pass on a worry about a child, contact the school's designated "
        f"safeguarding lead directly. {DANGER}",
        Refusal.LEFT: f"Hello. This {platform} account is no longer one of the school's staff "
        "accounts, so I can't take reports or requests from it and haven't kept your message. "
        f"If you think that's a mistake, please ask {admins}. To pass on a worry about a child, "
        f"contact the school's designated safeguarding lead directly. {DANGER}",
        Refusal.OUTSIDE: "Hello. policybot is for the staff of the schools that use it, and "
        f"this {platform} account isn't one of theirs, so I can't take reports or requests "
        f"from it and haven't kept your message. {DANGER}",
        Refusal.BOT: "policybot only talks to people.",
    }
    return Message(kind=MessageKind.INFO, text=texts[refused.reason])


def keeps_message(refused: Refused | Choose) -> bool:
    """Whether the person may yet be taken as staff, so what they wrote is kept for then."""
    if isinstance(refused, Choose):
        return True
    return refused.reason in {Refusal.NO_SCHOOL, Refusal.NO_EMAIL, Refusal.UNAVAILABLE}
