"""The inbound journal, as the person who sent a message and IT would rely on it.

A message is journaled before its turn runs, because the database may be the thing that is
missing; so what comes back from disk must be exactly what was sent (words, button, the bytes of
a screenshot, a flagged post), nobody who reads the disk may read it when a key is configured,
entries must come back in the order people sent them, and a turn set aside for IT must never be
lost. No database is needed: the journal is files in a folder.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from dialogs.inbox import Input
from dialogs.services.messages import IncomingFile, UserInput
from storage.conversations import ConversationKey
from storage.crypto import KeyMissing
from storage.journal import Backlog, Entry, Journal, conversation_tag

SAM = ConversationKey("slack", "U0SAMSECRETID", "D0SAMSECRETID")
DANA = ConversationKey("teams", "29:1dana-teams-user", "a:1dana-personal-chat")
WORDS = "A parent wrote that I am useless & should go — “sacked” 😢"
# Not UTF-8, with a NUL and the bytes a PNG starts with: a screenshot must come back unchanged.
SCREENSHOT = b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x80\xc3\x28" + bytes(range(256))
RECEIVED = datetime(2026, 11, 21, 11, 30, 15, 123456, tzinfo=UTC)


def typed(text: str = WORDS, *, key: ConversationKey = SAM, delivery: str = "Ev1") -> Entry:
    given = Input(school_id="oakfield", person_id="sam", given=UserInput(text=text))
    return Entry(key=key, delivery_id=delivery, received_at=RECEIVED, payload=given.to_payload())


def entries_of(journal: Journal, paths: list[Path]) -> list[str]:
    """What each entry says, in the order given: the order is what the tests are about."""
    return [Input.from_payload(journal.read(p).payload).given.text for p in paths]


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal")


def keyed(root: Path, *keys: bytes) -> Journal:
    return Journal(root, keys=list(keys))


# -- what was sent comes back exactly ---------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        Input(school_id="oakfield", person_id="sam", given=UserInput(text=WORDS)),
        Input(school_id="oakfield", person_id="sam", given=UserInput(value="me")),
        Input(
            school_id="oakfield",
            person_id="sam",
            given=UserInput(
                text="here are the screenshots",
                files=(
                    IncomingFile(
                        name="shot 1 “final”.png",
                        data=SCREENSHOT,
                        declared_type="image/png",
                        size=len(SCREENSHOT),
                    ),
                    IncomingFile(name="empty.bin", data=b""),
                ),
            ),
        ),
        Input(
            school_id="oakfield",
            person_id="sam",
            given=UserInput(),
            capture_dialog="report_abuse",
            captured={
                "platform": "Slack",
                "text": WORDS,
                "permalink": "https://example.slack.com/archives/C1/p1",
                "nested": {"list": [1, 2.5, None, True], "empty": {}},
            },
        ),
    ],
    ids=["typed", "button", "files", "flagged"],
)
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_an_input_comes_back_exactly_as_it_was_sent(
    tmp_path: Path, sent: Input, encrypted: bool
) -> None:
    """After a restart the turn is taken from disk alone, so every field must survive."""
    keys = [Fernet.generate_key()] if encrypted else []
    journal = Journal(tmp_path / "journal", keys=keys)
    entry = Entry(key=SAM, delivery_id="Ev1", received_at=RECEIVED, payload=sent.to_payload())
    path = journal.write(entry)

    # Read by a fresh journal, as a restarted process would.
    again = Journal(tmp_path / "journal", keys=keys).read(path)
    assert again == entry
    assert Input.from_payload(again.payload) == sent
    kept = Input.from_payload(again.payload).given.files
    assert [f.data for f in kept] == [f.data for f in sent.given.files]


# -- nobody reading the disk can read it ---------------------------------------------------------


def test_with_a_key_the_file_on_disk_does_not_show_what_was_sent(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    journal = keyed(tmp_path, key)
    sent = Input(
        school_id="oakfield",
        person_id="sam",
        given=UserInput(
            text="I am useless", files=(IncomingFile(name="evidence.png", data=SCREENSHOT),)
        ),
    )
    path = journal.write(
        Entry(key=SAM, delivery_id="Ev1", received_at=RECEIVED, payload=sent.to_payload())
    )
    on_disk = path.read_bytes()
    for secret in (
        b"useless",
        b"evidence.png",
        sent.to_payload()["files"][0]["data"].encode(),  # the screenshot, as JSON carries it
        SAM.user_key.encode(),
        b"oakfield",
    ):
        assert secret not in on_disk
    assert Input.from_payload(keyed(tmp_path, key).read(path).payload) == sent

    # Without a key the same entry would be readable by anyone: that is what the key prevents.
    plain = Journal(tmp_path / "plain").write(
        Entry(key=SAM, delivery_id="Ev1", received_at=RECEIVED, payload=sent.to_payload())
    )
    assert b"useless" in plain.read_bytes()


def test_a_journal_without_the_key_refuses_rather_than_guessing(tmp_path: Path) -> None:
    path = keyed(tmp_path, Fernet.generate_key()).write(typed())
    with pytest.raises(KeyMissing):
        Journal(tmp_path).read(path)


def test_a_journal_with_another_key_says_the_key_is_missing(tmp_path: Path) -> None:
    """The runner sets aside an entry it has no key for (KeyMissing) until the key is
    configured; any other exception would escape the replay and stop all delivery."""
    path = keyed(tmp_path, Fernet.generate_key()).write(typed())
    with pytest.raises(KeyMissing):
        keyed(tmp_path, Fernet.generate_key()).read(path)


def test_a_rotated_keyring_reads_old_entries_and_plain_ones(tmp_path: Path) -> None:
    """Entries written before a key was configured, or under the previous key, are still
    taken: a key change must not lose anyone's message."""
    old, new = Fernet.generate_key(), Fernet.generate_key()
    plain = Journal(tmp_path).write(typed("before any key"))
    sealed_old = keyed(tmp_path, old).write(typed("under the old key"))
    rotated = keyed(tmp_path, new, old)
    sealed_new = rotated.write(typed("under the new key"))
    assert entries_of(rotated, [plain, sealed_old, sealed_new]) == [
        "before any key",
        "under the old key",
        "under the new key",
    ]
    # The new key encrypts: the old key alone cannot read what was written after rotation.
    with pytest.raises(KeyMissing):
        keyed(tmp_path, old).read(sealed_new)


def test_something_that_is_not_an_entry_is_refused(journal: Journal) -> None:
    stray = journal.pending_dir / "0000-1-x.entry"
    stray.write_bytes(b'{"key": ["slack", "U1", "D1"]}')
    with pytest.raises(ValueError, match="not a journal entry"):
        journal.read(stray)


# -- only the service's own user --------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_only_the_services_own_user_can_read_the_journal(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # even a careless umask must not open the journal to others
    try:
        journal = Journal(tmp_path / "data" / "journal")
        path = journal.write(typed())
        aside = journal.set_aside(journal.write(typed()), typed(), "boom")
    finally:
        os.umask(old_umask)
    for directory in (journal.root, journal.pending_dir, journal.failed_dir):
        assert mode(directory) == 0o700, directory
    assert mode(path) == 0o600
    assert mode(aside) == 0o600


def test_the_file_name_says_nothing_about_who_sent_it(journal: Journal) -> None:
    for key in (SAM, DANA):
        name = journal.write(typed(key=key)).name
        for part in (key.user_key, key.conversation_key, key.channel):
            assert part not in name
        assert name.startswith(conversation_tag(key) + "-")
    assert conversation_tag(SAM) != conversation_tag(DANA)
    assert conversation_tag(SAM) == conversation_tag(ConversationKey(*vars(SAM).values()))


def test_a_write_leaves_no_temporary_file_behind(journal: Journal) -> None:
    path = journal.write(typed())
    assert sorted(p.name for p in journal.pending_dir.iterdir()) == [path.name]


def test_a_write_that_fails_leaves_nothing_half_written(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A half-written entry would be taken after a restart as if it were the message."""

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        journal.write(typed())
    assert list(journal.pending_dir.iterdir()) == []


def test_a_temporary_file_left_by_a_crash_does_not_stop_the_entry_being_updated(
    journal: Journal,
) -> None:
    """A process killed while counting an attempt leaves its temporary file; the next process
    must still be able to count attempts on (and set aside) that entry."""
    path = journal.write(typed())
    for leftover in (f".{path.name}.tmp", f".{path.name}.{'0' * 32}.tmp"):
        (path.parent / leftover).write_bytes(b"half")
    journal.note_attempt(path, journal.read(path), "OperationalError")
    assert journal.read(path).attempts == 1


def test_stale_temporary_files_are_cleared_when_a_journal_is_opened(tmp_path: Path) -> None:
    """Half-written files from a killed process are removed once they are old, but a fresh one
    (another live process may be writing it) is left alone."""
    journal = Journal(tmp_path)
    path = journal.write(typed())
    stale = path.parent / f".{path.name}.{'1' * 32}.tmp"
    fresh = path.parent / f".{path.name}.{'2' * 32}.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    long_ago = time.time() - 2 * 3600
    os.utime(stale, (long_ago, long_ago))
    Journal(tmp_path)
    assert not stale.exists()
    assert fresh.exists()
    assert path.exists()


# -- in the order people sent them --------------------------------------------------------------


def test_pending_entries_come_oldest_first_and_by_conversation(journal: Journal) -> None:
    first = journal.write(typed("one", key=SAM))
    dana = journal.write(typed("dana's", key=DANA))
    second = journal.write(typed("two", key=SAM))
    third = journal.write(typed("three", key=SAM))
    assert journal.pending() == [first, dana, second, third]
    assert entries_of(journal, journal.pending(SAM)) == ["one", "two", "three"]
    assert entries_of(journal, journal.pending(DANA)) == ["dana's"]
    other = ConversationKey("slack", "U0SAMSECRETID", "D0ELSEWHERE")
    assert journal.pending(other) == []


def test_done_removes_the_entry_and_a_second_done_is_harmless(journal: Journal) -> None:
    """The removal may be repeated (a replay racing a live turn); it must not raise."""
    keep = journal.write(typed("keep"))
    path = journal.write(typed("taken"))
    journal.done(path)
    assert not path.exists()
    journal.done(path)
    assert journal.pending() == [keep]


def test_a_failed_attempt_is_counted_in_the_entry(journal: Journal) -> None:
    path = journal.write(typed())
    entry = journal.read(path)
    once = journal.note_attempt(path, entry, "OperationalError")
    twice = journal.note_attempt(path, once, "ConnectionRefusedError " + "x" * 500)
    kept = journal.read(path)
    assert (once.attempts, once.problem) == (1, "OperationalError")
    assert kept == twice
    assert kept.attempts == 2
    assert kept.problem is not None
    assert kept.problem.startswith("ConnectionRefusedError")
    assert len(kept.problem) == 200
    # Still waiting, in the same place in the line, with what was sent unchanged.
    assert journal.pending() == [path]
    assert kept.payload == entry.payload
    assert sorted(p.name for p in journal.pending_dir.iterdir()) == [path.name]


def test_set_aside_keeps_the_entry_for_it_and_retry_puts_it_back_in_order(
    journal: Journal,
) -> None:
    paths = [journal.write(typed(text)) for text in ("one", "two", "three")]
    later = journal.write(typed("four"))
    # Set aside in another order than they arrived.
    for path in (paths[2], paths[0], paths[1]):
        aside = journal.set_aside(path, journal.read(path), "IntegrityError")
        assert aside.parent == journal.failed_dir
        assert not path.exists()
    assert journal.pending() == [later]
    failed = journal.failed()
    assert entries_of(journal, failed) == ["one", "two", "three"]
    assert [(journal.read(p).attempts, journal.read(p).problem) for p in failed] == [
        (1, "IntegrityError")
    ] * 3

    assert journal.retry_failed() == 3
    assert journal.failed() == []
    assert entries_of(journal, journal.pending()) == ["one", "two", "three", "four"]
    assert journal.retry_failed() == 0


def test_an_unreadable_entry_is_moved_aside_as_it_is(journal: Journal) -> None:
    path = journal.write(typed())
    damaged = b"pbj-plain1\n{not json"
    path.write_bytes(damaged)
    with pytest.raises(json.JSONDecodeError):
        journal.read(path)
    aside = journal.set_aside_unreadable(path)
    assert journal.pending() == []
    assert journal.failed() == [aside]
    assert aside.read_bytes() == damaged


def test_waiting_counts_without_reading_what_was_said(tmp_path: Path) -> None:
    journal = keyed(tmp_path, Fernet.generate_key())
    assert journal.waiting() == Backlog(pending=0, failed=0, oldest=None)
    before = datetime.now(UTC)
    first = journal.write(typed("one"))
    journal.write(typed("two"))
    journal.set_aside(journal.write(typed("three")), typed("three"), "boom")
    after = datetime.now(UTC)
    # The status check has no key: counting must not need one.
    waiting = Journal(tmp_path).waiting()
    assert (waiting.pending, waiting.failed) == (2, 1)
    assert waiting.oldest is not None
    assert before <= waiting.oldest <= after
    journal.done(first)
    later = Journal(tmp_path).waiting()
    assert later.pending == 1
    assert later.oldest is not None
    assert later.oldest > waiting.oldest


# -- one process at a time takes an entry --------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, time
    descriptor = os.open(sys.argv[1], os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def another_process() -> Iterator[Any]:
    """Start a separate process holding the lock on a file, as a second bot process on the
    same machine would while it takes that entry; stopped at the end of the test."""
    started: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_an_entry_is_claimed_by_one_process_at_a_time(
    journal: Journal, another_process: Any
) -> None:
    path = journal.write(typed())
    with journal.claimed(path) as mine:
        assert mine is True

    holder = another_process(path)
    with journal.claimed(path) as mine:
        assert mine is False
    # The entry is untouched while the other process has it.
    assert journal.pending() == [path]

    # The lock goes with the process, even one that dies without letting go.
    holder.kill()
    holder.wait()
    with journal.claimed(path) as mine:
        assert mine is True


def test_a_claim_in_this_process_excludes_a_second_one(journal: Journal) -> None:
    """Two tasks of one process (a live turn and a replay) cannot both take an entry."""
    path = journal.write(typed())
    with journal.claimed(path) as first:
        assert first is True
        with journal.claimed(path) as second:
            assert second is False
    with journal.claimed(path) as again:
        assert again is True


def test_an_entry_already_taken_cannot_be_claimed(journal: Journal) -> None:
    path = journal.write(typed())
    journal.done(path)
    with journal.claimed(path) as mine:
        assert mine is False
