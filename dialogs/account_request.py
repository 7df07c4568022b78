"""Asking for a new official account: the business case the policies require, in the chat.

Who will run it is picked from the school's staff, not typed, so the register knows the real
people (at least two, so an account is never left with one person holding its password).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dialogs.engine import Dialog, DialogContext, Step
from dialogs.one_answer import OneAnswerDialog
from dialogs.prompts import Choice, ChoicePrompt, SchoolOptionsPrompt, TextPrompt
from dialogs.services.accounts.requests import (
    MAX_REASON_CHARS,
    MIN_RUNNERS,
    AccountButtonValue,
    AccountVerb,
    NewAccount,
)
from dialogs.services.messages import Fact, Message, MessageKind
from dialogs.services.school.platforms import LABELS, Platform
from dialogs.turn import ButtonKind, Turn, TurnOutcome

REQUEST_ACCOUNT = "request_account"
ACCOUNT_REASON = "account_reason"

_PLATFORMS = tuple(Choice(p.value, LABELS[p]) for p in Platform)
_VISIBILITY = (
    Choice("open", "Open: anyone can see it"),
    Choice("private", "Private or closed: only people it lets in"),
)


async def _two_people(ctx: DialogContext, value: Any) -> str | None:
    if len(set(value or [])) < MIN_RUNNERS:
        return (
            "Please pick at least two people to run it, so it is never left with only one "
            "person who can get into it."
        )
    return None


class AccountRequestDialog(Dialog):
    name = REQUEST_ACCOUNT
    title = "Request for a new official account"
    noun = "request"
    start_word = "new account"
    help_text = (
        "I'll ask for the business case the policy needs: what the account is for, who it is "
        "for, how it will be promoted, who will run it and whether it is open or private. The "
        "senior leaders then approve or reject it."
    )
    steps = (
        Step("platform", "Platform", ChoicePrompt("Which platform is it on?", _PLATFORMS)),
        Step(
            "name",
            "Name",
            TextPrompt("What will the account be called?", min_length=3, max_length=120),
        ),
        Step(
            "aim",
            "Aim",
            TextPrompt("What is it for? What will it do that the school's accounts don't?"),
        ),
        Step("audience", "Audience", TextPrompt("Who is it for (its intended audience)?")),
        Step(
            "promotion",
            "Promotion",
            TextPrompt("How will it be promoted, so the right people find it?"),
        ),
        Step(
            "runners",
            "Run by",
            SchoolOptionsPrompt(
                "Who will run it? Pick at least two people.",
                "people",
                missing="The school has no staff listed.",
            ),
            check=_two_people,
        ),
        Step("visibility", "Open or private", ChoicePrompt("Open or private?", _VISIBILITY)),
    )

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        request = await ctx.services.accounts.submit(
            NewAccount(
                name=answers["name"],
                platform=Platform(answers["platform"]),
                aim=answers["aim"],
                audience=answers["audience"],
                promotion=answers["promotion"],
                runners=list(answers["runners"]),
                visibility=answers["visibility"],
            ),
            school=ctx.school,
            requester=ctx.person,
        )
        deciders = [p.name for p in ctx.services.accounts.deciders(ctx.school) if p != ctx.person]
        return [
            Message(
                kind=MessageKind.DONE,
                title=f"Sent to the senior leaders: {request.reference}",
                text=f"{', '.join(deciders) or 'The senior leaders'} will approve or reject it; "
                "I'll tell you what they decide. Please don't open the account until then.",
                facts=(Fact(label="Reference", value=request.reference),),
            )
        ]


class AccountReason(OneAnswerDialog):
    """The reason for rejecting a new account: the person who asked is told it."""

    name = ACCOUNT_REASON
    title = "Decision on a new account"
    start_word = "new account"
    restart_hint = "press Reject on the request again"
    help_text = "Type the reason; the person who asked is told it."
    question = "Why not? The person who asked is told your reason."
    max_length = MAX_REASON_CHARS

    async def act(self, ctx: DialogContext, answer: str) -> str:
        decided = await ctx.services.accounts.decide(
            ctx.state.flags["reference"],
            school=ctx.school,
            actor=ctx.person,
            verb=AccountVerb.REJECT,
            reason=answer,
        )
        return decided.message


async def press_account_button(turn: Turn, button: AccountButtonValue) -> TurnOutcome:
    """Approving a new account is done at once; rejecting asks for the reason first."""
    who = turn.who
    services = turn.services()

    async def approve() -> str:
        decided = await services.accounts.decide(
            button.reference, school=who.school, actor=who.person, verb=AccountVerb.APPROVE
        )
        return decided.message

    async def reference() -> str:
        got = await services.accounts.for_decision(
            button.reference, school=who.school, actor=who.person
        )
        return got.reference

    return await turn.at_once_or_reason(
        act=approve if button.verb is AccountVerb.APPROVE else None,
        reason_dialog=ACCOUNT_REASON,
        reference=reference,
    )


ACCOUNT_BUTTONS = ButtonKind("account", AccountButtonValue.decode, press_account_button)
