"""Post requests: from the author's request, through approval, to going live (or not).

The rules the policies agree on are enforced here, whatever channel a button was pressed in:
only approvers approve, never the author of the post; a school can require two approvals, and
an approval counts only for the version of the post it was given to; rejecting or asking for
changes needs a reason, which the author is told. Every step is recorded with who and when,
and written to the audit log, in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from dialogs.services.accounts.register import ReadsTheRegister
from dialogs.services.errors import InvalidRequest, MovedOn, NotFound
from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind
from dialogs.services.posts.card import (
    STATUS_LABELS,
    PostStatus,
    PostVerb,
    accounts_text,
    post_button,
    post_card,
    post_subject,
)
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.school.permissions import PostAction, may, require
from dialogs.services.school.references import school_reference
from dialogs.services.school.schools import Person, Role, School
from storage.models import Evidence, PostDecision, PostRequest

REFERENCE_PREFIX = "PR"
# An approved post not published by its planned time is reminded about at once, and its
# approval lapses this long after: what was right to post on Friday may not be on Monday.
EXPIRE_AFTER = timedelta(hours=24)
MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class NewPost:
    accounts: list[str]
    text: str
    pupils_pictured: bool
    pupils: list[str]
    planned_at: datetime
    confirmed: list[str]  # the checks the author confirmed, in their words
    warnings: list[str]  # what the bot's checks found, for the approver to look at
    draft_key: str
    origin_channel: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decided:
    request: PostRequest
    message: str  # what the person who acted is told


@dataclass(frozen=True)
class PostSweep:
    reminded: int
    expired: int


class PostRequestService(ReadsTheRegister):
    async def last_approved(self, school: School) -> dict[str, datetime]:
        """When something was last approved (or published) for each account (the yearly account
        check asks, through `accounts.checks.AccountActivity`)."""
        result = await self._session.execute(
            select(PostRequest.accounts, PostDecision.at)
            .join(PostDecision, col(PostDecision.request_id) == col(PostRequest.id))
            .where(
                PostRequest.school_id == school.id,
                col(PostDecision.action).in_([PostVerb.APPROVE.value, PostVerb.PUBLISH.value]),
            )
        )
        latest: dict[str, datetime] = {}
        for accounts, at in result.all():
            for account_id in accounts:
                if account_id not in latest or at > latest[account_id]:
                    latest[account_id] = at
        return latest

    # -- asking ------------------------------------------------------------------------------

    async def submit(self, new: NewPost, *, school: School, author: Person) -> PostRequest:
        school = await self._register.school(school)
        self._check_accounts(new.accounts, school)
        reference = await school_reference(self._session, school, REFERENCE_PREFIX, self._now)
        request = PostRequest(
            id=uuid.uuid4().hex,
            school_id=school.id,
            reference=reference,
            author_id=author.id,
            origin_channel=new.origin_channel,
            created_at=self._now,
            updated_at=self._now,
            status=PostStatus.SUBMITTED.value,
            accounts=list(new.accounts),
            text=new.text,
            pupils_pictured=new.pupils_pictured,
            pupils=list(new.pupils),
            planned_at=new.planned_at,
            checks={"confirmed": list(new.confirmed), **new.extra},
            warnings=list(new.warnings),
            approvals_required=school.approvals.required,
        )
        self._session.add(request)
        await self._session.flush()
        await self._attach(new.draft_key, request)
        self._record(request, author, "submit")
        self._audit.about(
            request, "post_request", actor_id=author.id, action=AuditAction.POST_SUBMIT
        )
        await self._announce(request, school)
        return request

    async def resubmit(
        self,
        reference: str,
        *,
        school: School,
        author: Person,
        changes: NewPost,
    ) -> PostRequest:
        """The author's edited version after "request changes": the same request, a new
        revision, and the approvals start again."""
        school = await self._register.school(school)
        request = await self._load(reference, school)
        require(author, PostAction.CHANGE, request)
        if PostStatus(request.status) is not PostStatus.CHANGES_REQUESTED:
            raise InvalidRequest(
                f"{request.reference} is {STATUS_LABELS[PostStatus(request.status)].lower()}, "
                "so it can't be resubmitted."
            )
        self._check_accounts(changes.accounts, school)
        request.revision += 1
        request.accounts = list(changes.accounts)
        request.text = changes.text
        request.pupils_pictured = changes.pupils_pictured
        request.pupils = list(changes.pupils)
        request.planned_at = changes.planned_at
        request.checks = {"confirmed": list(changes.confirmed), **changes.extra}
        request.warnings = list(changes.warnings)
        request.status = PostStatus.SUBMITTED.value
        request.approvals_required = school.approvals.required
        request.updated_at = self._now
        request.reminded_at = None
        await self._attach(changes.draft_key, request)
        self._record(request, author, "resubmit")
        self._audit.about(
            request,
            "post_request",
            actor_id=author.id,
            action=AuditAction.POST_SUBMIT,
            detail=f"version {request.revision}",
        )
        await self._announce(request, school)
        return request

    # -- deciding ----------------------------------------------------------------------------

    async def for_decision(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        verb: PostVerb,
        version: int | None,
    ) -> PostRequest:
        """The request a button was pressed for, checked as the decision (or marking it as
        published) will be, before the reason or the link is asked for: someone who may not do
        it, a card of an older version, or a request no longer waiting for it is refused at
        once, rather than after typing something that could never be taken."""
        request = await self.get(reference, school=school, actor=actor)
        if verb is PostVerb.PUBLISH:
            require(actor, PostAction.PUBLISH, request)
            still_shown(request, version)
            _waiting_to_be_published(request)
            return request
        require(actor, PostAction.DECIDE, request)
        still_shown(request, version)
        _waiting_for_a_decision(request)
        return request

    async def decide(
        self,
        reference: str,
        *,
        school: School,
        actor: Person,
        verb: PostVerb,
        reason: str = "",
        version: int | None = None,
    ) -> Decided:
        """A decision on the request; `version` is the one the decider's card showed (None
        from a card sent before cards named it, or a typed command): a decision on an older
        version is refused, so nobody approves words or pictures they have not seen."""
        school = await self._register.school(school)
        request = await self._load(reference, school)
        require(actor, PostAction.DECIDE, request)
        still_shown(request, version)
        _waiting_for_a_decision(request)
        reason = reason.strip()
        if verb in (PostVerb.REJECT, PostVerb.REQUEST_CHANGES):
            if not reason:
                raise InvalidRequest(
                    "Please give a reason: the author is told it, so they know what to change."
                )
            if len(reason) > MAX_REASON_CHARS:
                raise InvalidRequest(f"Please keep the reason under {MAX_REASON_CHARS} characters.")
        if verb is PostVerb.APPROVE:
            return await self._approve(request, school, actor)
        if verb is PostVerb.REJECT:
            request.status = PostStatus.REJECTED.value
            told = f"Your post {request.reference} was not approved. {actor.name} said: {reason}"
            message = f"You rejected {request.reference}. The author has been told why."
        elif verb is PostVerb.REQUEST_CHANGES:
            request.status = PostStatus.CHANGES_REQUESTED.value
            told = (
                f"{actor.name} asked for changes to your post {request.reference}: {reason} "
                "Edit it and send it again with the button below."
            )
            message = f"You asked for changes to {request.reference}. The author has been told."
        else:
            raise InvalidRequest("Approvers can approve, reject or ask for changes.")
        request.updated_at = self._now
        self._record(request, actor, verb.value, reason)
        self._audit_decision(request, actor, verb.value)
        self._tell_author(request, school, told)
        await self._announce(request, school)
        return Decided(request, message)

    async def _approve(self, request: PostRequest, school: School, actor: Person) -> Decided:
        given = await self.approvers_of(request)
        if actor.id in given:
            raise InvalidRequest(
                f"You have already approved {request.reference}; it needs another approver."
            )
        self._record(request, actor, PostVerb.APPROVE.value)
        self._audit_decision(request, actor, PostVerb.APPROVE.value)
        count = len(given) + 1
        request.updated_at = self._now
        if count < request.approvals_required:
            await self._announce(request, school, approvals=count)
            left = request.approvals_required - count
            return Decided(
                request,
                f"You approved {request.reference}. It needs {left} more approval"
                f"{'s' if left > 1 else ''} before it can go live.",
            )
        request.status = PostStatus.APPROVED.value
        self._tell_author(
            request,
            school,
            f"Your post {request.reference} is approved and can go live on "
            f"{accounts_text(request, school)}. Whoever publishes it marks it as published "
            "with its link.",
        )
        await self._announce(request, school, approvals=count)
        return Decided(request, f"You approved {request.reference}. The author has been told.")

    async def publish(self, reference: str, *, school: School, actor: Person, link: str) -> Decided:
        school = await self._register.school(school)
        request = await self._load(reference, school)
        require(actor, PostAction.PUBLISH, request)
        _waiting_to_be_published(request)
        link = link.strip()
        if not link.startswith(("https://", "http://")) or len(link) > 2000 or " " in link:
            raise InvalidRequest("Please give the link to the published post (starting https://).")
        request.status = PostStatus.PUBLISHED.value
        request.published_at, request.published_link = self._now, link
        request.published_by, request.updated_at = actor.id, self._now
        self._record(request, actor, PostVerb.PUBLISH.value, link)
        self._audit.about(
            request, "post_request", actor_id=actor.id, action=AuditAction.POST_PUBLISH
        )
        if actor.id != request.author_id:
            self._tell_author(request, school, f"Your post {request.reference} is live: {link}")
        await self._announce(request, school)
        return Decided(request, f"{request.reference} is marked as published.")

    # -- time passing --------------------------------------------------------------------------

    async def sweep(self, school: School) -> PostSweep:
        """Remind about approved posts whose planned time has passed, once; let approvals lapse
        EXPIRE_AFTER later, telling the author and the approvers' channel."""
        school = await self._register.school(school)
        result = await self._session.execute(
            select(PostRequest).where(
                PostRequest.school_id == school.id,
                PostRequest.status == PostStatus.APPROVED.value,
                col(PostRequest.planned_at) <= self._now,
            )
        )
        reminded = expired = 0
        for request in result.scalars().all():
            if self._now >= request.planned_at + EXPIRE_AFTER:
                request.status = PostStatus.EXPIRED.value
                request.updated_at = self._now
                self._record(request, None, "expire")
                self._audit.about(
                    request, "post_request", actor_id=None, action=AuditAction.POST_EXPIRE
                )
                self._tell_author(
                    request,
                    school,
                    f"The approval of {request.reference} has lapsed: it was not published "
                    "within a day of its planned time. If it should still go out, ask for "
                    "approval again.",
                )
                await self._announce(request, school)
                expired += 1
            elif request.reminded_at is None:
                request.reminded_at = self._now
                self._tell_author(
                    request,
                    school,
                    f"{request.reference} was approved for "
                    f"{request.planned_at.astimezone(school.tz):%d/%m/%Y %H:%M} but isn't marked "
                    "as published yet. If it has gone out, mark it as published with its link; "
                    "the approval lapses a day after the planned time.",
                    publish_button=True,
                )
                self._remind_publishers(request, school)
                reminded += 1
        return PostSweep(reminded, expired)

    # -- reading -------------------------------------------------------------------------------

    async def get(self, reference: str, *, school: School, actor: Person | None) -> PostRequest:
        """A request its author or an overseer may see; None is the command line, run by
        whoever administers the server. Someone else is told it cannot be found."""
        request = await self._load(reference, school)
        if actor is None:
            return request
        require(actor, PostAction.VIEW, request)
        return request

    async def list_for(
        self, *, school: School, actor: Person | None, status: PostStatus | None = None
    ) -> Sequence[PostRequest]:
        """Requests a person may see (their own, or all for overseers); None is the command
        line, run by whoever administers the server."""
        query = select(PostRequest).where(PostRequest.school_id == school.id)
        if actor is not None and not may(actor, PostAction.LIST_ALL):
            query = query.where(PostRequest.author_id == actor.id)
        if status is not None:
            query = query.where(PostRequest.status == status.value)
        result = await self._session.execute(query.order_by(col(PostRequest.created_at)))
        return result.scalars().all()

    async def decisions(self, request: PostRequest) -> list[PostDecision]:
        result = await self._session.execute(
            select(PostDecision)
            .where(PostDecision.request_id == request.id)
            .order_by(col(PostDecision.id))
        )
        return list(result.scalars().all())

    async def approvers_of(self, request: PostRequest) -> list[str]:
        """Who has approved the current version (earlier versions' approvals do not count)."""
        return [
            d.actor_id
            for d in await self.decisions(request)
            if d.revision == request.revision and d.action == PostVerb.APPROVE.value
        ]

    async def media(self, request: PostRequest) -> list[Evidence]:
        result = await self._session.execute(
            select(Evidence)
            .where(Evidence.post_request_id == request.id)
            .order_by(col(Evidence.received_at), col(Evidence.id))
        )
        return list(result.scalars().all())

    async def media_to_view(
        self, reference: str, *, school: School, actor: Person
    ) -> tuple[PostRequest, list[Evidence]]:
        """The photos and videos of a request, for its author or an overseer to look at.

        Pictures of pupils are the most sensitive part of a request, so each viewing is
        audited with who asked; the files themselves go only to that person's own chat.
        """
        request = await self._load(reference, school)
        require(actor, PostAction.VIEW_MEDIA, request)
        media = await self.media(request)
        if media:
            self._audit.about(
                request,
                "post_request",
                actor_id=actor.id,
                action=AuditAction.POST_MEDIA_VIEW,
                detail=f"{len(media)} file{'s' if len(media) != 1 else ''}",
            )
        return request, media

    # -- internals -----------------------------------------------------------------------------

    async def _load(self, reference: str, school: School) -> PostRequest:
        result = await self._session.execute(
            select(PostRequest).where(
                PostRequest.school_id == school.id,
                PostRequest.reference == reference.strip().upper(),
            )
        )
        request = result.scalars().first()
        if request is None:
            raise NotFound(f"I can't find a post request {reference.strip().upper()[:40]}.")
        return request

    @staticmethod
    def _check_accounts(accounts: Sequence[str], school: School) -> None:
        if not accounts:
            raise InvalidRequest("Please choose at least one account for the post.")
        unknown = [a for a in accounts if school.account(a) is None]
        if unknown:
            raise InvalidRequest(f"{school.name} has no official account {unknown[0]!r}.")

    async def _attach(self, draft_key: str, request: PostRequest) -> None:
        result = await self._session.execute(
            select(Evidence).where(
                Evidence.draft_key == draft_key,
                col(Evidence.case_id).is_(None),
                col(Evidence.post_request_id).is_(None),
            )
        )
        for record in result.scalars().all():
            record.post_request_id = request.id
            record.draft_key = None

    def _record(
        self, request: PostRequest, actor: Person | None, action: str, reason: str = ""
    ) -> None:
        self._session.add(
            PostDecision(
                request_id=request.id,
                revision=request.revision,
                at=self._now,
                actor_id=actor.id if actor else "policybot",
                action=action,
                reason=reason,
            )
        )

    def _audit_decision(self, request: PostRequest, actor: Person, action: str) -> None:
        self._audit.about(
            request,
            "post_request",
            actor_id=actor.id,
            action=AuditAction.POST_DECIDE,
            detail=action,
        )

    def _tell_author(
        self, request: PostRequest, school: School, text: str, *, publish_button: bool = False
    ) -> None:
        buttons: tuple[Button, ...] = ()
        if PostStatus(request.status) is PostStatus.CHANGES_REQUESTED:
            buttons = (
                post_button(PostVerb.RESUBMIT, request.reference, "Edit and resubmit", "primary"),
            )
        elif publish_button:
            buttons = (
                post_button(PostVerb.PUBLISH, request.reference, "Mark as published", "primary"),
            )
        self._notifier.notify(
            school_id=school.id,
            person_id=request.author_id,
            kind="post_status",
            message=Message(
                kind=MessageKind.NOTIFICATION,
                title=f"Your post {request.reference}: {STATUS_LABELS[PostStatus(request.status)]}",
                text=text,
                facts=(Fact(label="Accounts", value=accounts_text(request, school)),),
                buttons=buttons,
                expects=InputKind.CHOICE if buttons else InputKind.NONE,
            ),
        )

    def _remind_publishers(self, request: PostRequest, school: School) -> None:
        """Moderators run the accounts and usually publish: they hear about it too."""
        when = request.planned_at.astimezone(school.tz)
        for moderator in school.with_role(Role.MODERATOR):
            if moderator.id == request.author_id:
                continue
            self._notifier.notify(
                school_id=school.id,
                person_id=moderator.id,
                kind="post_reminder",
                message=Message(
                    kind=MessageKind.NOTIFICATION,
                    title=f"Not published yet: {request.reference}",
                    text=f"{request.reference} by {school.display_name(request.author_id)} was "
                    f"approved for {when:%d/%m/%Y %H:%M} but isn't marked as published. If it "
                    "has gone out, mark it as published with its link; the approval lapses a day "
                    "after the planned time.",
                    facts=(Fact(label="Accounts", value=accounts_text(request, school)),),
                    buttons=(
                        post_button(
                            PostVerb.PUBLISH, request.reference, "Mark as published", "primary"
                        ),
                    ),
                    expects=InputKind.CHOICE,
                ),
            )

    async def _announce(
        self, request: PostRequest, school: School, *, approvals: int | None = None
    ) -> None:
        """Post (or update) the request's card in the approvers' channel."""
        if approvals is None:
            approvals = len(await self.approvers_of(request))
        self._notifier.notify_channel(
            school_id=school.id,
            purpose="approvals",
            subject=post_subject(request),
            kind="post_card",
            message=post_card(request, school, await self.media(request), approvals=approvals),
        )


def _waiting_for_a_decision(request: PostRequest) -> None:
    if PostStatus(request.status) is not PostStatus.SUBMITTED:
        raise InvalidRequest(
            f"{request.reference} is already "
            f"{STATUS_LABELS[PostStatus(request.status)].lower()}; nothing has been changed."
        )


def _waiting_to_be_published(request: PostRequest) -> None:
    if PostStatus(request.status) is not PostStatus.APPROVED:
        raise InvalidRequest(
            f"{request.reference} is {STATUS_LABELS[PostStatus(request.status)].lower()}: "
            "only an approved post can be marked as published."
        )


def still_shown(request: PostRequest, version: int | None) -> None:
    """A card's button names the version it showed; the post may have been changed since."""
    if version is not None and version != request.revision:
        raise MovedOn(
            f"That card shows version {version} of {request.reference}, but the post has been "
            f"changed since: version {request.revision} is the one to decide on. Nothing has "
            f"been changed. Type approvals to see version {request.revision}."
        )
