"""How a post request appears to approvers, and the buttons they act with.

The card shows the post as it would go out (its words and pictures), where and when, what the
author confirmed and what the checks warned about, so an approver can decide from the card
alone. Its buttons carry only a verb and the request's reference; who pressed them is checked
by the service, never by the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from dialogs.services.messages import Button, Fact, ImageRef, InputKind, Message, MessageKind
from dialogs.services.school.button_values import VerbButton
from dialogs.services.school.platforms import LABELS
from dialogs.services.school.schools import School
from storage.models import Evidence, PostRequest


class PostStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for approval
    CHANGES_REQUESTED = "changes_requested"  # back with the author
    APPROVED = "approved"  # may go live
    REJECTED = "rejected"
    PUBLISHED = "published"
    EXPIRED = "expired"  # approved, but its planned time passed without it going live
    WITHDRAWN = "withdrawn"  # the author took it back


STATUS_LABELS: dict[PostStatus, str] = {
    PostStatus.SUBMITTED: "Waiting for approval",
    PostStatus.CHANGES_REQUESTED: "Changes requested",
    PostStatus.APPROVED: "Approved: ready to publish",
    PostStatus.REJECTED: "Rejected",
    PostStatus.PUBLISHED: "Published",
    PostStatus.EXPIRED: "Expired: not published in time",
    PostStatus.WITHDRAWN: "Withdrawn by the author",
}


class PostVerb(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "changes"
    REJECT = "reject"
    PUBLISH = "publish"
    RESUBMIT = "resubmit"
    SHOW_MEDIA = "media"  # sends the photos and videos to the presser's own chat


# Verbs that need words from the person before they can be done: a reason, or the link.
NEEDS_TEXT = frozenset({PostVerb.REQUEST_CHANGES, PostVerb.REJECT, PostVerb.PUBLISH})


@dataclass(frozen=True)
class PostButtonValue(VerbButton[PostVerb]):
    PREFIX = "post"
    VERBS = PostVerb


def post_button(
    verb: PostVerb,
    reference: str,
    label: str,
    style: Literal["default", "primary", "danger"] = "default",
    *,
    version: int | None = None,
) -> Button:
    return PostButtonValue(verb, reference, version).button(label, style)


def post_subject(request: PostRequest) -> str:
    return f"post:{request.id}"


def accounts_text(request: PostRequest, school: School) -> str:
    names = []
    for account_id in request.accounts:
        account = school.account(account_id)
        names.append(
            f"{account.name} ({LABELS[account.platform]})" if account else f"{account_id} (removed)"
        )
    return ", ".join(names)


def _when(request: PostRequest, school: School) -> str:
    return f"{request.planned_at.astimezone(school.tz):%a %d/%m/%Y %H:%M}"


def post_facts(request: PostRequest, school: School) -> tuple[Fact, ...]:
    facts = [
        Fact(label="Requested by", value=school.display_name(request.author_id)),
        Fact(label="Accounts", value=accounts_text(request, school)),
        Fact(label="Planned for", value=_when(request, school)),
        Fact(
            label="Pupils pictured",
            value=", ".join(request.pupils) if request.pupils else "None",
        ),
    ]
    confirmed = [str(label) for label in request.checks.get("confirmed", [])]
    if confirmed:
        facts.append(Fact(label="Author confirmed", value="; ".join(confirmed)))
    if request.warnings:
        facts.append(Fact(label="Check before approving", value="; ".join(request.warnings)))
    facts.append(Fact(label="Status", value=STATUS_LABELS[PostStatus(request.status)]))
    return tuple(facts)


def see_label(media: Sequence[Evidence]) -> str:
    """ "See the photo", "See 2 photos and the video": what the media button will send."""
    photos = sum(1 for m in media if m.media_type.startswith("image/"))
    videos = len(media) - photos
    parts = []
    for count, noun in ((photos, "photo"), (videos, "video")):
        if count == 1:
            parts.append(f"the {noun}")
        elif count > 1:
            parts.append(f"{count} {noun}s")
    return "See " + " and ".join(parts)


def post_card(
    request: PostRequest,
    school: School,
    media: Sequence[Evidence] = (),
    *,
    approvals: int = 0,
) -> Message:
    """The card in the approvers' channel, replaced in place as the request moves on."""
    status = PostStatus(request.status)
    buttons: tuple[Button, ...] = ()
    if status is PostStatus.SUBMITTED:
        # A decision is for the version the card shows (PostRequests.decide).
        version = request.revision
        buttons = (
            post_button(PostVerb.APPROVE, request.reference, "Approve", "primary", version=version),
            post_button(
                PostVerb.REQUEST_CHANGES, request.reference, "Request changes", version=version
            ),
            post_button(PostVerb.REJECT, request.reference, "Reject", "danger", version=version),
        )
    elif status is PostStatus.APPROVED:
        buttons = (
            post_button(PostVerb.PUBLISH, request.reference, "Mark as published", "primary"),
        )
    if buttons and media:
        # The card names the files; seeing them (a readable name on a certificate, a child
        # without consent in the background) needs the pictures themselves.
        buttons = (*buttons, post_button(PostVerb.SHOW_MEDIA, request.reference, see_label(media)))
    videos = [m.original_name for m in media if m.media_type.startswith("video/")]
    facts = post_facts(request, school)
    if videos:
        facts = (*facts[:-1], Fact(label="Videos", value=", ".join(videos)), facts[-1])
    progress = ""
    if status is PostStatus.SUBMITTED and request.approvals_required > 1:
        progress = f" ({approvals} of {request.approvals_required} approvals)"
    revised = f", version {request.revision}" if request.revision > 1 else ""
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"Post for approval: {request.reference}{revised}{progress}",
        text=request.text,
        facts=facts,
        images=tuple(
            ImageRef(evidence_id=m.id, name=m.original_name, media_type=m.media_type)
            for m in media
            if m.media_type.startswith("image/")
        ),
        buttons=buttons,
        expects=InputKind.CHOICE if buttons else InputKind.NONE,
    )
