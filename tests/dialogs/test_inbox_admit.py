"""Inbox.admit: a message is journaled, the platform is answered, and the turn follows.

The turn itself is replaced here by a recording one, because what is tested is the inbox's
bookkeeping around turns (order, how many run at once, what happens when the disk refuses or
the turn's follow-up fails); the channels' tests take real turns through the same code.
"""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from dialogs.inbox import Arrival, Inbox, Input, TurnFailed, Who, kept_for_later
from dialogs.services.messages import Message, MessageKind, UserInput
from storage.conversations import ConversationKey
from storage.journal import Entry, Journal
from storage.journal_batches import decode_batch
from tests.conftest import Clock


class Turns:
    """Records each turn taken; a turn can be made to wait until released."""

    def __init__(self) -> None:
        self.taken: list[tuple[str, str, bool]] = []
        self.running = 0
        self.most_at_once = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(
        self, who: Who, received: Input, delivery_id: str, attempts: int, *, queue: bool
    ) -> list[Message]:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await self.release.wait()
            self.taken.append((who.key.conversation_key, received.given.text, queue))
            return [Message(kind=MessageKind.INFO, text=f"got {received.given.text}")]
        finally:
            self.running -= 1


def who(settings: Settings, chat: str) -> Who:
    school = settings.directory.school("oakfield")
    assert school is not None
    person = school.person("sam")
    assert person is not None
    return Who(person=person, school=school, key=ConversationKey("teams", "29:sam", chat))


def typed(w: Who, text: str) -> Input:
    return Input(school_id=w.school.id, person_id=w.person.id, given=UserInput(text=text))


async def admit_all(inbox: Inbox, inputs: list[tuple[Who, str]], replies: list[str]) -> None:
    for w, text in inputs:

        async def then(arrival: Arrival, w: Who = w, text: str = text) -> None:
            for message in await inbox.accept(w, typed(w, text), None, 3, arrival=arrival):
                replies.append(message.text)

        await inbox.admit(w, typed(w, text), None, then)


async def test_turns_wait_their_turn_beyond_the_limit_and_each_chat_keeps_its_order(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    turns = Turns()
    turns.release.clear()
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=turns, clock=clock, directory=None, turns_at_once=2)
    chats = [who(settings, f"a:chat-{n}") for n in range(5)]
    replies: list[str] = []

    await admit_all(inbox, [(w, f"{w.key.conversation_key} first") for w in chats], replies)
    await admit_all(inbox, [(w, f"{w.key.conversation_key} second") for w in chats], replies)
    assert len(journal.pending()) == 10  # all on disk before any turn was taken
    await asyncio.sleep(0.1)
    assert turns.running == 2

    turns.release.set()
    await inbox.settled()

    assert turns.most_at_once == 2
    assert len(turns.taken) == 10
    for w in chats:
        chat = w.key.conversation_key
        assert [t for c, t, _ in turns.taken if c == chat] == [f"{chat} first", f"{chat} second"]
    assert journal.pending() == []
    assert len(replies) == 10


class FullDisk(Journal):
    def write(self, entry: Entry, path: Path | None = None) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_message_the_disk_will_not_keep_is_still_taken(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    turns = Turns()
    inbox = Inbox(FullDisk(tmp_path / "journal"), take=turns, clock=clock, directory=None)
    replies: list[str] = []
    sam = who(settings, "a:chat")

    await admit_all(inbox, [(sam, "me")], replies)
    await inbox.settled()

    assert turns.taken == [("a:chat", "me", False)]
    assert replies == ["got me"]


async def test_a_turn_whose_follow_up_fails_stays_journaled_for_the_replay(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    turns = Turns()
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=turns, clock=clock, directory=settings.directory)
    sam = who(settings, "a:chat")

    async def then(arrival: Arrival) -> None:
        raise ConnectionError("the platform could not be reached to take the turn")

    await inbox.admit(sam, typed(sam, "me"), "activity-1", then)
    await inbox.settled()
    assert turns.taken == []
    assert len(journal.pending()) == 1

    replayed = await inbox.replay()

    assert replayed.taken == 1
    assert turns.taken == [("a:chat", "me", True)]  # its replies go to the outbox
    assert journal.pending() == []


async def test_half_an_emoji_is_journaled_as_a_replacement_character(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    """JSON can carry a lone surrogate ("\\ud83d"), which no encoding writes: the input holds
    U+FFFD in its place, so the journal keeps it and the turn is taken."""
    turns = Turns()
    turns.release.clear()
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=turns, clock=clock, directory=None)
    sam = who(settings, "a:chat")
    replies: list[str] = []

    await admit_all(inbox, [(sam, "Pat \ud83d Jones")], replies)
    [path] = journal.pending()
    assert journal.read(path).payload["text"] == "Pat \ufffd Jones"
    turns.release.set()
    await inbox.settled()

    assert turns.taken == [("a:chat", "Pat \ufffd Jones", False)]
    assert replies == ["got Pat \ufffd Jones"]
    assert journal.pending() == []


class Unencodable(Journal):
    def write(self, entry: Entry, path: Path | None = None) -> Path:
        raise UnicodeEncodeError("utf-8", "\udc00", 0, 1, "surrogates not allowed")


async def test_an_entry_that_cannot_be_encoded_is_still_taken(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    turns = Turns()
    inbox = Inbox(Unencodable(tmp_path / "journal"), take=turns, clock=clock, directory=None)
    replies: list[str] = []
    sam = who(settings, "a:chat")

    await admit_all(inbox, [(sam, "me")], replies)
    await inbox.settled()

    assert turns.taken == [("a:chat", "me", False)]
    assert replies == ["got me"]


class SyncsAndAnswers:
    """Records, in order, every fsync (by what was synced), every rename into place, and
    every admit returning (the moment the platform would be answered)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.happened: list[str] = []
        self.full_after = 10**9  # file syncs the disk allows before it is full
        fsync, replace = os.fsync, os.replace

        def recorded_fsync(descriptor: int) -> None:
            synced = os.readlink(f"/proc/self/fd/{descriptor}")
            if synced.endswith(".tmp"):
                self.full_after -= 1
                if self.full_after < 0:
                    raise OSError(errno.ENOSPC, "No space left on device")
            fsync(descriptor)
            self.happened.append(f"synced {synced}")

        def recorded_replace(source: Any, target: Any) -> None:
            replace(source, target)
            self.happened.append(f"renamed {source} to {target}")

        monkeypatch.setattr(os, "fsync", recorded_fsync)
        monkeypatch.setattr(os, "replace", recorded_replace)


async def admit_at_once(
    inbox: Inbox, inputs: list[tuple[Who, str]], answered: list[str]
) -> list[Arrival]:
    """Admit every input at the same moment, as a burst arrives; their turns wait."""
    arrivals: list[Arrival] = []

    async def then(arrival: Arrival) -> None:
        arrivals.append(arrival)

    async def admit(w: Who, text: str) -> None:
        await inbox.admit(w, typed(w, text), f"Ev-{text}", then)
        answered.append(f"answered Ev-{text}")

    await asyncio.gather(*(admit(w, text) for w, text in inputs))
    await inbox.settled()
    return arrivals


async def test_a_burst_is_answered_only_once_each_entry_and_its_rename_are_on_disk(
    settings: Settings, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arriving together, the entries are kept in one batch file (storage.journal_batches):
    each is answered only after the file holding it is synced, renamed into place and its
    folder synced; and each turn may take its entry, at its own place or only in its batch
    (this process's alone until its turn is done)."""
    disk = SyncsAndAnswers(monkeypatch)
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=Turns(), clock=clock, directory=None)
    chats = [who(settings, f"a:chat-{n % 7}") for n in range(50)]

    arrivals = await admit_at_once(inbox, [(w, f"{n}") for n, w in enumerate(chats)], disk.happened)

    assert len(arrivals) == 50
    folder_synced = f"synced {journal.pending_dir}"
    batches = {
        batch: {name for name, _ in decode_batch(batch.read_bytes())}
        for batch in journal.pending_dir.glob("*.batch")
    }
    for arrival in arrivals:
        assert arrival.path is not None
        assert arrival.path.exists() or journal.only_in_batch(arrival.path)
        with journal.claimed(arrival.path) as mine:
            assert mine
        holder = next((b for b, held in batches.items() if arrival.path.name in held), arrival.path)
        answered = disk.happened.index(f"answered {arrival.delivery_id}")
        [renamed] = [
            n
            for n, e in enumerate(disk.happened[:answered])
            if e.startswith("renamed ") and e.endswith(f" to {holder}")
        ]
        temporary = disk.happened[renamed].removeprefix("renamed ").split(" to ")[0]
        assert f"synced {temporary}" in disk.happened[:renamed]
        assert folder_synced in disk.happened[renamed:answered]
    # The burst shared its syncs rather than paying two each.
    assert disk.happened.count(folder_synced) < 10
    assert len([e for e in disk.happened if e.startswith("synced")]) < 20
    assert journal.waiting().pending == 50


async def test_a_disk_full_mid_burst_takes_exactly_the_unwritten_ones_unjournaled(
    settings: Settings, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first input is kept; then the disk is full, and the rest, arriving together, form
    a batch it refuses: each of them is taken unjournaled, and nothing of them is left."""
    disk = SyncsAndAnswers(monkeypatch)
    disk.full_after = 1
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=Turns(), clock=clock, directory=None)
    chats = [who(settings, f"a:chat-{n}") for n in range(20)]

    inputs = [(w, f"{n}") for n, w in enumerate(chats)]
    arrivals = await admit_at_once(inbox, inputs[:1], disk.happened)
    arrivals += await admit_at_once(inbox, inputs[1:], disk.happened)

    kept = [a for a in arrivals if a.path is not None]
    unjournaled = [a for a in arrivals if a.path is None]
    assert len(kept) == 1
    assert len(unjournaled) == 19
    assert sorted(journal.pending()) == sorted(a.path for a in kept if a.path is not None)
    assert [p for p in os.listdir(journal.pending_dir) if p.endswith(".tmp")] == []
    # The follow-up takes each unjournaled one as before: a turn, just not kept meanwhile.
    turns = Turns()
    again = Inbox(journal, take=turns, clock=clock, directory=None)
    replies: list[str] = []
    for arrival in unjournaled:
        [reply] = await again.accept(arrival.who, typed(arrival.who, "x"), None, 3, arrival=arrival)
        replies.append(reply.text)
    assert replies == ["got x"] * 19
    assert len(journal.pending()) == 1  # the unjournaled left nothing behind
    assert list(journal.pending_dir.glob("*.batch")) == []


async def test_an_entry_only_in_its_batch_goes_before_what_its_chat_sent_after_it(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    """A burst's entries stay in their batch (storage.group_commit); a later message of the
    same chat, written alone at its own place, is found among the chat's pending entries when
    the earlier turn looks for anything owed before it: it must be left for its own turn."""
    turns = Turns()
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=turns, clock=clock, directory=None)
    sam, other = who(settings, "a:sam"), who(settings, "a:other")
    go = asyncio.Event()
    replies: list[str] = []

    def then_for(w: Who, text: str, wait: bool) -> Any:
        async def then(arrival: Arrival) -> None:
            if wait:
                await go.wait()
            for message in await inbox.accept(w, typed(w, text), None, 3, arrival=arrival):
                replies.append(message.text)

        return then

    await asyncio.gather(
        inbox.admit(sam, typed(sam, "first"), "Ev1", then_for(sam, "first", True)),
        inbox.admit(other, typed(other, "hello"), "Ev2", then_for(other, "hello", False)),
    )
    assert len(list(journal.pending_dir.glob("*.batch"))) == 1  # both only in their batch
    await inbox.admit(sam, typed(sam, "second"), "Ev3", then_for(sam, "second", False))
    assert len(journal.pending(sam.key)) == 1  # the second, alone, at its own place
    go.set()
    await inbox.settled()

    assert [t for c, t, _ in turns.taken if c == "a:sam"] == ["first", "second"]
    assert replies.count("got second") == 1
    assert journal.waiting().pending == 0
    assert os.listdir(journal.pending_dir) == []


class Unavailable:
    """Turns that fail as they do while the database is away."""

    async def __call__(
        self, who: Who, received: Input, delivery_id: str, attempts: int, *, queue: bool
    ) -> list[Message]:
        raise TurnFailed("OperationalError", unavailable=True)


async def test_an_entry_whose_turn_cannot_finish_is_written_at_its_place_to_wait(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    """Kept only in its batch while its turn might finish; once the database turns it away,
    at its own place (synced), counted as an attempt, for the replay to take later; and its
    batch, standing for nothing any more, goes."""
    journal = Journal(tmp_path / "journal")
    inbox = Inbox(journal, take=Unavailable(), clock=clock, directory=None)
    chats = [who(settings, f"a:chat-{n}") for n in range(4)]
    replies: list[str] = []
    await asyncio.gather(*(admit_all(inbox, [(w, "hello")], replies) for w in chats))
    await inbox.settled()

    assert replies == [kept_for_later().text] * 4
    waiting = journal.pending()
    assert len(waiting) == 4
    assert all(journal.read(path).attempts == 1 for path in waiting)
    assert list(journal.pending_dir.glob("*.batch")) == []
