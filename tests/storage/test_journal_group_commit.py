"""Journal writes arriving together are written as one group (storage.group_commit).

What a person sent is acknowledged only once it is on disk: its data synced, renamed into place
and its folder synced. A group shares the folder sync, but no writer may hear back before the
syncs covering its own entry; an entry the disk refused is not in the journal at all (its writer
hears why); and an entry written alone is written at once, never held back to wait for company.
A group's entries stay in their batch until their turns are done: a restart puts them back.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from dialogs.inbox import Input
from dialogs.services.messages import UserInput
from storage.conversations import ConversationKey
from storage.group_commit import GroupCommit
from storage.journal import Entry, Journal
from storage.journal_batches import decode_batch

RECEIVED = datetime(2026, 11, 21, 11, 30, 15, tzinfo=UTC)


def typed(n: int) -> Entry:
    given = Input(school_id="oakfield", person_id="sam", given=UserInput(text=f"message {n}"))
    return Entry(
        key=ConversationKey("slack", f"U{n % 3}", f"D{n % 3}"),
        delivery_id=f"Ev{n}",
        received_at=RECEIVED,
        payload=given.to_payload(),
    )


class Disk:
    """Records, in order, every fsync (by the path of what was synced) and every rename."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.happened: list[tuple[str, str]] = []
        self.refuse: Callable[[str], bool] = lambda synced: False
        fsync, replace = os.fsync, os.replace

        def recorded_fsync(descriptor: int) -> None:
            synced = os.readlink(f"/proc/self/fd/{descriptor}")
            if self.refuse(synced):
                raise OSError(errno.ENOSPC, "No space left on device")
            fsync(descriptor)
            self.happened.append(("fsync", synced))

        def recorded_replace(source: Any, target: Any) -> None:
            replace(source, target)
            self.happened.append(("rename", f"{source} -> {target}"))

        monkeypatch.setattr(os, "fsync", recorded_fsync)
        monkeypatch.setattr(os, "replace", recorded_replace)

    def folder_syncs(self, journal: Journal) -> int:
        return self.happened.count(("fsync", str(journal.pending_dir)))


KEY = Fernet.generate_key()
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal", keys=[KEY])


async def test_nobody_hears_back_before_their_entry_and_its_rename_are_synced(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arriving together, they are kept in one batch file: nobody hears back before the file
    holding their entry is synced, renamed into place, and its folder synced."""
    disk = Disk(monkeypatch)
    writes = GroupCommit(journal)
    entries = [typed(n) for n in range(40)]
    places = [journal.place(entry) for entry in entries]

    async def write(entry: Entry, path: Path) -> Path:
        kept = await writes.write(entry, path)
        disk.happened.append(("answered", str(path)))
        return kept

    await asyncio.gather(*(write(entry, path) for entry, path in zip(entries, places, strict=True)))

    batches = {b.name: dict(decode_batch(b.read_bytes())) for b in batch_files(journal)}
    assert len(batches) == 1
    for path in places:
        answered = disk.happened.index(("answered", str(path)))
        before = disk.happened[:answered]
        holder = next((name for name, held in batches.items() if path.name in held), path.name)
        [(_, renamed)] = [e for e in before if e[0] == "rename" and e[1].endswith(f"/{holder}")]
        temporary = renamed.split(" -> ")[0]
        renamed_at = before.index(("rename", renamed))
        assert ("fsync", temporary) in before[:renamed_at]  # its data, before its rename
        assert ("fsync", str(journal.pending_dir)) in before[renamed_at:]  # then its folder
    # Arriving together, they shared one sync of their data and one of the folder, and
    # nothing more was written: each is in its batch alone until its turn is done.
    assert disk.folder_syncs(journal) == 1
    assert len([e for e in disk.happened if e[0] == "fsync"]) == 2
    assert all(journal.only_in_batch(p) for p in places)
    assert journal.pending() == []
    assert journal.waiting().pending == 40
    restarted = after_restart(journal)
    assert sorted(restarted.pending()) == sorted(places)
    assert [restarted.read(p) for p in places] == entries


def after_restart(journal: Journal) -> Journal:
    """The journal as the next start finds it, in this process: as if this one had stopped."""
    return Journal(journal.root, keys=[KEY])


def batch_files(journal: Journal) -> list[Path]:
    return sorted(journal.pending_dir.glob("*.batch"))


def group_sizes(journal: Journal) -> list[int]:
    """The size of each group the journal writes from now on, in order."""
    groups: list[int] = []
    write_group, seal = journal.write_group, journal.seal

    def counted(entries: Any) -> Any:
        groups.append(len(entries))
        return write_group(entries)

    def counted_batch(entries: Any) -> Any:
        groups.append(len(entries))
        return seal(entries)

    journal.write_group = counted  # type: ignore[method-assign]
    journal.seal = counted_batch  # type: ignore[method-assign]
    return groups


async def test_entries_arriving_while_a_group_is_written_form_the_next_group(
    journal: Journal,
) -> None:
    groups = group_sizes(journal)
    writes = GroupCommit(journal)
    first = asyncio.create_task(writes.write(typed(0), journal.place(typed(0))))
    await asyncio.sleep(0)  # the first is being written
    rest = [writes.write(typed(n), journal.place(typed(n))) for n in range(1, 11)]
    await asyncio.gather(first, *rest)
    assert groups == [1, 10]
    assert len(journal.pending()) == 1  # the first, alone, at its place
    assert journal.waiting().pending == 11


async def test_a_disk_that_refuses_a_batch_fails_its_whole_group_and_keeps_none_of_it(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = Disk(monkeypatch)
    writes = GroupCommit(journal)
    first = asyncio.create_task(writes.write(typed(0), journal.place(typed(0))))
    await asyncio.sleep(0)  # the first is being written, alone
    disk.refuse = lambda synced: synced.endswith(".tmp") and ".batch-" in synced
    entries = [typed(n) for n in range(1, 10)]

    outcomes = await asyncio.gather(
        *(writes.write(e, journal.place(e)) for e in entries), return_exceptions=True
    )

    assert isinstance(await first, Path)
    for outcome in outcomes:
        assert isinstance(outcome, OSError)
        assert outcome.errno == errno.ENOSPC
    assert [journal.read(p) for p in journal.pending()] == [typed(0)]
    # Nothing half-written is left behind to be mistaken for an entry or a batch.
    assert len(os.listdir(journal.pending_dir)) == 1


async def test_a_batchs_entries_are_this_processs_until_done_and_then_the_batch_goes(
    journal: Journal,
) -> None:
    """Nobody else can see an entry only in this process's batch, so its turn may take it;
    once every entry of the batch is done, the batch is deleted, with nothing left behind."""
    writes = GroupCommit(journal)
    entries = [typed(n) for n in range(6)]
    places = [journal.place(entry) for entry in entries]
    first = asyncio.create_task(writes.write(entries[0], places[0]))
    await asyncio.sleep(0)
    rest = zip(entries[1:], places[1:], strict=True)
    taken = await asyncio.gather(*(writes.write(e, p) for e, p in rest))
    await first

    assert taken == places[1:]
    [batch] = batch_files(journal)
    for path in places[1:]:
        assert journal.only_in_batch(path)
        with journal.claimed(path) as mine:
            assert mine
    for path in places:
        journal.done(path)
    assert not batch.exists()
    assert os.listdir(journal.pending_dir) == []
    assert journal.waiting().pending == 0
    assert after_restart(journal).pending() == []


async def test_another_process_counts_what_a_running_ones_batches_hold(
    journal: Journal,
) -> None:
    """`policybot journal status` runs in a process of its own: a running server's batches
    are read for what they hold."""
    writes = GroupCommit(journal)
    entries = [typed(n) for n in range(5)]
    await asyncio.gather(*(writes.write(e, journal.place(e)) for e in entries))
    assert len(batch_files(journal)) == 1
    counted = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from storage.journal import Journal; "
            "print(Journal(Path(sys.argv[1]), keys=[sys.argv[2].encode()]).waiting().pending)",
            str(journal.root),
            KEY.decode(),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
    )
    assert counted.stdout.strip() == "5"
    assert len(batch_files(journal)) == 1  # a running process's batch is left alone


async def test_a_folder_that_cannot_be_synced_fails_the_whole_group_and_keeps_none_of_it(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renamed but not known to survive a power cut: not journaled, so not left to be taken
    again later as well as now (each is taken unjournaled by its inbox)."""
    disk = Disk(monkeypatch)
    disk.refuse = lambda synced: synced == str(journal.pending_dir)
    writes = GroupCommit(journal)
    entries = [typed(n) for n in range(5)]

    outcomes = await asyncio.gather(
        *(writes.write(e, journal.place(e)) for e in entries), return_exceptions=True
    )

    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert os.listdir(journal.pending_dir) == []
    assert journal.pending() == []
    for entry in entries:
        assert journal.pending(entry.key) == []


async def test_an_entry_that_cannot_be_encoded_fails_alone(journal: Journal) -> None:
    writes = GroupCommit(journal)
    broken = Entry(
        key=ConversationKey("slack", "U1", "D1"),
        delivery_id="EvBAD",
        received_at=RECEIVED,
        payload={"text": "\udc00"},  # a lone surrogate: no encoding writes it
    )
    entries = [typed(0), broken, typed(2)]
    outcomes = await asyncio.gather(
        *(writes.write(e, journal.place(e)) for e in entries), return_exceptions=True
    )
    assert isinstance(outcomes[1], UnicodeEncodeError)
    restarted = after_restart(journal)
    assert [restarted.read(p) for p in restarted.pending()] == [entries[0], entries[2]]


async def test_an_entry_written_alone_is_written_at_once(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timer waits for others to arrive: a lone entry goes to the disk straight away, as a
    group of one."""
    groups = group_sizes(journal)
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    call_at = loop.call_at

    def recorded_call_at(when: float, *args: Any, **kwargs: Any) -> Any:
        timers.append(when)
        return call_at(when, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", recorded_call_at)
    writes = GroupCommit(journal)
    for n in range(3):
        path = await writes.write(typed(n), journal.place(typed(n)))
        assert journal.read(path) == typed(n)
    assert groups == [1, 1, 1]
    assert timers == []


async def test_a_writer_that_stops_waiting_does_not_stop_the_others(journal: Journal) -> None:
    writes = GroupCommit(journal)
    entries = [typed(n) for n in range(5)]
    tasks = [asyncio.create_task(writes.write(e, journal.place(e))) for e in entries]
    await asyncio.sleep(0)
    tasks[2].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    assert all(isinstance(d, Path) for n, d in enumerate(done) if n != 2)
    # Its entry may be on disk all the same: then the replay takes it, as before groups.
    assert journal.waiting().pending in (4, 5)


def test_an_entry_rewritten_in_place_stays_when_its_folder_cannot_be_synced(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting an attempt rewrites the only copy of an input: a folder that will not sync
    must not cost the person their message."""
    path = journal.write(typed(0))
    disk = Disk(monkeypatch)
    disk.refuse = lambda synced: synced == str(journal.pending_dir)
    with pytest.raises(OSError, match="No space left"):
        journal.note_attempt(path, journal.read(path), "OperationalError")
    assert journal.pending() == [path]
    assert journal.read(path).payload == typed(0).payload
