"""Inputs on their way into a turn: kept in the inbound journal until the turn is saved.

The journal (storage.journal) stores a plain JSON payload; `Input` is the one place that turns a
turn's input into that payload and back, so a message taken after a restart is exactly the
message that arrived. `Inbox` keeps the order and the promises: each input is journaled before
its turn, a person's inputs are taken one at a time in the order they came, an input whose turn
the database could not take waits (and the person is told so, not asked to send it again), and
one that failed for another reason is set aside for IT rather than lost.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from dialogs.services.keyed_locks import KeyedLocks
from dialogs.services.messages import (
    IncomingFile,
    Message,
    MessageKind,
    UserInput,
    whole_json,
    whole_text,
)
from dialogs.services.school.schools import Person, School, SchoolFinder
from dialogs.turn_slots import TurnSlots
from storage.conversations import ConversationKey
from storage.crypto import KeyMissing
from storage.db import is_unavailable
from storage.group_commit import GroupCommit
from storage.journal import (
    Entry,
    Journal,
    arrived_before,
    belongs_to_another_live_process,
    conversation_tag,
)

log = logging.getLogger(__name__)


@dataclass
class Who:
    person: Person
    school: School
    key: ConversationKey


@dataclass(frozen=True)
class Input:
    """One journaled input: a turn (typed text, a button, files) or a flagged item to report.

    `unfetched` names files that were still being downloaded from the platform when the input
    was first written: if the process stopped then, the person is told which did not arrive.
    """

    school_id: str
    person_id: str
    given: UserInput
    capture_dialog: str | None = None
    captured: dict[str, Any] | None = None
    unfetched: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A flagged item is the platform's own JSON, kept as it came: only what cannot be
        # written (a lone surrogate) is replaced. Typed text is made whole in UserInput.
        if self.captured is not None:
            object.__setattr__(self, "captured", whole_json(self.captured))
        object.__setattr__(self, "unfetched", tuple(whole_text(n) for n in self.unfetched))

    def to_payload(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "person_id": self.person_id,
            "text": self.given.text,
            "value": self.given.value,
            "question": self.given.question,
            "files": [
                {
                    "name": f.name,
                    "data": base64.b64encode(f.data).decode("ascii"),
                    "declared_type": f.declared_type,
                    "size": f.size,
                }
                for f in self.given.files
            ],
            "capture_dialog": self.capture_dialog,
            "captured": self.captured,
            "unfetched": list(self.unfetched),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Input:
        files = tuple(
            IncomingFile(
                name=str(f["name"]),
                data=base64.b64decode(f["data"]),
                declared_type=f.get("declared_type"),
                size=f.get("size"),
            )
            for f in payload.get("files") or []
        )
        return cls(
            school_id=str(payload["school_id"]),
            person_id=str(payload["person_id"]),
            given=UserInput(
                text=str(payload.get("text") or ""),
                value=payload.get("value"),
                files=files,
                question=payload.get("question"),
            ),
            capture_dialog=payload.get("capture_dialog"),
            captured=payload.get("captured"),
            unfetched=tuple(str(n) for n in payload.get("unfetched") or ()),
        )


class TurnFailed(Exception):
    """A turn was rolled back by a fault, not refused by the rules; its input must be kept."""

    def __init__(self, problem: str, *, unavailable: bool) -> None:
        super().__init__(problem)
        self.problem = problem
        self.unavailable = unavailable

    @classmethod
    def of(cls, error: Exception, who: Who) -> TurnFailed:
        unavailable = is_unavailable(error)
        if unavailable:
            # Expected while the database is away; the input waits in the journal.
            log.warning(
                "database unavailable during a %s turn: %s", who.key.channel, type(error).__name__
            )
        else:
            log.error(
                "turn failed for %s conversation %s",
                who.key.channel,
                who.key.user_key,
                exc_info=error,
            )
        return cls(type(error).__name__, unavailable=unavailable)


class Taken(enum.Enum):
    DONE = "done"
    WAITING = "waiting"  # the database is away, or another process has it: try again later
    SET_ASIDE = "set aside"  # a fault other than the database: kept in failed/ for IT


@dataclass(frozen=True)
class Replayed:
    taken: int = 0
    waiting: int = 0
    set_aside: int = 0


@dataclass(frozen=True)
class Arrival:
    """An input journaled as it arrived, before its turn (see Inbox.admit):
    `entry` is what was written, and `path` None when there is no journal or it could not be
    written."""

    path: Path | None
    delivery_id: str
    who: Who
    entry: Entry | None = None


class Take(Protocol):
    """A turn (ConversationRunner._take): raises TurnFailed when it was rolled back by a fault.
    With `queue`, the replies go to the outbox in the turn's own transaction."""

    def __call__(
        self, who: Who, received: Input, delivery_id: str, attempts: int, *, queue: bool
    ) -> Awaitable[list[Message]]: ...


class Inbox:
    def __init__(
        self,
        journal: Journal | None,
        *,
        take: Take,
        clock: Callable[[], datetime],
        directory: SchoolFinder | None,
        turns_at_once: int = 16,
    ) -> None:
        self.journal = journal
        # Entries arriving together are written as one group, and each admit still returns
        # only once its own entry is on disk (storage.group_commit).
        self._writes = GroupCommit(journal) if journal is not None else None
        self._take = take
        self._clock = clock
        self._directory = directory
        self._locks: KeyedLocks[str] = KeyedLocks()
        # Turns in progress at once. Beyond this they wait their turn: each running turn is
        # more work for one event loop, and acknowledging new requests (Slack wants it within
        # 3 s, Teams within 15 s) would wait behind all of them; while requests are being
        # acknowledged, one at a time (dialogs.turn_slots).
        self.turn_slots = TurnSlots(turns_at_once)
        self._tasks: set[asyncio.Task[None]] = set()
        # Inputs were left waiting for the database: once a turn goes through again, the
        # replay that takes them is woken (`on_backlog`) rather than waiting for its timer.
        self._backlog = False
        self.on_backlog: Callable[[], None] | None = None

    def _taken_live(self) -> None:
        """A live turn has been saved: the database takes turns again."""
        if self._backlog and self.on_backlog is not None:
            self._backlog = False
            self.on_backlog()

    async def accept(
        self,
        who: Who,
        received: Input,
        delivery_id: str | None,
        attempts: int,
        *,
        arrival: Arrival | None = None,
    ) -> list[Message]:
        """Journal the input, take anything of this conversation still waiting before it (in
        order), then take it. While the database is away it stays journaled and the person is
        told it is kept."""
        delivery = (arrival.delivery_id if arrival else delivery_id) or _new_delivery()
        if self.journal is None or (arrival is not None and arrival.path is None):
            return await self._unjournaled(who, received, delivery, attempts)
        entry = Entry(
            key=who.key,
            delivery_id=delivery,
            received_at=arrival.entry.received_at if arrival and arrival.entry else self._clock(),
            payload=received.to_payload(),
        )
        if arrival is not None and arrival.path is not None:
            # Its conversation is already held by `admit`. An entry written before its files
            # were fetched is completed in place, keeping its place in the order things came.
            if arrival.entry is None or arrival.entry.payload != entry.payload:
                try:
                    await asyncio.to_thread(self.journal.rewrite, arrival.path, entry)
                except (OSError, ValueError) as exc:
                    # The disk refused (full): the entry stays as first written, naming the
                    # files still to fetch, and the turn is taken with them all the same.
                    log.error("could not journal an input's files (%s)", type(exc).__name__)
            return await self._accept_held(who, received, entry, arrival.path, attempts)
        async with self._conversation(conversation_tag(who.key)):
            # Written (and flushed to disk) off the event loop, so other people's turns go on.
            try:
                path = await self._write(entry, self.journal.place(entry))
            except (OSError, ValueError) as exc:
                log.error(
                    "could not journal an input (%s); taking it unjournaled", type(exc).__name__
                )
                return await self._unjournaled(who, received, delivery, attempts)
            return await self._accept_held(who, received, entry, path, attempts)

    async def _unjournaled(
        self, who: Who, received: Input, delivery: str, attempts: int
    ) -> list[Message]:
        """Take a turn with nothing kept on disk (no journal, or a disk that refused it): if it
        fails, nothing is left to take it again, and the person is asked to send it again."""
        try:
            async with self.turn_slots.slot():
                return await self._take(who, received, delivery, attempts, queue=False)
        except TurnFailed:
            return [not_saved()]

    async def admit(
        self,
        who: Who,
        received: Input,
        delivery_id: str | None,
        then: Callable[[Arrival], Awaitable[None]],
    ) -> None:
        """Journal an input and return once it is on disk, so the platform can be answered
        at once; `then` takes it in the background, after this person's earlier inputs and
        holding their conversation meanwhile (give the Arrival to `accept`). If `then` fails
        or the process stops, the entry is still journaled and the next replay takes it."""
        delivery = delivery_id or _new_delivery()
        tag = conversation_tag(who.key)
        if self.journal is None:
            self.spawn(self._held(tag, None, then, Arrival(None, delivery, who)))
            return
        entry = Entry(
            key=who.key,
            delivery_id=delivery,
            received_at=self._clock(),
            payload=received.to_payload(),
        )
        path = self.journal.place(entry)
        written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        # Queued for the conversation before the write starts, so one person's inputs are
        # taken in the order of their places in the journal, however the writes finish.
        self.spawn(self._held(tag, written, then, Arrival(path, delivery, who, entry)))
        try:
            await self._write(entry, path)
        except (OSError, ValueError) as exc:
            # The disk refused (full, read-only), or the entry could not be encoded: the turn
            # is still taken, only not kept against a crash in the meantime.
            log.error("could not journal an input (%s); taking it unjournaled", type(exc).__name__)
            written.set_result(False)
        except BaseException:
            written.set_result(False)
            raise
        else:
            # Kept: the platform is answered now, and the turn may start (its entry is at its
            # own place, or its group's batch stands for it: storage.group_commit).
            written.set_result(True)

    async def _write(self, entry: Entry, path: Path) -> Path:
        """Journal an entry for its place; returns once it is on disk (off the event loop, with
        the entries arriving meanwhile), or raises why it is not."""
        assert self._writes is not None
        return await self._writes.write(entry, path)

    async def _held(
        self,
        tag: str,
        written: asyncio.Future[bool] | None,
        then: Callable[[Arrival], Awaitable[None]],
        arrival: Arrival,
    ) -> None:
        async with self._conversation(tag):
            if written is not None and not await written:
                arrival = replace(arrival, path=None)
            try:
                await then(arrival)
            except Exception as exc:  # the entry stays journaled; the next replay takes it
                log.error("an input's turn failed; it stays in the journal", exc_info=exc)

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run work in the background, kept until done (see `settled`); a failure is logged."""
        task = asyncio.create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self) -> None:
        """Wait for admitted inputs still being taken (tests, and shutting down cleanly)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def forget(self, arrival: Arrival) -> None:
        """Nothing arrived to take after all (every file was refused, and there was no text);
        the person has been told why."""
        if self.journal is not None and arrival.path is not None:
            self.journal.done(arrival.path)

    async def _accept_held(
        self, who: Who, received: Input, entry: Entry, path: Path, attempts: int
    ) -> list[Message]:
        assert self.journal is not None
        replies: list[Message] = []
        resent = False
        for earlier in self.journal.pending(who.key):
            if not arrived_before(earlier, path):
                break  # this one, or what came after it (this one may be only in its batch)
            # Something this person sent earlier is still waiting (the database was away): it
            # is taken first, and its replies come first, so answers stay in order.
            taken, messages, payload = await self._take_journaled(earlier, queue=False)
            if taken is Taken.WAITING:
                return [kept_for_later()]  # this one waits its turn behind it
            replies += messages
            resent = resent or _same_input(payload, entry.payload)
        if resent:
            # They were told it was kept, and sent exactly the same again anyway: it was meant
            # once, and must not become the answer to the next question as well.
            self.journal.done(path)
            return replies
        with self.journal.claimed(path) as mine:
            if not mine:  # another process on this machine is taking it
                return [*replies, kept_for_later()]
            try:
                async with self.turn_slots.slot():
                    messages = await self._take(
                        who, received, entry.delivery_id, attempts, queue=False
                    )
            except TurnFailed as failed:
                taken = await self._keep(path, entry, failed)
                return [*replies, kept_for_later() if taken is Taken.WAITING else kept_for_it()]
            self.journal.done(path)
            self._taken_live()
            return [*replies, *messages]

    async def replay(self) -> Replayed:
        """Take every journaled input still waiting (after a restart or an outage), oldest
        first; replies go to the outbox. A conversation whose input still cannot be taken keeps
        its later inputs waiting behind it, so nobody's answers are taken out of order."""
        if self.journal is None:
            return Replayed()
        # Entries a process on this machine that has stopped kept only in a batch.
        await asyncio.to_thread(self.journal.recover_batches)
        done = waiting = failed = 0
        held: set[str] = set()
        for path in self.journal.pending():
            tag = path.name.split("-", 1)[0]
            if tag in held or belongs_to_another_live_process(path, host=self.journal.host):
                # Another server on this machine is taking it now (its live turn), or another
                # host's, until its lease runs out: racing it would tell the person their
                # message was kept for later when it was not.
                waiting += 1
                held.add(tag)
                continue
            async with self._conversation(tag):
                if not path.exists():
                    continue  # admitted in this process, and taken while this replay waited
                taken, _, _ = await self._take_journaled(path, queue=True)
            done += taken is Taken.DONE
            failed += taken is Taken.SET_ASIDE
            if taken is Taken.WAITING:
                waiting += 1
                held.add(tag)
        return Replayed(taken=done, waiting=waiting, set_aside=failed)

    async def _take_journaled(
        self, path: Path, *, queue: bool
    ) -> tuple[Taken, list[Message], dict[str, Any] | None]:
        """Take one journaled input. Queued, its replies go to the outbox in the turn's own
        transaction (nobody is waiting on a request for them); otherwise they are returned."""
        assert self.journal is not None
        with self.journal.claimed(path) as mine:
            if not mine:
                return Taken.WAITING, [], None
            try:
                entry = self.journal.read(path)
                received = Input.from_payload(entry.payload)
            except (KeyMissing, ValueError, KeyError, TypeError) as exc:
                # Written under a key that is not configured, or damaged: set aside as it is,
                # so it holds up neither its conversation nor anyone else's; `journal retry`
                # takes it once the key is back.
                log.error("journal entry %s is unreadable (%s)", path.name, type(exc).__name__)
                self.journal.set_aside_unreadable(path)
                return Taken.SET_ASIDE, [], None
            who = self._who_of(entry.key, received)
            if who is None:
                self.journal.set_aside(path, entry, "the person is no longer on the staff list")
                return Taken.SET_ASIDE, [], entry.payload
            try:
                async with self.turn_slots.slot():
                    messages = await self._take(who, received, entry.delivery_id, 3, queue=queue)
            except TurnFailed as failed:
                taken = await self._keep(path, entry, failed)
                told = [] if queue or taken is Taken.WAITING else [kept_for_it()]
                return taken, told, entry.payload
            self.journal.done(path)
            return Taken.DONE, messages, entry.payload

    async def _keep(self, path: Path, entry: Entry, failed: TurnFailed) -> Taken:
        """A turn rolled back by a fault: the input waits for the database, or is set aside."""
        assert self.journal is not None
        if failed.unavailable:
            self._backlog = True
            await asyncio.to_thread(self.journal.note_attempt, path, entry, failed.problem)
            return Taken.WAITING
        await asyncio.to_thread(self.journal.set_aside, path, entry, failed.problem)
        return Taken.SET_ASIDE

    def _who_of(self, key: ConversationKey, received: Input) -> Who | None:
        school = self._directory.school(received.school_id) if self._directory else None
        person = school.person(received.person_id) if school else None
        if school is None or person is None:
            return None
        return Who(person=person, school=school, key=key)

    def _conversation(self, tag: str) -> AbstractAsyncContextManager[None]:
        """One conversation's inputs are taken one at a time in this process, in order."""
        return self._locks.hold(tag)


async def _logged(work: Coroutine[Any, Any, object]) -> None:
    try:
        await work
    except Exception as exc:  # nobody awaits background work: say what failed, and go on
        log.error("background work failed", exc_info=exc)


def _new_delivery() -> str:
    """For inputs the platform gives no id (the terminal): the journal's own, so that taking
    the entry again after a crash is still recognised as the same delivery."""
    return f"journal:{uuid.uuid4().hex}"


def _same_input(earlier: dict[str, Any] | None, later: dict[str, Any]) -> bool:
    return earlier is not None and all(
        earlier.get(k) == later.get(k) for k in ("text", "value", "question", "files", "captured")
    )


def files_missed(names: Sequence[str]) -> Message:
    """The process stopped while these files were being downloaded from the platform."""
    listed = ", ".join(f"“{n}”" for n in names)
    return Message(
        kind=MessageKind.HINT,
        text=f"Sorry, I was interrupted while fetching {listed}, so "
        f"{'it' if len(names) == 1 else 'they'} didn't arrive. Please send "
        f"{'it' if len(names) == 1 else 'them'} again.",
    )


def kept_for_later() -> Message:
    """The database is away: the message is safe on disk and will be taken when it is back."""
    return Message(
        kind=MessageKind.HINT,
        text="I have your message, but I can't reach my records just now. I've kept it safely "
        "and will carry on from here as soon as I can, so there's no need to send it again. "
        "If anyone is in immediate danger, call 999 now.",
    )


def kept_for_it() -> Message:
    """Something other than the database failed: the message is set aside for IT, not lost,
    and the person can carry on."""
    return Message(
        kind=MessageKind.HINT,
        text="Sorry, something went wrong on my side and I couldn't take that. I've kept a copy "
        "for IT to look at, and everything you gave me before is safe. Please send it again; "
        "if it fails a second time, please ask IT for help. If anyone is in immediate danger, "
        "call 999 now.",
    )


def not_saved() -> Message:
    """Without a journal (a runner built for a one-off job), nothing could be kept."""
    return Message(
        kind=MessageKind.HINT,
        text="Sorry, something went wrong on my side and I couldn't save that. "
        "Everything you gave me before is safe. Please send it again in a minute.",
    )
