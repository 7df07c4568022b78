"""Asking for approval of a post on the school's official accounts.

The order follows the policy's checklist: where it goes and what it says first (so the name
check can warn while the author can still change the words), then the pictures, then the
pupils in them, checked against the consent register for every chosen platform, then when,
and last the author's own confirmations of what no software can check. A pupil without
consent for a chosen platform blocks the request there and then, saying exactly why; names in
the text only warn, because the author and the approver decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dialogs.engine import Dialog, DialogContext, Step
from dialogs.prompts import (
    AttachmentPrompt,
    Choice,
    DateTimePrompt,
    Json,
    MultiChoicePrompt,
    Outcome,
    Prompt,
    PromptContext,
    SchoolOptionsPrompt,
    TextPrompt,
    YesNoPrompt,
)
from dialogs.services.errors import InvalidRequest
from dialogs.services.messages import Fact, InputKind, Message, MessageKind, UserInput
from dialogs.services.posts.name_scan import scan_post_text
from dialogs.services.posts.service import NewPost
from dialogs.services.school.platforms import Platform

REQUEST_POST = "request_post"
MAX_POST_CHARS = 5000
X_LIMIT = 280

CONFIRMATIONS = (
    Choice("positive", "It is positive and relevant: an achievement, an event or a reminder"),
    Choice("identity", "Nothing in it identifies a child, unless extra consent covers it"),
    Choice("readable", "No child's name can be read in any photo (certificates, work, badges)"),
    Choice("device", "Photos and videos were taken on a school device, or one approved"),
    Choice("deleted", "Copies on personal devices will be deleted once it is uploaded"),
)
# Only these apply to a post without photos.
_TEXT_ONLY = frozenset({"positive", "identity"})


def _has_media(answers: Mapping[str, Any], flags: Mapping[str, Any]) -> bool:
    """New photos in this draft, or (editing a request sent back) photos it already has."""
    return bool(answers.get("media")) or bool(flags.get("kept_media"))


def _checks_for(answers: Mapping[str, Any], flags: Mapping[str, Any]) -> tuple[Choice, ...]:
    if _has_media(answers, flags):
        return CONFIRMATIONS
    return tuple(c for c in CONFIRMATIONS if c.value in _TEXT_ONLY)


def _missing_checks(answers: Mapping[str, Any], flags: Mapping[str, Any]) -> list[str]:
    given = set(answers.get("confirmed") or [])
    return [c.label for c in _checks_for(answers, flags) if c.value not in given]


class ChecksPrompt(Prompt):
    """The author's confirmations. The photo checks are offered only for a post with photos:
    asking someone to confirm things about pictures they did not send teaches them to tick
    boxes without reading."""

    expects = InputKind.MULTI_CHOICE

    @property
    def how_to_answer(self) -> str:
        return "Pick all that apply from the list (for example: 1, 2)."

    def _choices(self, ctx: PromptContext) -> MultiChoicePrompt:
        return MultiChoicePrompt(self.question, _checks_for(ctx.answers, ctx.flags))

    def ask(self, ctx: PromptContext, current: Json | None, *, title: str | None) -> Message:
        return self._choices(ctx).ask(ctx, current, title=title)

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        return await self._choices(ctx).parse(given, ctx)

    def show(self, value: Json, ctx: PromptContext) -> str:
        return MultiChoicePrompt(self.question, CONFIRMATIONS).show(value, ctx)


def _platforms(ctx: DialogContext, accounts: Sequence[str]) -> list[Platform]:
    found: list[Platform] = []
    for account_id in accounts:
        account = ctx.school.account(account_id)
        if account is not None and account.platform not in found:
            found.append(account.platform)
    return found


def split_names(text: str) -> list[str]:
    """Names typed as "Amelia Hart, Noah Williams and Zoë O'Neill (Year 4)" or one a line."""
    parts = re.split(r"\s*(?:,|;|\n|\band\b|&)\s*(?![^()]*\))", text)
    return [p.strip() for p in parts if p.strip()]


async def _consent_problem(
    ctx: DialogContext, names: Sequence[str], accounts: Sequence[str]
) -> str | None:
    if not names:
        return None
    checked = await ctx.services.consent.check(ctx.school.id, names, _platforms(ctx, accounts))
    if not checked.blocked:
        return None
    return (
        " ".join(checked.problems)
        + " A post can only picture pupils with consent for every platform it goes to."
    )


async def _check_accounts(ctx: DialogContext, value: Any) -> str | None:
    """Changing the accounts from the summary re-checks the pupils already named."""
    names = split_names(ctx.state.answers.get("pupils") or "")
    if not ctx.state.answers.get("pupils_pictured"):
        return None
    return await _consent_problem(ctx, names, value)


async def _check_pupils(ctx: DialogContext, value: Any) -> str | None:
    names = split_names(value)
    if not names:
        return "Please type the full name of each pupil, separated by commas."
    return await _consent_problem(ctx, names, ctx.state.answers.get("accounts") or [])


async def _check_confirmations(ctx: DialogContext, value: Any) -> str | None:
    missing = _missing_checks({**ctx.state.answers, "confirmed": value}, ctx.state.flags)
    if not missing:
        return None
    return (
        "Each of these must be true before a post can be approved: "
        + "; ".join(missing)
        + ". If one isn't, change the post first (type back), or type cancel."
    )


async def _register_names(ctx: DialogContext) -> list[str]:
    return [p.name for p in await ctx.services.consent.pupils(ctx.school.id)]


async def _warnings(ctx: DialogContext, text: str, accounts: Sequence[str]) -> list[str]:
    warnings = [f.message for f in scan_post_text(text, await _register_names(ctx))]
    if Platform.X in _platforms(ctx, accounts) and len(text) > X_LIMIT:
        warnings.append(f"The text is {len(text)} characters; a post on X can only have {X_LIMIT}.")
    return warnings


async def _after_text(ctx: DialogContext, value: Any) -> Sequence[Message]:
    warnings = await _warnings(ctx, value, ctx.state.answers.get("accounts") or [])
    if not warnings:
        return ()
    return [
        Message(
            kind=MessageKind.REMINDER,
            title="Check before you go on",
            text="The policy says nothing in a post may identify a child. I noticed:\n"
            + "\n".join(f"• {w}" for w in warnings)
            + "\nIf that's not right, type back and change the words. The approver will see "
            "these notes too.",
        )
    ]


class RequestPost(Dialog):
    name = REQUEST_POST
    title = "Request to publish a post"
    noun = "request"
    start_word = "post"
    help_text = (
        "I'll ask where the post should go, what it says, any photos, who is pictured and when "
        "it should go out, then send it to the school's approvers. Someone other than you must "
        "approve it before it goes live."
    )
    steps = (
        Step(
            "accounts",
            "Accounts",
            SchoolOptionsPrompt(
                "Which official account(s) should it go on? Pick all that apply.",
                "accounts",
                missing="The school hasn't listed any official accounts yet, so there is "
                "nowhere to post. Please ask your IT administrator to add them.",
            ),
            check=_check_accounts,
        ),
        Step(
            "text",
            "Text",
            TextPrompt(
                "What should the post say? Type it exactly as it should appear.",
                min_length=3,
                max_length=MAX_POST_CHARS,
            ),
            after=_after_text,
        ),
        Step(
            "media",
            "Photos and videos",
            AttachmentPrompt(
                "Send any photos or videos for the post (one or more), then type done.",
                what="photos or videos",
            ),
            optional=True,
        ),
        Step(
            "pupils_pictured",
            "Pupils pictured or named",
            YesNoPrompt("Do any pupils appear in the photos, or are any named in the post?"),
        ),
        Step(
            "pupils",
            "Pupils",
            TextPrompt(
                "Who? Type each pupil's full name, separated by commas. If two pupils share a "
                "name, add the year group, for example: Sam Lee (Year 4).",
                min_length=3,
                max_length=2000,
            ),
            when=lambda a: bool(a.get("pupils_pictured")),
            check=_check_pupils,
        ),
        Step(
            "planned_at",
            "When",
            DateTimePrompt("When should it go out?", planning=True),
        ),
        Step(
            "confirmed",
            "Checks",
            ChecksPrompt("Last, please confirm each of these that is true. Pick all that apply."),
            check=_check_confirmations,
        ),
    )

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        accounts = list(answers["accounts"])
        text = answers["text"]
        pupils = split_names(answers.get("pupils") or "") if answers["pupils_pictured"] else []
        problem = await _consent_problem(ctx, pupils, accounts)
        if problem:
            # The register changed while the request was being written. Raising rolls the turn
            # back, so the request stays at its summary, ready to change and send again.
            raise InvalidRequest(
                problem + " Nothing was sent: change the pupils or the accounts, then send it."
            )
        if _missing_checks(answers, ctx.state.flags):
            # Photos were added from the summary after the checks were answered without them.
            raise InvalidRequest(
                "The post has photos or videos now, so please confirm the photo checks too: "
                "press “Change an answer” and choose Checks. Nothing was sent."
            )
        labels = {c.value: c.label for c in CONFIRMATIONS}
        post = NewPost(
            accounts=accounts,
            text=text,
            pupils_pictured=bool(answers["pupils_pictured"]),
            pupils=pupils,
            planned_at=datetime.fromisoformat(answers["planned_at"]),
            confirmed=[labels[v] for v in answers["confirmed"]],
            warnings=await _warnings(ctx, text, accounts),
            draft_key=ctx.state.draft_id,
            origin_channel=ctx.channel,
        )
        resubmitting = ctx.state.flags.get("resubmit")
        if resubmitting:
            request = await ctx.services.posts.resubmit(
                resubmitting, school=ctx.school, author=ctx.person, changes=post
            )
        else:
            request = await ctx.services.posts.submit(post, school=ctx.school, author=ctx.person)
        needed = request.approvals_required
        return [
            Message(
                kind=MessageKind.DONE,
                title=f"Sent for approval: {request.reference}",
                text=f"Your post is with the school's approvers. It needs {needed} approval"
                f"{'s' if needed > 1 else ''} from someone other than you before it can go live; "
                "I'll tell you what they decide. Nothing is posted until then.",
                facts=(Fact(label="Reference", value=request.reference),),
            )
        ]
