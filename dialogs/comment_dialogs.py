"""Comments on official accounts in the chat: a moderator logs one, gives the public reason for
hiding one, or asks which are waiting. The card buttons in the moderators' channel call the
same services.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.engine import Dialog, DialogContext, DialogState, Step
from dialogs.flagged import report_with
from dialogs.one_answer import OneAnswerDialog
from dialogs.prompts import DateTimePrompt, SchoolOptionsPrompt, TextPrompt
from dialogs.services.comments.card import CommentButtonValue, CommentVerb, comment_card
from dialogs.services.comments.incoming import (
    MAX_AUTHOR_CHARS,
    MAX_COMMENT_CHARS,
    MAX_LINK_CHARS,
    CommentSource,
    IncomingComment,
)
from dialogs.services.comments.service import MAX_REASON_CHARS
from dialogs.services.container import Services
from dialogs.services.messages import Message, MessageKind
from dialogs.services.school.permissions import CommentAction, require
from dialogs.services.school.platforms import LABELS
from dialogs.services.school.schools import Person, School
from dialogs.turn import ButtonKind, Turn, TurnOutcome

LOG_COMMENT = "log_comment"
COMMENT_REASON = "comment_reason"


def _https_link(text: str) -> str | None:
    if not text.startswith("https://") or any(c.isspace() for c in text):
        return "Please paste the link as it is, starting https:// (or type skip)."
    return None


def _only_moderators(ctx: DialogContext) -> None:
    require(ctx.person, CommentAction.LOG, school=ctx.school)


class LogComment(Dialog):
    """A comment a moderator saw on an official account, logged so its deadline is watched."""

    name = LOG_COMMENT
    title = "Logging a comment"
    noun = "comment"
    start_word = "comment"
    help_text = (
        "I'll ask which account the comment is on, who wrote it, what it says, a link to it and "
        "when it was posted; then I'll watch its deadline and remind the moderators."
    )
    steps = (
        Step(
            "account",
            "Account",
            SchoolOptionsPrompt(
                "Which official account is the comment on?",
                "accounts",
                missing="The school hasn't listed any official accounts yet. Please ask your "
                "IT administrator to add them.",
                one=True,
            ),
        ),
        Step(
            "author",
            "From",
            TextPrompt(
                "Who wrote it? (their name as the platform shows it)",
                max_length=MAX_AUTHOR_CHARS,
            ),
        ),
        Step(
            "text",
            "Comment",
            TextPrompt("What does it say? Paste it exactly.", max_length=MAX_COMMENT_CHARS),
        ),
        Step(
            "link",
            "Link",
            TextPrompt(
                "What is the link to it? (starting https://; type skip if there isn't one)",
                max_length=MAX_LINK_CHARS,
                check=_https_link,
            ),
            optional=True,
        ),
        Step("received_at", "Posted", DateTimePrompt("When was it posted?")),
    )

    def intro(self, ctx: DialogContext) -> Sequence[Message]:
        _only_moderators(ctx)
        return ()

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        _only_moderators(ctx)
        received = await ctx.services.comments.receive(
            ctx.school,
            IncomingComment(
                source=CommentSource.MODERATOR,
                external_id=uuid.uuid4().hex,
                account_id=answers["account"],
                author=answers["author"],
                text=answers["text"],
                link=answers.get("link"),
                received_at=datetime.fromisoformat(answers["received_at"]),
            ),
            logged_by=ctx.person,
        )
        comment = received.comment
        due = (
            f"It must be answered by {comment.due_at.astimezone(ctx.school.tz):%a %d/%m %H:%M}; "
            "I'll remind the moderators before then."
            if comment.due_at
            else "This account has no deadline for answers."
        )
        return [
            Message(
                kind=MessageKind.DONE,
                title=f"Comment logged: {comment.reference}",
                text=f"It is in the moderators' channel. {due}",
            )
        ]


class CommentReason(OneAnswerDialog):
    """The reason to give publicly when a comment is hidden or removed."""

    name = COMMENT_REASON
    title = "Hiding a comment"
    noun = "update"
    start_word = "comments"
    help_text = "Type the reason you will give publicly for hiding or removing the comment."
    question = (
        "What reason will you give publicly for hiding or removing it? For example: “We've "
        "removed a comment that named a member of staff. Please contact the school office "
        "directly.”"
    )
    max_length = MAX_REASON_CHARS

    async def act(self, ctx: DialogContext, answer: str) -> str:
        handled = await ctx.services.comments.act(
            ctx.state.flags["reference"],
            school=ctx.school,
            actor=ctx.person,
            verb=CommentVerb.HIDE,
            reason=answer,
        )
        return handled.message


async def open_comments(services: Services, school: School, person: Person) -> list[Message]:
    """What a moderator types "comments" to see: each comment still waiting, as its card."""
    waiting = await services.comments.list_for(school=school, actor=person, open_only=True)
    if not waiting:
        return [Message(kind=MessageKind.STATUS, text="No comments are waiting for an answer.")]
    return [comment_card(c, school, now=services.now) for c in waiting]


async def press_comment_button(turn: Turn, button: CommentButtonValue) -> TurnOutcome:
    """A button on a comment: answered ones are marked at once, even mid-dialog; hiding
    asks for the public reason first; reporting one as abuse starts a report with the
    comment kept as its evidence."""
    who, current = turn.who, turn.current
    services = turn.services()
    resumed = turn.resumed()
    if button.verb in (CommentVerb.ACKNOWLEDGE, CommentVerb.REPLIED, CommentVerb.NOT_NEEDED):
        handled = await services.comments.act(
            button.reference, school=who.school, actor=who.person, verb=button.verb
        )
        return current, [Message(kind=MessageKind.INFO, text=handled.message), *resumed]
    # Checked before anything is asked for (the public reason, a report): a refusal comes
    # at once, not after the person has typed it.
    comment = await services.comments.for_action(
        button.reference, school=who.school, actor=who.person, verb=button.verb
    )
    if current is not None:
        later = "type comments to see the comment again"
        return current, [turn.busy(later), *resumed]
    if button.verb is CommentVerb.HIDE:
        state = DialogState(dialog=COMMENT_REASON, flags={"reference": comment.reference})
        return await turn.start(COMMENT_REASON, state)
    handled = await services.comments.act(
        button.reference, school=who.school, actor=who.person, verb=CommentVerb.ESCALATE
    )
    comment = handled.comment
    account = who.school.account(comment.account_id)
    captured: dict[str, Any] = {
        "platform": LABELS[account.platform] if account else "Social media",
        "account": account.name if account else comment.account_id,
        "comment": comment.reference,
        "author": comment.author,
        "text": comment.text,
        "posted_at": comment.received_at.isoformat(),
    }
    if comment.link:
        captured["permalink"] = comment.link
    state, messages = await report_with(turn, None, "report_abuse", captured)
    return state, [Message(kind=MessageKind.INFO, text=handled.message), *messages]


COMMENT_BUTTONS = ButtonKind("comment", CommentButtonValue.decode, press_comment_button)
