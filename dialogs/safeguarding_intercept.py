"""A worry about a child, wherever it is typed, answered with the safeguarding reply.

A question reaches the policy through several doors: typed as a question, after "ask", at the
menu's *Ask about the social media policy*, or said as a plain sentence. Each of them comes
here first, so a disclosure is turned to the designated safeguarding lead before anything
searches the policy, shows the menu, or starts a report that would ask for screenshots.
The words are `SafeguardingReply`'s; this only lays them out as messages for every channel.
"""

from __future__ import annotations

from dialogs.home import START_REPORT
from dialogs.services.container import Services
from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind, UserInput
from dialogs.services.safeguarding.reply import (
    REPORT_LABEL,
    SafeguardingReply,
)
from dialogs.services.school.schools import Person, School
from dialogs.turn import Turn


def intercept(
    services: Services,
    school: School,
    person: Person,
    *,
    channel: str,
    text: str,
    files: int = 0,
) -> list[Message] | None:
    """The safeguarding reply if `text` is a worry about a child, else None. `files` sent with
    it are not kept, and the reply says so."""
    found = services.policies.intercept(school, person, channel=channel, text=text)
    if found is None:
        return None
    return safeguarding_messages(found.reply, files_not_kept=files)


def safeguarding_messages(reply: SafeguardingReply, *, files_not_kept: int = 0) -> list[Message]:
    """Who to tell now (urgent, with the leads and how to reach them); what to do until then;
    and the report, where it fits."""
    steps = [f"\u2022 {step}" for step in reply.until_then]
    if files_not_kept:
        what, it = ("the file", "it") if files_not_kept == 1 else ("the files", "them")
        steps.append(
            f"I haven't kept {what} you sent. "
            + (
                "If you make the report, send screenshots there."
                if reply.offers_report
                else f"Please don't send {it} on to anyone; tell the lead about {it} instead."
            )
        )
    closing = [reply.report] if reply.report and not reply.offers_report else []
    messages = [
        Message(
            kind=MessageKind.URGENT,
            title=reply.title,
            text=reply.first,
            facts=tuple(Fact(label=c.role, value=c.line) for c in reply.contacts),
        ),
        Message(
            kind=MessageKind.REMINDER,
            title="Until you have spoken to them",
            text="\n".join(steps) + "\n\n" + "\n\n".join([*closing, reply.not_the_policy]),
        ),
    ]
    if reply.offers_report:
        messages.append(
            Message(
                kind=MessageKind.INFO,
                text=reply.report,
                buttons=(Button(value=START_REPORT, label=REPORT_LABEL, style="primary"),),
                expects=InputKind.CHOICE,
            )
        )
    return messages


def worry(turn: Turn, given: UserInput) -> list[Message] | None:
    """The safeguarding reply, if what was typed (not a button pressed) is a worry about a
    child: before the policy is searched, the menu shown, or a report started."""
    if given.value is not None:
        return None
    return intercept(
        turn.services(),
        turn.who.school,
        turn.who.person,
        channel=turn.who.key.channel,
        text=given.text,
        files=len(given.files),
    )
