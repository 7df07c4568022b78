"""A burst's entries are kept in one batch file, then put at their own places
(storage.journal_batches).

The batch is what makes them durable when their writers are answered, so it must outlive every
entry it stands for that is not yet synced on its own, and a restart must put back whatever a
process that stopped left only in its batch: missing, or torn by a power cut.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from storage.conversations import ConversationKey
from storage.journal import Entry, Journal, Kept
from storage.journal_batches import decode_batch, encode_batch

RECEIVED = datetime(2026, 11, 21, 11, 30, 15, tzinfo=UTC)
KEY = Fernet.generate_key()


def typed(n: int) -> Entry:
    return Entry(
        key=ConversationKey("slack", f"U{n % 3}", f"D{n % 3}"),
        delivery_id=f"Ev{n}",
        received_at=RECEIVED,
        payload={"text": f"message {n}"},
    )


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal", keys=[KEY])


def kept_in_a_batch(journal: Journal, count: int) -> list[Kept]:
    """Entries kept as a batch, and not (yet) put at their places: as a process leaves them
    if it stops in between."""
    entries = [typed(n) for n in range(count)]
    outcomes = journal.keep_batch([(entry, journal.place(entry)) for entry in entries])
    kept = [outcome for outcome in outcomes if isinstance(outcome, Kept)]
    assert len(kept) == count
    return kept


def batches(journal: Journal) -> list[Path]:
    return sorted(journal.pending_dir.glob("*.batch"))


def test_entries_kept_in_a_batch_are_found_once_placed(journal: Journal) -> None:
    kept = kept_in_a_batch(journal, 5)
    assert journal.pending() == []  # not at their places yet: no turn can find them

    assert journal.place_kept(kept) == [k.path for k in kept]

    assert sorted(journal.pending()) == sorted(k.path for k in kept)
    assert [journal.read(k.path) for k in kept] == [typed(n) for n in range(5)]
    [batch] = batches(journal)
    assert [name for name, _ in decode_batch(batch.read_bytes())] == [k.path.name for k in kept]


def test_a_batch_goes_once_every_entry_it_holds_is_done_or_synced_on_its_own(
    journal: Journal,
) -> None:
    kept = kept_in_a_batch(journal, 4)
    journal.place_kept(kept)

    journal.done(kept[0].path)
    journal.set_aside(kept[1].path, typed(1), "a fault")
    journal.note_attempt(kept[2].path, typed(2), "database away")  # synced on its own now
    assert len(batches(journal)) == 1
    journal.done(kept[3].path)

    assert batches(journal) == []
    assert journal.pending() == [kept[2].path]
    assert journal.read(kept[2].path).attempts == 1


def test_a_restart_puts_back_the_entries_a_stopped_process_left_only_in_its_batch(
    journal: Journal,
) -> None:
    kept = kept_in_a_batch(journal, 6)

    reopened = Journal(journal.root, keys=[KEY])

    assert sorted(reopened.pending()) == sorted(k.path for k in kept)
    assert [reopened.read(k.path) for k in kept] == [typed(n) for n in range(6)]
    assert batches(reopened) == []


def test_a_restart_mends_a_torn_entry_and_keeps_one_rewritten_since(journal: Journal) -> None:
    kept = kept_in_a_batch(journal, 3)
    journal.place_kept(kept)
    kept[0].path.write_bytes(kept[0].data[: len(kept[0].data) // 2])  # torn by a power cut
    kept[1].path.write_bytes(b"")  # or left empty
    rewritten = replace(typed(2), attempts=2, problem="database away")
    journal.rewrite(kept[2].path, rewritten)
    # The batch outlives the rewrite here only because the other two still need it.
    assert len(batches(journal)) == 1

    reopened = Journal(journal.root, keys=[KEY])

    assert reopened.read(kept[0].path) == typed(0)
    assert reopened.read(kept[1].path) == typed(1)
    assert reopened.read(kept[2].path) == rewritten
    assert batches(reopened) == []


@pytest.fixture
def live_process() -> Iterator[int]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_a_batch_of_a_process_still_running_is_left_to_it(
    journal: Journal, live_process: int
) -> None:
    kept = kept_in_a_batch(journal, 2)
    [batch] = batches(journal)
    parts = batch.name.split("-")
    pid, _, host = parts[2].partition("@")
    assert int(pid) == os.getpid()
    theirs = batch.with_name("-".join([parts[0], parts[1], f"{live_process}@{host}", *parts[3:]]))
    os.rename(batch, theirs)

    reopened = Journal(journal.root, keys=[KEY])

    assert batches(reopened) == [theirs]
    assert reopened.pending() == []
    assert not kept[0].path.exists()


def test_a_damaged_batch_is_set_aside_and_holds_up_nothing(journal: Journal) -> None:
    kept_in_a_batch(journal, 2)
    [batch] = batches(journal)
    batch.write_bytes(batch.read_bytes()[:-5])

    reopened = Journal(journal.root, keys=[KEY])

    assert batches(reopened) == []
    assert (reopened.failed_dir / batch.name).exists()
    assert reopened.pending() == []


def test_a_batch_names_only_places_in_its_own_folder() -> None:
    records = [("abc-1-2@h-u.entry", b"x"), ("../escape.entry", b"y")]
    with pytest.raises(ValueError, match="outside"):
        decode_batch(encode_batch(records))
    with pytest.raises(ValueError, match="cut short"):
        decode_batch(encode_batch(records[:1])[:-1])
    assert decode_batch(encode_batch(records[:1])) == records[:1]
