"""Running a turn: load where the person was, take one step, save, in one transaction.

Because the new state, any evidence received, and any case created are committed together, a
crash at any point either loses nothing or repeats nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.account_request import ACCOUNT_REASON
from dialogs.comment_dialogs import COMMENT_REASON, open_comments
from dialogs.engine import DialogContext, DialogState, Engine
from dialogs.home import (
    APPROVALS,
    ASK_POLICY,
    COLLEAGUE_MISUSE,
    COMMENTS,
    LOG_COMMENT,
    MEDIA_ENQUIRY,
    MENU_VALUES,
    MY_REPORTS,
    REQUEST_ACCOUNT,
    REQUEST_POST,
    START_REPORT,
    WEBSITE_BLOCK,
    about_posting,
    intent,
    menu,
    my_reports,
)
from dialogs.inbox import Arrival, Inbox, Input, Replayed, TurnFailed, Who, files_missed
from dialogs.other_processes import WEBSITE_REASON
from dialogs.policy_question import (
    ANSWER_QUESTION,
    answer_question,
    asked_for,
    follow_up,
    looks_like_question,
    typed_reply,
)
from dialogs.post_actions import (
    POST_LINK,
    POST_REASON,
    approve,
    reopen_for_changes,
    show_media,
    waiting_for,
)
from dialogs.report_abuse import platform_mentioned
from dialogs.reporter_answer import REPORTER_ANSWER
from dialogs.safeguarding_intercept import intercept
from dialogs.services import replies
from dialogs.services.accounts.checks import OwnerButtonValue
from dialogs.services.accounts.requests import AccountButtonValue, AccountVerb
from dialogs.services.accounts.website_reports import WebsiteButtonValue, WebsiteVerb
from dialogs.services.cases.card import ReporterButtonValue
from dialogs.services.comments.card import CommentButtonValue, CommentVerb
from dialogs.services.container import Services
from dialogs.services.errors import MovedOn, PolicybotError, UploadRejected
from dialogs.services.messages import (
    IncomingFile,
    Message,
    MessageKind,
    StoredFile,
    UserInput,
    moved_on,
)
from dialogs.services.notifier import OutboxNotifier, take_undelivered
from dialogs.services.policy.service import (
    PolicyAction,
    parse_action,
    parse_question_ref,
    question_ref,
)
from dialogs.services.posts.card import PostButtonValue, PostVerb
from dialogs.services.replies import Lanes
from dialogs.services.school.platforms import LABELS
from dialogs.services.school.schools import SchoolFinder
from storage import conversations as repo
from storage import events
from storage.conversations import ConcurrentTurn
from storage.db import Database
from storage.journal import Journal

log = logging.getLogger(__name__)

_MENU = frozenset({START_REPORT, MY_REPORTS, ASK_POLICY, REQUEST_POST, APPROVALS})

_File = TypeVar("_File")  # a platform's description of a file to fetch
ServicesFactory = Callable[[AsyncSession, datetime], Services]
# One turn's work inside its transaction: from where the person was to where they are now.
Step = Callable[
    [Who, AsyncSession, datetime, DialogState | None],
    Awaitable[tuple[DialogState | None, list[Message]]],
]


class ConversationRunner:
    def __init__(
        self,
        *,
        db: Database,
        engine: Engine,
        services: ServicesFactory,
        clock: Callable[[], datetime],
        journal: Journal | None = None,
        directory: SchoolFinder | None = None,
        kept_replies: Collection[str] = (),
    ) -> None:
        """`kept_replies` names the platforms whose replies travel over a network that can
        refuse them: those are kept in the outbox until delivered (dialogs.services.replies)."""
        self.db = db
        self.engine = engine
        self.services = services
        self.clock = clock
        self.inbox = Inbox(journal, take=self._take, clock=clock, directory=directory)
        self.lanes = Lanes()
        self._kept_replies = frozenset(kept_replies)

    async def handle(
        self,
        who: Who,
        given: UserInput,
        *,
        delivery_id: str | None = None,
        attempts: int = 3,
        arrival: Arrival | None = None,
    ) -> list[Message]:
        """Take one turn; retried if another turn of the same conversation saved first.

        `delivery_id` identifies a platform delivery (e.g. a Slack event id): a repeat of a
        delivery already acted on returns no messages and changes nothing. The input is kept
        in the inbound journal until the turn is saved (dialogs.inbox).
        """
        received = Input(school_id=who.school.id, person_id=who.person.id, given=given)
        return await self.inbox.accept(who, received, delivery_id, attempts, arrival=arrival)

    async def start_with_capture(
        self,
        who: Who,
        dialog: str,
        captured: dict[str, Any],
        *,
        delivery_id: str,
        files: Sequence[IncomingFile] = (),
    ) -> list[Message]:
        """Start a report about something flagged on the platform itself, keeping it as evidence.

        If a report is already under way, the flagged item is added to it instead, so nothing
        the person flagged is dropped. `files` are the flagged message's own files (a posted
        screenshot or photo), kept as evidence beside its words, because its poster may delete
        them at any moment.
        """
        received = Input(
            school_id=who.school.id,
            person_id=who.person.id,
            given=UserInput(files=tuple(files)),
            capture_dialog=dialog,
            captured=captured,
        )
        return await self.inbox.accept(who, received, delivery_id, 3)

    async def admit(
        self,
        who: Who,
        given: UserInput,
        *,
        file_names: Sequence[str] = (),
        delivery_id: str | None,
        then: Callable[[Arrival], Awaitable[None]],
    ) -> None:
        """Journal a message (with the names of any files still to be fetched) and return at
        once, so the platform can be answered; `then` finishes it in the background, in this
        person's order, usually with `take` (see Inbox.admit)."""
        received = Input(
            school_id=who.school.id,
            person_id=who.person.id,
            given=given,
            unfetched=tuple(file_names),
        )
        await self.inbox.admit(who, received, delivery_id, then)

    async def take(
        self,
        arrival: Arrival,
        given: UserInput,
        *,
        files: Sequence[_File] = (),
        fetch: Callable[[_File], Awaitable[IncomingFile | None]],
        send: Callable[[Sequence[Message]], Awaitable[None]],
    ) -> None:
        """The turn of an admitted message: its files fetched from the platform (any it refuses
        are explained, and the rest go on), then the turn, then its replies.

        `fetch` returns None for a part that is not a file after all and raises UploadRejected
        for one that cannot be taken; `send` delivers replies on the person's platform.
        """
        problems: list[str] = []
        fetched: list[IncomingFile] = []
        for file in files:
            try:
                got = await fetch(file)
            except UploadRejected as exc:
                problems.append(exc.message)
                continue
            if got is not None:
                fetched.append(got)
        if problems:
            # One message for however many of the files sent at once could not be fetched.
            await send([Message(kind=MessageKind.HINT, text="\n\n".join(problems))])
        if given.text.strip() or given.value or fetched:
            whole = given.model_copy(update={"files": tuple(fetched)})
            replies = await self.handle(arrival.who, whole, arrival=arrival)
        else:
            # Every file was refused and nothing was typed: nothing to take, and the person
            # has been told why; show them where they are.
            self.forget(arrival)
            replies = await self.opening(arrival.who) if problems else []
        await send(replies)

    def in_background(self, work: Coroutine[Any, Any, object]) -> None:
        """Work a channel does after answering its platform; `settled` waits for it too."""
        self.inbox.spawn(work)

    async def settled(self) -> None:
        """Wait for admitted messages still being taken."""
        await self.inbox.settled()

    def forget(self, arrival: Arrival) -> None:
        self.inbox.forget(arrival)

    async def replay_journal(self) -> Replayed:
        """Take what waits in the inbound journal; the replies go to the outbox."""
        return await self.inbox.replay()

    async def _take(
        self, who: Who, received: Input, delivery_id: str, attempts: int, *, queue: bool
    ) -> list[Message]:
        """One input's turn (see dialogs.inbox.Take)."""
        if received.unfetched:
            return await self._without_files(who, received, delivery_id, attempts, queue=queue)
        for attempt in range(attempts):
            try:
                if received.capture_dialog is not None:
                    return await self._capture(
                        who,
                        received.capture_dialog,
                        received.captured or {},
                        received.given.files,
                        delivery_id=delivery_id,
                        queue=queue,
                    )
                return await self._turn(who, received.given, delivery_id, queue=queue)
            except ConcurrentTurn:
                log.info("conversation busy, retrying turn (attempt %d)", attempt + 1)
        return [
            Message(
                kind=MessageKind.HINT,
                text="Sorry, I was busy with your previous message. Please send that again.",
            )
        ]

    async def _without_files(
        self, who: Who, received: Input, delivery_id: str, attempts: int, *, queue: bool
    ) -> list[Message]:
        """A message taken after the process stopped while its files were still downloading:
        its text is taken, and the person is told which files to send again."""
        missed = files_missed(received.unfetched)
        if received.given.text.strip():
            kept = replace(received, unfetched=())
            messages = await self._take(who, kept, delivery_id, attempts, queue=False)
            replies = [missed, *messages]
        else:
            replies = [missed, *await self._opening_or_menu(who)]
        if not queue:
            return replies
        try:
            async with self.db.session() as session:
                return await self._replies(who, session, self.clock(), replies, queue=True)
        except Exception as exc:
            raise TurnFailed.of(exc, who) from exc

    async def opening(self, who: Who) -> list[Message]:
        """What to show when a person opens the chat: a resumed dialog or the menu."""
        return await self._opening_or_menu(who)

    async def _opening_or_menu(self, who: Who) -> list[Message]:
        now = self.clock()
        async with self.db.session() as session:
            row = await repo.load_or_create(
                session, who.key, school_id=who.school.id, person_id=who.person.id, now=now
            )
            if row.state is None:
                return [menu(who.person, who.school)]
            who = await self._with_register(who, session, now)
            ctx = self._context(who, session, now, DialogState.model_validate(row.state))
            return self.engine.resume(ctx)

    async def has_moved_on(self, who: Who, given: UserInput) -> bool:
        """Whether a press is for something that has moved on: a question no longer asked
        (Message.question), or a version of a post that has been changed since.

        Channels that must mark a pressed card before its turn is taken ask this; the turn
        itself decides (Engine.advance, the services), so at worst a card is marked a moment
        too early."""
        now = self.clock()
        post = PostButtonValue.decode(given.value) if given.value else None
        async with self.db.session() as session:
            if given.question is not None:
                row = await repo.load_or_create(
                    session, who.key, school_id=who.school.id, person_id=who.person.id, now=now
                )
                asked = DialogState.model_validate(row.state).question if row.state else None
                return asked != given.question
            if post is None or post.version is None:
                return False
            try:
                request = await self.services(session, now).posts.get(
                    post.reference, school=who.school, actor=who.person
                )
            except PolicybotError:
                return False  # the turn says why
            return bool(request.revision != post.version)

    async def deliver_waiting(self, who: Who) -> list[Message]:
        async with self.db.session() as session:
            return list(
                await take_undelivered(
                    session,
                    school_id=who.school.id,
                    person_id=who.person.id,
                    via=who.key.channel,
                    now=self.clock(),
                )
            )

    async def send_replies(self, who: Who, messages: Sequence[Message], post: replies.Post) -> bool:
        """Send a turn's replies in order (with its conversation's earlier replies still
        waiting, which the turn put first); whatever the platform refuses after its own retries
        is left to the delivery worker, never dropped. False when something was left (kick the
        worker). Nothing this process has already sent is sent again."""
        lane = replies.Lane(who.school.id, who.person.id, who.key.channel)
        async with self.lanes.hold(lane):
            queue = [m for m in messages if m.ledger is None or not self.lanes.was_sent(m.ledger)]
            for index, message in enumerate(queue):
                try:
                    await post(message)
                except Exception as exc:  # the platforms' failures have no common type
                    log.warning("reply not sent (%s); left for the outbox", type(exc).__name__)
                    await self._release(lane, queue[index:])
                    return False
                if message.ledger is not None:
                    self.lanes.sent(message.ledger)
            return True

    async def _release(self, lane: replies.Lane, unsent: Sequence[Message]) -> None:
        try:
            async with self.db.session() as session:
                await replies.release(session, lane, unsent, self.clock())
        except Exception as exc:  # the platform and the database are both away
            log.error("replies could not be handed to the outbox: %s", type(exc).__name__)

    async def forget_sent(self) -> None:
        """Delete the outbox rows of replies sent since the last delivery round (on stopping,
        so that the next start does not send them again)."""
        try:
            async with self.db.session() as session:
                await replies.forget_sent(session, self.lanes)
        except Exception as exc:
            log.warning("sent replies not yet forgotten: %s", type(exc).__name__)

    async def _with_register(self, who: Who, session: AsyncSession, now: datetime) -> Who:
        """The person's school as this turn sees it: with the accounts recorded in its
        register as well as those in its configuration."""
        school = await self.services(session, now).register.school(who.school)
        return replace(who, school=school)

    def _context(
        self, who: Who, session: AsyncSession, now: datetime, state: DialogState
    ) -> DialogContext:
        return DialogContext(
            person=who.person,
            school=who.school,
            channel=who.key.channel,
            now=now,
            services=self.services(session, now),
            state=state,
        )

    async def _turn(
        self, who: Who, given: UserInput, delivery_id: str, *, queue: bool
    ) -> list[Message]:
        async def step(
            who: Who, session: AsyncSession, now: datetime, current: DialogState | None
        ) -> tuple[DialogState | None, list[Message]]:
            if current and current.dialog == ASK_POLICY and given.value in _MENU:
                current = None  # a menu button pressed instead of typing a question
            action = parse_action(given.value) if given.value else None
            post_button = PostButtonValue.decode(given.value) if given.value else None
            comment = CommentButtonValue.decode(given.value) if given.value else None
            account = AccountButtonValue.decode(given.value) if given.value else None
            owner = OwnerButtonValue.decode(given.value) if given.value else None
            website = WebsiteButtonValue.decode(given.value) if given.value else None
            reply = ReporterButtonValue.decode(given.value) if given.value else None
            if action is not None:
                state, messages = await self._policy_button(who, session, now, current, *action)
            elif post_button is not None:
                state, messages = await self._post_button(who, session, now, current, post_button)
            elif comment is not None:
                state, messages = await self._comment_button(who, session, now, current, comment)
            elif account is not None:
                state, messages = await self._account_button(who, session, now, current, account)
            elif reply is not None:
                state, messages = await self._reporter_button(who, session, now, current, reply)
            elif website is not None:
                state, messages = await self._website_button(who, session, now, current, website)
            elif owner is not None:
                answered = await self.services(session, now).account_checks.answer(
                    owner.reference, school=who.school, actor=who.person, verb=owner.verb
                )
                state = current
                messages = [Message(kind=MessageKind.INFO, text=answered.message)]
                if current is not None:
                    messages += self.engine.current(self._context(who, session, now, current))
            elif current is not None and given.value in MENU_VALUES and given.question is None:
                # A menu button (an old menu, the App Home) is not an answer to the question
                # asked now, though its value might pass for one ("my_reports" as a platform).
                state = current
                messages = [
                    self._busy(current, "press it again"),
                    *self.engine.current(self._context(who, session, now, current)),
                ]
            elif current is None and given.question is not None:
                # A button of a question whose dialog has ended (sent, cancelled, expired).
                state, messages = None, [moved_on(False), menu(who.person, who.school)]
            elif current is None:
                state, messages = await self._idle(who, session, now, given)
            elif current.dialog == ASK_POLICY and (worry := self._worry(who, session, now, given)):
                state, messages = None, worry  # however long: the lead, not "too long"
            else:
                turn = await self.engine.advance(given, self._context(who, session, now, current))
                state, messages = turn.state, turn.messages
            return state, messages

        return await self._in_turn(who, delivery_id, step, queue=queue)

    async def _capture(
        self,
        who: Who,
        dialog: str,
        captured: dict[str, Any],
        files: Sequence[IncomingFile],
        *,
        delivery_id: str,
        queue: bool,
    ) -> list[Message]:
        async def step(
            who: Who, session: AsyncSession, now: datetime, current: DialogState | None
        ) -> tuple[DialogState | None, list[Message]]:
            return await self._report_with(who, session, now, current, dialog, captured, files)

        return await self._in_turn(who, delivery_id, step, queue=queue)

    async def _in_turn(
        self, who: Who, delivery_id: str, step: Step, *, queue: bool
    ) -> list[Message]:
        """Load where the person was, take one step, save, in one transaction with the claim
        of the delivery: a repeat of a delivery already taken changes nothing."""
        now = self.clock()
        try:
            async with self.db.session() as session:
                if not await events.claim(
                    session, source=who.key.channel, event_id=delivery_id, now=now
                ):
                    return []
                row = await repo.load_or_create(
                    session, who.key, school_id=who.school.id, person_id=who.person.id, now=now
                )
                who = await self._with_register(who, session, now)
                current = DialogState.model_validate(row.state) if row.state else None
                state, messages = await step(who, session, now, current)
                await repo.save_state(
                    session,
                    row,
                    dialog=state.dialog if state else None,
                    state=state.model_dump(mode="json") if state else None,
                    now=now,
                )
                return await self._replies(who, session, now, messages, queue=queue)
        except PolicybotError as exc:
            return await self._refused(who, now, exc, queue=queue)
        except ConcurrentTurn:
            raise
        except Exception as exc:
            # The transaction was rolled back, so the conversation is exactly as it was before
            # this message; the caller keeps the message itself (the journal).
            raise TurnFailed.of(exc, who) from exc

    async def _refused(
        self, who: Who, now: datetime, error: PolicybotError, *, queue: bool
    ) -> list[Message]:
        """A kind "no" to the input; for an input taken from the journal it is queued, since
        nobody is waiting on the request that brought it."""
        kind = MessageKind.MOVED_ON if isinstance(error, MovedOn) else MessageKind.HINT
        hint = [Message(kind=kind, text=error.message)]
        if not queue:
            return hint
        try:
            async with self.db.session() as session:
                return await self._replies(who, session, now, hint, queue=True)
        except Exception as exc:
            raise TurnFailed.of(exc, who) from exc

    async def _replies(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        messages: list[Message],
        *,
        queue: bool,
    ) -> list[Message]:
        """The turn's replies, kept in the outbox in the turn's own transaction for the turn to
        send (see send_replies); or, for an input taken from the journal (nobody is waiting on
        the request that brought it), queued there for the delivery worker."""
        if not queue:
            if who.key.channel not in self._kept_replies or not messages:
                return messages
            lane = replies.Lane(who.school.id, who.person.id, who.key.channel)
            return await replies.keep(session, lane, messages, now, self.lanes)
        # Replies an inner turn already kept for itself to send are queued again here, in
        # this order, with whatever this turn says around them.
        await replies.forget(session, [m.ledger for m in messages if m.ledger is not None])
        outbox = OutboxNotifier(session, now)
        for message in messages:
            outbox.reply(
                school_id=who.school.id,
                person_id=who.person.id,
                platform=who.key.channel,
                message=message,
            )
        return []

    async def _report_with(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        dialog: str,
        captured: dict[str, Any],
        files: Sequence[IncomingFile] = (),
    ) -> tuple[DialogState, list[Message]]:
        """Keep something flagged (a chat message, a comment on an official account) as
        evidence, with the files it carried, in the report under way or in a new one started
        with it."""
        state = current or DialogState(dialog=dialog)
        ctx = self._context(who, session, now, state)
        kept_files, notes = await self._keep_flagged_files(ctx, who, files)
        stored = await ctx.services.evidence.keep_capture(
            json.dumps(captured, ensure_ascii=False, indent=2, sort_keys=True).encode(),
            name=f"{captured.get('platform', 'chat')} message.json",
            media_type="application/json",
            extension=".json",
            school_id=who.school.id,
            person_id=who.person.id,
            draft_key=state.draft_id,
        )
        with_files = ""
        if kept_files:
            names = ", ".join(f"“{f.name}”" for f in kept_files)
            which = "file" if len(kept_files) == 1 else "files"
            with_files = f" I've also kept the {which} it carried: {names}."
        kept = Message(
            kind=MessageKind.INFO,
            text="I've saved the message you flagged as evidence: its words, who posted it, "
            f"where and when, and a link to it.{with_files}",
        )
        evidence = [stored.as_json(), *(f.as_json() for f in kept_files)]
        if current is not None:
            state.scratch.setdefault("files", [])
            if state.step == "evidence" or "evidence" not in state.answers:
                state.scratch["files"].extend(evidence)
            else:
                state.answers["evidence"] = [*(state.answers["evidence"] or []), *evidence]
            messages = [kept, *notes, *self.engine.resume(ctx)]
        else:
            prefill: dict[str, Any] = {
                "platform": captured.get("platform", "Slack"),
                "evidence": evidence,
            }
            if captured.get("permalink"):
                prefill["link"] = captured["permalink"]
            if captured.get("ts"):
                moment = datetime.fromtimestamp(float(captured["ts"]), UTC)
                prefill["occurred_at"] = moment.isoformat()
            elif captured.get("posted_at"):
                prefill["occurred_at"] = str(captured["posted_at"])
            turn = await self.engine.start(dialog, ctx, prefill=prefill)
            state, messages = turn.state or state, [kept, *notes, *turn.messages]
        return state, messages

    @staticmethod
    async def _keep_flagged_files(
        ctx: DialogContext, who: Who, files: Sequence[IncomingFile]
    ) -> tuple[list[StoredFile], list[Message]]:
        """Check and keep a flagged message's files; each refusal is said, none stops the rest."""
        kept: list[StoredFile] = []
        notes: list[Message] = []
        for file in files:
            try:
                kept.append(
                    await ctx.services.evidence.receive(
                        file,
                        school_id=who.school.id,
                        person_id=who.person.id,
                        draft_key=ctx.state.draft_id,
                    )
                )
            except UploadRejected as refused:
                notes.append(Message(kind=MessageKind.HINT, text=refused.message))
        return kept, notes

    async def _policy_button(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        action: PolicyAction,
        question_id: int,
    ) -> tuple[DialogState | None, list[Message]]:
        """A button under a policy answer (or the owner's "Answer it"), pressed at any time:
        it is acted on without losing the place in a dialog under way."""
        services = self.services(session, now)
        resumed = self.engine.current(self._context(who, session, now, current)) if current else []
        if action is not PolicyAction.ANSWER:
            messages = await follow_up(services, who.school, who.person, action, question_id)
            return current, [*messages, *resumed]
        if current is not None:
            later = f"type answer {question_ref(question_id)} to answer this question"
            return current, [self._busy(current, later), *resumed]
        return await self._start_answer(who, session, now, question_id)

    async def _post_button(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        button: PostButtonValue,
    ) -> tuple[DialogState | None, list[Message]]:
        """A button on a post request pressed in the person's own chat. Approving and seeing the
        photos need nothing more and are done at once, even mid-dialog; the others ask for
        something first, once the person is known to be able to do it (nobody is asked for a
        reason or a link only to be refused when they give it)."""
        services = self.services(session, now)
        resumed = self.engine.current(self._context(who, session, now, current)) if current else []
        if button.verb is PostVerb.APPROVE:
            done = await approve(services, who.school, who.person, button.reference, button.version)
            return current, [done, *resumed]
        if button.verb is PostVerb.SHOW_MEDIA:
            shown = await show_media(services, who.school, who.person, button.reference)
            return current, [shown, *resumed]
        busy = [self._busy(current, "type approvals to see the post again")] if current else []
        if button.verb is PostVerb.RESUBMIT:
            if current is not None:
                return current, [*busy, *resumed]
            state, answers = await reopen_for_changes(
                services, who.school, who.person, button.reference
            )
            turn = self.engine.start_at_summary(
                REQUEST_POST, self._context(who, session, now, state), answers
            )
            return turn.state, turn.messages
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
        state = DialogState(dialog=dialog, flags=flags)
        turn = await self.engine.start(dialog, self._context(who, session, now, state))
        return turn.state, turn.messages

    async def _comment_button(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        button: CommentButtonValue,
    ) -> tuple[DialogState | None, list[Message]]:
        """A button on a comment: answered ones are marked at once, even mid-dialog; hiding
        asks for the public reason first; reporting one as abuse starts a report with the
        comment kept as its evidence."""
        services = self.services(session, now)
        resumed = self.engine.current(self._context(who, session, now, current)) if current else []
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
            return current, [self._busy(current, later), *resumed]
        if button.verb is CommentVerb.HIDE:
            state = DialogState(dialog=COMMENT_REASON, flags={"reference": comment.reference})
            turn = await self.engine.start(COMMENT_REASON, self._context(who, session, now, state))
            return turn.state, turn.messages
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
        state, messages = await self._report_with(who, session, now, None, "report_abuse", captured)
        return state, [Message(kind=MessageKind.INFO, text=handled.message), *messages]

    async def _account_button(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        button: AccountButtonValue,
    ) -> tuple[DialogState | None, list[Message]]:
        """Approving a new account is done at once; rejecting asks for the reason first."""
        services = self.services(session, now)

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

        return await self._at_once_or_reason(
            who,
            session,
            now,
            current,
            act=approve if button.verb is AccountVerb.APPROVE else None,
            reason_dialog=ACCOUNT_REASON,
            reference=reference,
        )

    async def _reporter_button(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        button: ReporterButtonValue,
    ) -> tuple[DialogState | None, list[Message]]:
        """The reporter pressed Answer on a question from the lead: ask for the answer."""
        services = self.services(session, now)

        async def reference() -> str:
            case = await services.cases.for_answer(
                button.reference, school=who.school, actor=who.person
            )
            return case.reference

        return await self._at_once_or_reason(
            who, session, now, current, act=None, reason_dialog=REPORTER_ANSWER, reference=reference
        )

    async def _website_button(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        button: WebsiteButtonValue,
    ) -> tuple[DialogState | None, list[Message]]:
        """IT's answer to a website report: blocked is recorded at once; not blocking asks
        for the reason the member of staff is told."""
        services = self.services(session, now)

        async def blocked() -> str:
            return await services.websites.answer(
                button.reference, school=who.school, actor=who.person, verb=button.verb
            )

        async def reference() -> str:
            got = await services.websites.for_answer(
                button.reference, school=who.school, actor=who.person
            )
            return got.reference

        return await self._at_once_or_reason(
            who,
            session,
            now,
            current,
            act=blocked if button.verb is not WebsiteVerb.NOT_BLOCKING else None,
            reason_dialog=WEBSITE_REASON,
            reference=reference,
        )

    async def _at_once_or_reason(
        self,
        who: Who,
        session: AsyncSession,
        now: datetime,
        current: DialogState | None,
        *,
        act: Callable[[], Awaitable[str]] | None,
        reason_dialog: str,
        reference: Callable[[], Awaitable[str]],
    ) -> tuple[DialogState | None, list[Message]]:
        """A decision button in a person's own chat: one that needs nothing more is done at
        once, even mid-dialog; one that needs a reason asks for it, unless a dialog is under
        way (which is kept, and the person told how to come back to this). `reference` checks
        that the person may act on the record as it is now, before anything is asked, so a
        refusal comes at once rather than after the reason is typed."""
        resumed = self.engine.current(self._context(who, session, now, current)) if current else []
        if act is not None:
            return current, [Message(kind=MessageKind.INFO, text=await act()), *resumed]
        flags = {"reference": await reference()}
        if current is not None:
            later = self.engine.dialogs[reason_dialog].restart_hint
            return current, [self._busy(current, later), *resumed]
        state = DialogState(dialog=reason_dialog, flags=flags)
        turn = await self.engine.start(reason_dialog, self._context(who, session, now, state))
        return turn.state, turn.messages

    def _busy(self, current: DialogState, later: str) -> Message:
        """A button that would start something new, pressed while a dialog is under way: the
        dialog is kept, and the person is told how to come back to the button's business."""
        title = self.engine.dialogs[current.dialog].title.lower()
        return Message(
            kind=MessageKind.HINT,
            text=f"You're in the middle of a {title}. Finish or cancel it first; then {later}.",
        )

    async def _start_answer(
        self, who: Who, session: AsyncSession, now: datetime, question_id: int
    ) -> tuple[DialogState | None, list[Message]]:
        question = await self.services(session, now).policies.for_answering(
            who.school, who.person, question_id
        )
        state = DialogState(
            dialog=ANSWER_QUESTION,
            flags={"question_id": question_id, "question_text": question.question},
        )
        turn = await self.engine.start(ANSWER_QUESTION, self._context(who, session, now, state))
        return turn.state, turn.messages

    async def _about_the_policy(
        self, who: Who, session: AsyncSession, now: datetime, typed: str, wanted: str | None
    ) -> tuple[DialogState | None, list[Message]] | None:
        """Typed words about the policy: the owner's "answer Q-7", "ask ..." or a question in
        its own right, or "yes"/"no" straight after an answer; None for anything else."""
        answering = re.match(r"(?i)answer\s+(q-?\d+|\d+)\s*$", typed)
        if answering:
            number = parse_question_ref(answering.group(1))
            assert number is not None
            return await self._start_answer(who, session, now, number)
        question = asked_for(typed)
        if question is None and wanted is None:
            question = looks_like_question(typed)
        services = self.services(session, now)
        if question:
            answered = await answer_question(
                services,
                who.school,
                who.person,
                channel=who.key.channel,
                question=question,
                offer_post=about_posting(question),
            )
            return None, answered
        if wanted is None:
            reply = await typed_reply(services, who.school, who.person, typed)
            if reply is not None:
                return None, reply
        return None

    def _worry(
        self, who: Who, session: AsyncSession, now: datetime, given: UserInput
    ) -> list[Message] | None:
        """The safeguarding reply, if what was typed (not a button pressed) is a worry about a
        child: before the policy is searched, the menu shown, or a report started."""
        if given.value is not None:
            return None
        return intercept(
            self.services(session, now),
            who.school,
            who.person,
            channel=who.key.channel,
            text=given.text,
            files=len(given.files),
        )

    async def _idle(
        self, who: Who, session: AsyncSession, now: datetime, given: UserInput
    ) -> tuple[DialogState | None, list[Message]]:
        worry = self._worry(who, session, now, given)
        if worry:
            return None, worry
        typed = given.answer
        wanted = intent(typed)
        if not given.files:
            handled = await self._about_the_policy(who, session, now, typed, wanted)
            if handled is not None:
                return handled
        if wanted in (
            ASK_POLICY,
            REQUEST_POST,
            LOG_COMMENT,
            MEDIA_ENQUIRY,
            WEBSITE_BLOCK,
            REQUEST_ACCOUNT,
        ):
            assert wanted is not None
            ctx = self._context(who, session, now, DialogState(dialog=wanted))
            turn = await self.engine.start(wanted, ctx)
            return turn.state, turn.messages
        if wanted == APPROVALS:
            services = self.services(session, now)
            return None, await waiting_for(services, who.school, who.person)
        if wanted == COMMENTS:
            services = self.services(session, now)
            return None, await open_comments(services, who.school, who.person)
        if wanted == COLLEAGUE_MISUSE:
            # The same confidential route as a report of abuse, with the colleague as the one
            # responsible; only the safeguarding lead and deputy see it.
            state = DialogState(dialog="report_abuse", flags={"about": "colleague"})
            ctx = self._context(who, session, now, state)
            turn = await self.engine.start("report_abuse", ctx, prefill={"responsible": "staff"})
            return turn.state, turn.messages
        if wanted == START_REPORT:
            ctx = self._context(who, session, now, DialogState(dialog="report_abuse"))
            platform = platform_mentioned(typed)
            prefill: dict[str, Any] = {"platform": platform} if platform else {}
            if re.search(r"(?i)\banonymous(ly)?\b", typed):
                prefill["reporter_visibility"] = "anonymous"
            turn = await self.engine.start("report_abuse", ctx, prefill=prefill)
            return turn.state, turn.messages
        if wanted == MY_REPORTS:
            services = self.services(session, now)
            cases = await services.cases.list_for(
                school=who.school, actor=who.person, mine_only=True
            )
            return None, [
                my_reports(cases, who.school),
                menu(who.person, who.school, greeting=False),
            ]
        messages: list[Message] = []
        if given.files:
            messages.append(
                Message(
                    kind=MessageKind.HINT,
                    text="I can only keep files as part of a report. Start a report first, then "
                    "send them when I ask for screenshots.",
                )
            )
        return None, [*messages, menu(who.person, who.school)]
