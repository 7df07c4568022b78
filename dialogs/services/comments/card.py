"""How a comment appears to moderators, and the buttons they answer it with.

The card shows the comment as the commenter wrote it, where and when, and how long is left to
answer it, so a moderator can act from the card alone. Its buttons carry only a verb and the
comment's reference; who pressed them is checked by the service, never by the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.platforms import LABELS
from dialogs.services.school.schools import School
from storage.models import Comment


class CommentStatus(StrEnum):
    OPEN = "open"  # nobody has answered yet
    ACKNOWLEDGED = "acknowledged"  # answered "we've seen this", a fuller reply may follow
    REPLIED = "replied"
    HIDDEN = "hidden"  # hidden or removed, with the reason given publicly
    NOT_NEEDED = "not_needed"  # nothing to answer (a thank-you, a like, spam)


STATUS_LABELS: dict[CommentStatus, str] = {
    CommentStatus.OPEN: "Waiting for an answer",
    CommentStatus.ACKNOWLEDGED: "Acknowledged",
    CommentStatus.REPLIED: "Replied",
    CommentStatus.HIDDEN: "Hidden or removed",
    CommentStatus.NOT_NEEDED: "No answer needed",
}
# A moderator can still reply, hide or escalate after acknowledging; the rest are final.
STILL_OPEN = frozenset({CommentStatus.OPEN, CommentStatus.ACKNOWLEDGED})


class CommentVerb(StrEnum):
    ACKNOWLEDGE = "ack"
    REPLIED = "replied"
    HIDE = "hide"
    ESCALATE = "escalate"
    NOT_NEEDED = "none"


# Reporting a comment as abuse is not an answer: the comment still needs one in public (hidden
# with the reason given, or a reply), so it stays open, and the moderators are still nudged.
RESULTS: dict[CommentVerb, CommentStatus] = {
    CommentVerb.ACKNOWLEDGE: CommentStatus.ACKNOWLEDGED,
    CommentVerb.REPLIED: CommentStatus.REPLIED,
    CommentVerb.HIDE: CommentStatus.HIDDEN,
    CommentVerb.NOT_NEEDED: CommentStatus.NOT_NEEDED,
}
# Verbs that are a public answer, so they stop the clock and count as the first response.
RESPONSES = frozenset({CommentVerb.ACKNOWLEDGE, CommentVerb.REPLIED, CommentVerb.HIDE})


@dataclass(frozen=True)
class CommentButtonValue(VerbButton[CommentVerb]):
    PREFIX = "comment"
    VERBS = CommentVerb


def comment_button(
    verb: CommentVerb,
    reference: str,
    label: str,
    style: Literal["default", "primary", "danger"] = "default",
) -> Button:
    return CommentButtonValue(verb, reference).button(label, style)


def comment_buttons(comment: Comment) -> tuple[Button, ...]:
    status = CommentStatus(comment.status)
    if status not in STILL_OPEN:
        return ()
    ref = comment.reference
    buttons = (
        []
        if status is CommentStatus.ACKNOWLEDGED
        else [comment_button(CommentVerb.ACKNOWLEDGE, ref, "Acknowledged", "primary")]
    )
    buttons += [
        comment_button(CommentVerb.REPLIED, ref, "Replied"),
        comment_button(CommentVerb.HIDE, ref, "Hide or remove"),
    ]
    if comment.reported_by is None:
        buttons.append(comment_button(CommentVerb.ESCALATE, ref, "Report as abuse", "danger"))
    if status is CommentStatus.OPEN:
        buttons.append(comment_button(CommentVerb.NOT_NEEDED, ref, "No answer needed"))
    return tuple(buttons)


def comment_subject(comment: Comment) -> str:
    return f"comment:{comment.id}"


def account_text(comment: Comment, school: School) -> str:
    account = school.account(comment.account_id)
    if account is None:
        return f"{comment.account_id} (removed)"
    return f"{account.name} ({LABELS[account.platform]})"


def local(moment: datetime, school: School) -> str:
    return f"{moment.astimezone(school.tz):%a %d/%m/%Y %H:%M}"


def comment_card(comment: Comment, school: School, *, now: datetime) -> Message:
    """The card in the moderators' channel, replaced in place as the comment is answered."""
    status = CommentStatus(comment.status)
    if comment.due_at is None:
        due = "No deadline on this account"
    elif status in STILL_OPEN and comment.first_response_at is None and now >= comment.due_at:
        due = f"{local(comment.due_at, school)} (overdue)"
    else:
        due = local(comment.due_at, school)
    facts = [
        Fact(label="From", value=comment.author),
        Fact(label="Account", value=account_text(comment, school)),
        Fact(label="Received", value=local(comment.received_at, school)),
        Fact(label="Answer by", value=due),
    ]
    if comment.link:
        facts.append(Fact(label="Link", value=comment.link))
    label = STATUS_LABELS[status]
    if comment.handled_by and status is not CommentStatus.OPEN:
        label += f" by {school.display_name(comment.handled_by)}"
    if comment.reason:
        facts.append(Fact(label="Reason given", value=comment.reason))
    if comment.reported_by:
        reporter = school.display_name(comment.reported_by)
        facts.append(Fact(label="Reported as abuse", value=f"by {reporter}"))
    facts.append(Fact(label="Status", value=label))
    buttons = comment_buttons(comment)
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"Comment {comment.reference} on {account_text(comment, school)}",
        text=comment.text,
        facts=tuple(facts),
        buttons=buttons,
        expects=InputKind.CHOICE if buttons else InputKind.NONE,
    )
