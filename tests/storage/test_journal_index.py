"""A conversation's waiting entries are found without listing the whole journal every turn.

Every turn asks for its conversation's entries (to take anything that person sent earlier
first). Under a burst a thousand entries may wait, so each turn must not list them all: this
process keeps an index of the folder. The folder stays the truth: what other processes write
is seen once the index is a moment old, what they remove is never returned, and a journal
opened afresh (a restart) finds everything from the folder alone.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import storage.journal
from dialogs.inbox import Input
from dialogs.services.messages import UserInput
from storage.conversations import ConversationKey
from storage.journal import Entry, Journal

SAM = ConversationKey("slack", "U0SAM", "D0SAM")
RECEIVED = datetime(2026, 11, 21, 11, 30, 15, tzinfo=UTC)


def typed(text: str, key: ConversationKey = SAM) -> Entry:
    given = Input(school_id="oakfield", person_id="sam", given=UserInput(text=text))
    return Entry(key=key, delivery_id=text, received_at=RECEIVED, payload=given.to_payload())


def said(journal: Journal, paths: list[Path]) -> list[str]:
    return [Input.from_payload(journal.read(p).payload).given.text for p in paths]


class Listings:
    """Counts how often a journal's pending folder is listed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, journal: Journal) -> None:
        self.count = 0
        scandir = os.scandir

        def counted(path: Any) -> Any:
            self.count += Path(path) == journal.pending_dir
            return scandir(path)

        monkeypatch.setattr(os, "scandir", counted)


@pytest.fixture
def index_stays_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a burst: every turn comes within moments of the last listing."""
    monkeypatch.setattr(storage.journal, "_LISTING_FRESH_SECONDS", 3600.0)


@pytest.fixture
def index_always_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    """As when the last listing was a while ago."""
    monkeypatch.setattr(storage.journal, "_LISTING_FRESH_SECONDS", -1.0)


def test_a_turn_under_a_burst_does_not_list_the_whole_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_stays_fresh: None
) -> None:
    journal = Journal(tmp_path)
    others = [typed(f"other {n}", ConversationKey("slack", f"U{n}", f"D{n}")) for n in range(1000)]
    journal.write_group([(entry, journal.place(entry)) for entry in others])
    first = journal.write(typed("one"))
    second = journal.write(typed("two"))
    assert len(journal.pending()) == 1002
    listings = Listings(monkeypatch, journal)

    for _ in range(50):
        assert journal.pending(SAM) == [first, second]
    journal.done(first)
    assert journal.pending(SAM) == [second]

    assert listings.count == 0


def test_what_another_process_removed_is_never_returned(
    tmp_path: Path, index_stays_fresh: None
) -> None:
    ours, theirs = Journal(tmp_path), Journal(tmp_path)
    first = ours.write(typed("one"))
    second = ours.write(typed("two"))
    assert ours.pending(SAM) == [first, second]
    theirs.done(first)  # another process took it
    assert ours.pending(SAM) == [second]
    theirs.set_aside(second, theirs.read(second), "boom")
    assert ours.pending(SAM) == []


def test_what_another_process_wrote_is_seen_once_the_index_is_a_moment_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, theirs = Journal(tmp_path), Journal(tmp_path)
    mine = ours.write(typed("mine"))
    monkeypatch.setattr(storage.journal, "_LISTING_FRESH_SECONDS", 3600.0)
    assert ours.pending(SAM) == [mine]
    earlier = theirs.write(typed("theirs"))
    assert ours.pending(SAM) == [mine]  # not yet: the index is fresh
    monkeypatch.setattr(storage.journal, "_LISTING_FRESH_SECONDS", -1.0)
    assert ours.pending(SAM) == [mine, earlier]


def test_every_entry_is_always_listed_from_the_folder(
    tmp_path: Path, index_stays_fresh: None
) -> None:
    """The replay and the status look at the folder itself, however fresh the index is."""
    ours, theirs = Journal(tmp_path), Journal(tmp_path)
    assert ours.pending(SAM) == []
    written = theirs.write(typed("theirs"))
    assert ours.pending() == [written]
    assert ours.pending(SAM) == [written]  # and the index learnt it


def test_a_journal_opened_afresh_finds_what_was_waiting(
    tmp_path: Path, index_stays_fresh: None
) -> None:
    before = Journal(tmp_path)
    paths = [before.write(typed(text)) for text in ("one", "two", "three")]
    before.done(paths[1])
    restarted = Journal(tmp_path)
    assert said(restarted, restarted.pending(SAM)) == ["one", "three"]


def test_the_index_follows_this_process_s_own_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_stays_fresh: None
) -> None:
    journal = Journal(tmp_path)
    assert journal.pending(SAM) == []
    listings = Listings(monkeypatch, journal)
    first = journal.write(typed("one"))
    second = journal.write(typed("two"))
    aside = journal.set_aside(first, journal.read(first), "IntegrityError")
    assert journal.pending(SAM) == [second]
    unreadable = journal.set_aside_unreadable(second)
    assert journal.pending(SAM) == []
    assert {aside, unreadable} == set(journal.failed_dir.iterdir())
    journal.retry_failed()
    assert said(journal, journal.pending(SAM)) == ["one", "two"]
    assert listings.count == 0


def test_an_adopted_entry_is_found_under_its_new_name(
    tmp_path: Path, index_stays_fresh: None
) -> None:
    gone = Journal(tmp_path, host="web-gone")
    theirs = gone.write(typed("theirs"))
    ours = Journal(tmp_path, host="web-here")
    assert ours.pending() == [theirs]
    adopted = ours.adopt(theirs)
    assert adopted is not None
    assert ours.pending(SAM) == [adopted]


def test_both_ways_agree(tmp_path: Path, index_always_stale: None) -> None:
    """Listed afresh every time, the answers are the same as from the index."""
    journal = Journal(tmp_path)
    paths = [journal.write(typed(text)) for text in ("one", "two")]
    other = journal.write(typed("other", ConversationKey("teams", "29:x", "a:y")))
    assert journal.pending(SAM) == paths
    assert journal.pending() == [*paths, other]
