"""Taking journaled inputs again: exactly once, and never held up by one that cannot be taken.

These cover what the process-level tests cannot time: the process dying after a turn was saved
but before its journal entry was removed, an entry no configured key can read, and an entry for
someone who has since left the staff list.
"""

from __future__ import annotations

import subprocess
import sys

from cryptography.fernet import Fernet
from sqlmodel import select

from bot.runtime import Runtime
from dialogs.inbox import Input
from dialogs.services.messages import UserInput
from storage.journal import Entry, Journal
from storage.models import Conversation, Notification
from tests.support import Person, last_prompt


def entry_for(person: Person, text: str, delivery_id: str, *, person_id: str = "sam") -> Entry:
    who = person.who
    received = Input(school_id=who.school.id, person_id=person_id, given=UserInput(text=text))
    return Entry(
        key=who.key,
        delivery_id=delivery_id,
        received_at=person.runtime.clock(),
        payload=received.to_payload(),
    )


async def state_and_replies(runtime: Runtime) -> tuple[str | None, list[Notification]]:
    async with runtime.db.session() as session:
        [row] = (await session.execute(select(Conversation))).scalars()
        replies = [
            n for n in (await session.execute(select(Notification))).scalars() if n.kind == "reply"
        ]
    step = (row.state or {}).get("step")
    return step, replies


async def test_a_turn_saved_just_before_the_process_died_is_not_taken_twice(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("report")
    replies = await runtime.runner.handle(sam.who, UserInput(text="me"), delivery_id="EvSAVED")
    assert "immediate danger" in last_prompt(replies).text
    before, _ = await state_and_replies(runtime)

    # The process died after the commit and before removing the entry: it is still there.
    runtime.journal.write(entry_for(sam, "me", "EvSAVED"))
    replayed = await runtime.runner.replay_journal()

    assert (replayed.taken, replayed.waiting, replayed.set_aside) == (1, 0, 0)
    after, queued = await state_and_replies(runtime)
    assert after == before  # "me" was not taken as the answer to the next question
    assert queued == []  # and Sam is not sent the question again
    assert runtime.journal.pending() == []


async def test_an_entry_no_configured_key_can_read_is_set_aside_and_holds_nothing_up(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("report")
    other_key = Journal(runtime.journal.root, keys=[Fernet.generate_key()])
    other_key.write(entry_for(sam, "me", "EvOTHERKEY"))

    replayed = await runtime.runner.replay_journal()
    assert (replayed.taken, replayed.waiting, replayed.set_aside) == (0, 0, 1)
    [aside] = runtime.journal.failed()
    assert aside.read_bytes().startswith(b"pbj-fernet1")  # kept exactly as it was

    # Sam carries on as normal: nothing of theirs waits behind the unreadable entry.
    replies = await sam.say("me")
    assert "immediate danger" in last_prompt(replies).text


async def test_an_entry_for_someone_no_longer_on_the_staff_list_is_set_aside(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("report")
    runtime.journal.write(entry_for(sam, "me", "EvGONE", person_id="someone-who-left"))

    replayed = await runtime.runner.replay_journal()
    assert replayed.set_aside == 1
    [aside] = runtime.journal.failed()
    assert runtime.journal.read(aside).problem == "the person is no longer on the staff list"


async def test_another_live_servers_entry_is_left_to_it_and_taken_once_it_has_gone(
    runtime: Runtime,
) -> None:
    """Two servers on one machine share the journal. One's replay must not take the other's
    entry while that server is in the middle of its turn; once that server has died, it must."""
    sam = Person(runtime)
    await sam.say("report")
    written = runtime.journal.write(entry_for(sam, "me", "EvOTHERSERVER"))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # noqa: ASYNC220
    try:
        tag, arrived, _mine, rest = written.name.split("-", 3)
        theirs = written.with_name(f"{tag}-{arrived}-{other.pid}-{rest}")
        written.rename(theirs)

        replayed = await runtime.runner.replay_journal()
        assert (replayed.taken, replayed.waiting) == (0, 1)
        assert runtime.journal.pending() == [theirs]
    finally:
        other.kill()
        other.wait()

    replayed = await runtime.runner.replay_journal()
    assert replayed.taken == 1
    step, queued = await state_and_replies(runtime)
    assert step == "immediate_danger"
    assert queued
