"""Inbox.admit: a message is journaled, the platform is answered, and the turn follows.

The turn itself is replaced here by a recording one, because what is tested is the inbox's
bookkeeping around turns (order, how many run at once, what happens when the disk refuses or
the turn's follow-up fails); the channels' tests take real turns through the same code.
"""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

from bot.config import Settings
from dialogs.inbox import Arrival, Inbox, Input, Who
from dialogs.services.messages import Message, MessageKind, UserInput
from storage.conversations import ConversationKey
from storage.journal import Entry, Journal
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
