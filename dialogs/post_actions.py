"""What the buttons on a post request do when pressed in a person's own chat (or typed in the
terminal): approve at once; ask for the reason or the link first; reopen a request sent back
for changes. The channel cards in Slack and Teams call the same services.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from dialogs.engine import DialogContext, DialogState
from dialogs.one_answer import OneAnswerDialog
from dialogs.post_approval import CONFIRMATIONS, REQUEST_POST
from dialogs.services.accounts.requests import account_card
from dialogs.services.accounts.website_reports import website_card
from dialogs.services.container import Services
from dialogs.services.errors import InvalidRequest
from dialogs.services.messages import ImageRef, Message, MessageKind
from dialogs.services.posts.card import (
    STATUS_LABELS,
    PostButtonValue,
    PostStatus,
    PostVerb,
    post_card,
    see_label,
)
from dialogs.services.posts.service import MAX_REASON_CHARS
from dialogs.services.school.permissions import PostAction, may, require
from dialogs.services.school.schools import Person, School
from dialogs.turn import ButtonKind, Turn, TurnOutcome

POST_REASON = "post_reason"
POST_LINK = "post_link"


class PostReason(OneAnswerDialog):
    """The reason for rejecting a post or asking for changes: the author is told it."""

    name = POST_REASON
    title = "Decision on a post"
    start_word = "approvals"
    help_text = "Type the reason; the author is told it, so say what would make the post right."
    question = "What is the reason? The author is told it, so say what would make it right."
    max_length = MAX_REASON_CHARS

    async def act(self, ctx: DialogContext, answer: str) -> str:
        decided = await ctx.services.posts.decide(
            ctx.state.flags["reference"],
            school=ctx.school,
            actor=ctx.person,
            verb=PostVerb(ctx.state.flags["verb"]),
            reason=answer,
            version=ctx.state.flags.get("version"),
        )
        return decided.message


class PostLink(OneAnswerDialog):
    """The link to a post that has gone live, to mark it as published."""

    name = POST_LINK
    title = "Marking a post as published"
    noun = "update"
    start_word = "approvals"
    help_text = "Paste the link to the post as it appears on the account (starting https://)."
    key = "link"
    label = "Link"
    question = "What is the link to the published post? (starting https://)"
    min_length = 8

    async def act(self, ctx: DialogContext, answer: str) -> str:
        decided = await ctx.services.posts.publish(
            ctx.state.flags["reference"], school=ctx.school, actor=ctx.person, link=answer
        )
        return decided.message


async def approve(
    services: Services, school: School, person: Person, reference: str, version: int | None
) -> Message:
    decided = await services.posts.decide(
        reference, school=school, actor=person, verb=PostVerb.APPROVE, version=version
    )
    return Message(kind=MessageKind.INFO, text=decided.message)


async def show_media(services: Services, school: School, person: Person, reference: str) -> Message:
    """The request's photos and videos, handed to the person who asked, in their own chat."""
    request, media = await services.posts.media_to_view(reference, school=school, actor=person)
    if not media:
        return Message(kind=MessageKind.INFO, text=f"{request.reference} has no photos or videos.")
    return Message(
        kind=MessageKind.INFO,
        text=f"Here {'is' if len(media) == 1 else 'are'} the "
        f"{see_label(media).removeprefix('See ').removeprefix('the ')} for {request.reference}"
        f"{f' (version {request.revision})' if request.revision > 1 else ''}, as the author "
        "sent them. Please don't save or share them anywhere else.",
        files=tuple(
            ImageRef(evidence_id=m.id, name=m.original_name, media_type=m.media_type) for m in media
        ),
    )


async def reopen_for_changes(
    services: Services, school: School, person: Person, reference: str
) -> tuple[DialogState, dict[str, Any]]:
    """The state and answers to edit a request sent back for changes, from its summary."""
    request = await services.posts.get(reference, school=school, actor=person)
    require(person, PostAction.CHANGE, request)
    if PostStatus(request.status) is not PostStatus.CHANGES_REQUESTED:
        raise InvalidRequest(
            f"{request.reference} is {STATUS_LABELS[PostStatus(request.status)].lower()}, so "
            "there is nothing to change."
        )
    labels = {c.label: c.value for c in CONFIRMATIONS}
    answers: dict[str, Any] = {
        "accounts": list(request.accounts),
        "text": request.text,
        "media": None,  # the photos already sent stay with the request; new ones are added
        "pupils_pictured": request.pupils_pictured,
        "pupils": ", ".join(request.pupils) if request.pupils else None,
        "planned_at": request.planned_at.astimezone(UTC).isoformat(),
        "confirmed": [labels[c] for c in request.checks.get("confirmed", []) if c in labels],
    }
    state = DialogState(
        dialog=REQUEST_POST,
        flags={
            "resubmit": request.reference,
            "kept_media": len(await services.posts.media(request)),
        },
    )
    return state, answers


async def waiting_for(services: Services, school: School, person: Person) -> list[Message]:
    """What a person types "approvals" to see: every request waiting for their decision (a
    post, a new account, a website to block), each as its card, so a card shown once and
    gone from the screen (as in the terminal) can always be reached again."""
    others = [
        *(account_card(r, school) for r in await services.accounts.waiting_for(school, person)),
        *(website_card(r, school) for r in await services.websites.open_for(school, person)),
    ]
    if others and not may(person, PostAction.LIST_ALL):
        mine = await services.posts.list_for(school=school, actor=person)
        return [*(await _posts_waiting(services, school, person) if mine else []), *others]
    return [*await _posts_waiting(services, school, person), *others]


async def _posts_waiting(services: Services, school: School, person: Person) -> list[Message]:
    """The post requests an approver decides on, each as its card; a person's own otherwise."""
    if not may(person, PostAction.LIST_ALL):
        mine = await services.posts.list_for(school=school, actor=person)
        if not mine:
            return [Message(kind=MessageKind.STATUS, text="You haven't asked for any posts.")]
        return [
            Message(
                kind=MessageKind.STATUS,
                title="Your post requests",
                text="\n".join(
                    f"{r.reference}: {STATUS_LABELS[PostStatus(r.status)]}" for r in mine
                ),
            )
        ]
    waiting = [
        r
        for r in await services.posts.list_for(school=school, actor=person)
        if PostStatus(r.status) in (PostStatus.SUBMITTED, PostStatus.APPROVED)
    ]
    if not waiting:
        return [Message(kind=MessageKind.STATUS, text="No post requests are waiting.")]
    cards = []
    for request in waiting:
        approvals = len(await services.posts.approvers_of(request))
        cards.append(
            post_card(request, school, await services.posts.media(request), approvals=approvals)
        )
    return cards


async def press_post_button(turn: Turn, button: PostButtonValue) -> TurnOutcome:
    """A button on a post request pressed in the person's own chat. Approving and seeing the
    photos need nothing more and are done at once, even mid-dialog; the others ask for
    something first, once the person is known to be able to do it (nobody is asked for a
    reason or a link only to be refused when they give it)."""
    who, current = turn.who, turn.current
    services = turn.services()
    resumed = turn.resumed()
    if button.verb is PostVerb.APPROVE:
        done = await approve(services, who.school, who.person, button.reference, button.version)
        return current, [done, *resumed]
    if button.verb is PostVerb.SHOW_MEDIA:
        shown = await show_media(services, who.school, who.person, button.reference)
        return current, [shown, *resumed]
    busy = [turn.busy("type approvals to see the post again")] if current else []
    if button.verb is PostVerb.RESUBMIT:
        if current is not None:
            return current, [*busy, *resumed]
        state, answers = await reopen_for_changes(
            services, who.school, who.person, button.reference
        )
        summary = turn.engine.start_at_summary(REQUEST_POST, turn.context(state), answers)
        return summary.state, summary.messages
    request = await services.posts.for_decision(
        button.reference,
        school=who.school,
        actor=who.person,
        verb=button.verb,
        version=button.version,
    )
    if current is not None:
        return current, [*busy, *resumed]
    dialog = POST_LINK if button.verb is PostVerb.PUBLISH else POST_REASON
    flags: dict[str, Any] = {"reference": request.reference, "verb": button.verb.value}
    if button.version is not None:
        flags["version"] = button.version
    return await turn.start(dialog, DialogState(dialog=dialog, flags=flags))


POST_BUTTONS = ButtonKind("post", PostButtonValue.decode, press_post_button)
