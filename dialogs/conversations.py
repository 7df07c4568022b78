"""Running a turn: load where the person was, take one step, save, in one transaction.

Because the new state, any evidence received, and any case created are committed together, a
crash at any point either loses nothing or repeats nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.engine import DialogState, Engine
from dialogs.flagged import report_with
from dialogs.home import menu
from dialogs.inbox import Arrival, Inbox, Input, Replayed, TurnFailed, Who, files_missed
from dialogs.routes import route
from dialogs.services import replies
from dialogs.services.errors import MovedOn, PolicybotError, UploadRejected
from dialogs.services.messages import IncomingFile, Message, MessageKind, UserInput
from dialogs.services.notifier import OutboxNotifier, take_undelivered
from dialogs.services.observer import Observer, Observers, TurnResult
from dialogs.services.posts.card import PostButtonValue
from dialogs.services.replies import Lanes
from dialogs.services.school.schools import SchoolFinder
from dialogs.turn import ServicesFactory, Turn, TurnOutcome
from storage import conversations as repo
from storage import events
from storage.conversations import ConcurrentTurn
from storage.db import Database
from storage.journal import Journal

log = logging.getLogger(__name__)

_File = TypeVar("_File")  # a platform's description of a file to fetch
# One turn's work inside its transaction: from where the person was to where they are now.
TurnWork = Callable[[Turn], Awaitable[TurnOutcome]]


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
        observer: Observer | None = None,
        forget_pause_seconds: float = 0.05,
    ) -> None:
        """`kept_replies` names the platforms whose replies travel over a network that can
        refuse them: those are kept in the outbox until delivered (dialogs.services.replies).
        `observer` is told how each turn ended and how long it took (for monitoring).
        `forget_pause_seconds` is how long sent replies' rows wait to be deleted together."""
        self.db = db
        self.engine = engine
        self.services = services
        self.clock = clock
        self.inbox = Inbox(journal, take=self._take, clock=clock, directory=directory)
        self.lanes = Lanes()
        self._kept_replies = frozenset(kept_replies)
        self._observer = observer or Observers()
        self._forget_pause = forget_pause_seconds
        self._forgetting = False

    def admitting(self) -> AbstractContextManager[None]:
        """Held by a channel while it verifies, journals and answers a request: turns yield to
        it, so the platform's answer never waits behind them (dialogs.turn_slots)."""
        return self.inbox.turn_slots.admitting()

    def busy(self) -> bool:
        """A request is being admitted, or turns are waiting for their slot: not the moment for
        work that stops the event loop (bot.full_collections)."""
        return self.inbox.turn_slots.busy

    def wake_for_backlog(self, wake: Callable[[], None] | None) -> None:
        """`wake` is called when a turn is saved while inputs still wait in the journal for
        the database, so that the replay taking them starts at once (bot.jobs.delivery)."""
        self.inbox.on_backlog = wake

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
            state = DialogState.model_validate(row.state)
            return self.engine.resume(self._turn_of(who, session, now, state).context(state))

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
                    self._forget_soon()
            return True

    def _forget_soon(self) -> None:
        """A sent reply's outbox row is deleted a moment later, with those of every reply sent
        meanwhile: one transaction for many turns' replies under load, rather than one per turn
        (or a delivery round per turn). Until then `Lanes` keeps this process from sending it
        again; a process stopped before the deletion may send it once more (at least once)."""
        if not self._forgetting:
            self._forgetting = True
            self.inbox.spawn(self._forget_batch())

    async def _forget_batch(self) -> None:
        """Until nothing sent is left to delete (replies go on being sent while a batch is
        deleted), or the database refuses: then the delivery worker's round deletes them."""
        try:
            while True:
                await asyncio.sleep(self._forget_pause)
                if not await self.forget_sent() or not self.lanes.unforgotten():
                    return
        finally:
            self._forgetting = False

    async def _release(self, lane: replies.Lane, unsent: Sequence[Message]) -> None:
        try:
            async with self.db.session() as session:
                await replies.release(session, lane, unsent, self.clock())
        except Exception as exc:  # the platform and the database are both away
            log.error("replies could not be handed to the outbox: %s", type(exc).__name__)

    async def forget_sent(self) -> bool:
        """Delete the outbox rows of replies sent and not yet forgotten (also on stopping, so
        that the next start does not send them again); False if the database refused."""
        if not self.lanes.unforgotten():
            return True
        try:
            async with self.lanes.forgetting() as rows, self.db.session() as session:
                await replies.forget(session, rows)
        except Exception as exc:
            log.warning("sent replies not yet forgotten: %s", type(exc).__name__)
            return False
        return True

    async def _with_register(self, who: Who, session: AsyncSession, now: datetime) -> Who:
        """The person's school as this turn sees it: with the accounts recorded in its
        register as well as those in its configuration."""
        school = await self.services(session, now).register.school(who.school)
        return replace(who, school=school)

    def _turn_of(
        self, who: Who, session: AsyncSession, now: datetime, current: DialogState | None
    ) -> Turn:
        return Turn(
            who=who,
            session=session,
            now=now,
            current=current,
            engine=self.engine,
            services_for=self.services,
        )

    async def _turn(
        self, who: Who, given: UserInput, delivery_id: str, *, queue: bool
    ) -> list[Message]:
        async def step(turn: Turn) -> TurnOutcome:
            return await route(turn, given)

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
        async def step(turn: Turn) -> TurnOutcome:
            return await report_with(turn, turn.current, dialog, captured, files)

        return await self._in_turn(who, delivery_id, step, queue=queue)

    async def _in_turn(
        self, who: Who, delivery_id: str, step: TurnWork, *, queue: bool
    ) -> list[Message]:
        """Load where the person was, take one step, save, in one transaction with the claim
        of the delivery: a repeat of a delivery already taken changes nothing. The observer is
        told how it ended and how long it took."""
        now = self.clock()
        started = time.perf_counter()
        result = TurnResult.DONE
        try:
            async with self.db.session() as session:
                if not await events.claim(
                    session, source=who.key.channel, event_id=delivery_id, now=now
                ):
                    result = TurnResult.REPEAT
                    return []
                row = await repo.load_or_create(
                    session, who.key, school_id=who.school.id, person_id=who.person.id, now=now
                )
                who = await self._with_register(who, session, now)
                current = DialogState.model_validate(row.state) if row.state else None
                state, messages = await step(self._turn_of(who, session, now, current))
                await repo.save_state(
                    session,
                    row,
                    dialog=state.dialog if state else None,
                    state=state.model_dump(mode="json") if state else None,
                    now=now,
                )
                return await self._replies(who, session, now, messages, queue=queue)
        except PolicybotError as exc:
            result = TurnResult.REFUSED
            return await self._refused(who, now, exc, queue=queue)
        except ConcurrentTurn:
            result = TurnResult.BUSY
            raise
        except Exception as exc:
            # The transaction was rolled back, so the conversation is exactly as it was before
            # this message; the caller keeps the message itself (the journal).
            failed = TurnFailed.of(exc, who)
            result = TurnResult.UNAVAILABLE if failed.unavailable else TurnResult.FAILED
            raise failed from exc
        finally:
            seconds = time.perf_counter() - started
            self._observer.turn_taken(who.key.channel, result, seconds)
            log.info("%s turn %s in %.3fs", who.key.channel, result.value, seconds)

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
