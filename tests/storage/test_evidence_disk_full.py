"""The evidence disk fills up while a person is reporting, over Slack, with the real app.

The disk is met where a real one fails: at the os.write system call, which takes what still
fits of a multi-megabyte screenshot and then fails with ENOSPC (or EDQUOT, over a quota).
What must hold: the person hears, kindly and honestly, that the file could not be kept and
that nothing else is lost; nothing half-written is left on disk; IT hears it from the log
(without anything the person sent) and from /readyz, which says not ready until there is room
again; and once there is, the same file is kept.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.channels.slack import ids
from bot.config import Settings
from storage.blobstore import LocalBlobStore
from storage.journal import Entry, Journal
from storage.models import Case, Evidence
from tests.channels.slack.harness import SlackHarness, slack_harness, text_of_calls
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlack
from tests.support import phone_screenshot

SAM = "U0SAM"
WHAT_HAPPENED = "A parent wrote that I am useless and should go."


class AlmostFullDisk:
    """A disk with `room` bytes left. Like a real one, a write takes what still fits and the
    next one fails with `error` (ENOSPC: the disk is full; EDQUOT: the service's quota is)."""

    def __init__(self, room: int, error: int = errno.ENOSPC) -> None:
        self.room = room
        self.error = error
        self.refused = 0

    def write(self, descriptor: int, data: memoryview) -> int:
        if self.room <= 0:
            self.refused += 1
            raise OSError(self.error, os.strerror(self.error))
        written = os.write(descriptor, data[: self.room])
        self.room -= written
        return written

    def make_room(self) -> None:
        self.room = 1 << 40


@pytest.fixture
async def slack(settings: Settings, clock: Clock) -> AsyncIterator[SlackHarness]:
    async with FakeSlack() as fake, slack_harness(settings, clock, fake) as harness:
        yield harness


def fill_evidence_disk(slack: SlackHarness, disk: AlmostFullDisk) -> None:
    """The running server's evidence store, now on `disk`."""
    settings = slack.runtime.settings
    slack.runtime.blobs = LocalBlobStore(
        settings.evidence_dir, keys=settings.keys, write=disk.write
    )


async def at_the_screenshots_question(slack: SlackHarness) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    await slack.reply_to(SAM, slack.press_newest(SAM, "No"))
    await slack.reply_to(SAM, slack.click(SAM, "Facebook", label="Facebook"))
    await slack.reply_to(SAM, slack.say(SAM, "https://facebook.com/posts/1"))
    await slack.reply_to(SAM, slack.say(SAM, "yesterday 4pm"))
    posts = await slack.reply_to(SAM, slack.say(SAM, WHAT_HAPPENED))
    assert "Please send your screenshots" in text_of_calls(posts)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def readiness(slack: SlackHarness) -> tuple[int, dict[str, Any]]:
    response = await slack.client.get("/readyz")
    return response.status, await response.json()


async def evidence(slack: SlackHarness) -> list[Evidence]:
    async with slack.runtime.db.session() as session:
        return list((await session.execute(select(Evidence))).scalars().all())


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT], ids=["disk full", "quota full"])
async def test_a_full_evidence_disk_is_told_kindly_and_nothing_else_is_lost(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, error: int
) -> None:
    evidence_dir = slack.runtime.settings.evidence_dir
    await at_the_screenshots_question(slack)
    assert await readiness(slack) == (200, {"status": "ready"})
    disk = AlmostFullDisk(room=1024 * 1024, error=error)
    fill_evidence_disk(slack, disk)
    screenshot = phone_screenshot("the post", megabytes=3)
    shared = slack.fake.add_file("FBIG", name="the post.png", data=screenshot, mimetype="image/png")

    with caplog.at_level(logging.INFO):
        told = text_of_calls(await slack.reply_to(SAM, slack.say(SAM, "", files=[shared])))

    assert disk.refused, "the screenshot never reached the disk"
    # Honest and kind: which file, why, that the rest is safe, that IT knows, what to do now.
    assert "I couldn't keep “the post.png”" in told, told
    assert "storage is full" in told
    assert "everything else you've told me is kept" in told.lower()
    assert "IT has been told" in told
    assert "try again later" in told
    assert "designated safeguarding lead" in told
    assert "can't reach my records" not in told
    # Nothing half-written is left, and nothing is recorded for a file that was not kept.
    assert files_under(evidence_dir) == []
    assert await evidence(slack) == []
    # IT hears it: an error in the log, with nothing the person sent in it...
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "no space" in record.getMessage()
    for secret in ("the post", WHAT_HAPPENED, "Sam"):
        assert secret not in caplog.text
    # ...and readiness says not ready, until there is room again.
    status, body = await readiness(slack)
    assert status == 503
    assert body["status"] == "evidence storage full"
    assert await readiness(slack) == (503, body)

    disk.make_room()
    assert await readiness(slack) == (200, {"status": "ready"})

    # The person carries on where they were: the same screenshot is kept now, and the report
    # goes with everything they gave before the disk filled up.
    again = slack.fake.add_file("FBIG2", name="the post.png", data=screenshot, mimetype="image/png")
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[again]))
    assert "is saved as evidence" in text_of_calls(posts)
    await slack.reply_to(SAM, slack.click(SAM, "done", label="Done"))
    await slack.reply_to(SAM, slack.click(SAM, "parent", label="A parent or carer"))
    await slack.reply_to(SAM, slack.click(SAM, "skip", label="Skip"))
    await slack.reply_to(SAM, slack.say(SAM, "1, 4"))
    done = await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    assert "Report sent" in text_of_calls(done)
    async with slack.runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.description == WHAT_HAPPENED
    [kept] = await evidence(slack)
    assert kept.case_id == case.id
    assert (await slack.runtime.blobs.get(kept.stored_name, encrypted=kept.encrypted)) == screenshot


async def test_with_the_whole_data_disk_full_the_journal_too_the_person_is_still_answered(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal lives on the same disk. Its first, small entry (the message, with the names
    of the files still to be fetched) may fit; the entry with the screenshot in it does not."""
    await at_the_screenshots_question(slack)
    disk = AlmostFullDisk(room=64 * 1024)
    fill_evidence_disk(slack, disk)
    write_entry = Journal._write_file

    def on_the_full_disk(journal: Journal, path: Path, entry: Entry) -> None:
        size = len(json.dumps(entry.to_json()).encode())
        if size > disk.room:
            disk.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        disk.room -= size
        write_entry(journal, path, entry)

    monkeypatch.setattr(Journal, "_write_file", on_the_full_disk)
    screenshot = phone_screenshot("the post", megabytes=3)
    shared = slack.fake.add_file("FBIG", name="the post.png", data=screenshot, mimetype="image/png")

    told = text_of_calls(await slack.reply_to(SAM, slack.say(SAM, "", files=[shared])))

    assert "I couldn't keep “the post.png”" in told, told
    assert "storage is full" in told
    assert "can't reach my records" not in told
    assert files_under(slack.runtime.settings.evidence_dir) == []
    assert slack.runtime.journal.pending() == []  # nothing left to be taken a second time
    assert (await readiness(slack))[0] == 503
    # The next answer is taken as usual.
    posts = await slack.reply_to(SAM, slack.click(SAM, "skip", label="Skip"))
    assert "Who is responsible" in text_of_calls(posts)


async def test_a_message_flagged_while_the_whole_disk_is_full_is_answered_honestly(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = AlmostFullDisk(room=0)
    fill_evidence_disk(slack, disk)

    def on_the_full_disk(journal: Journal, path: Path, entry: Entry) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Journal, "_write_file", on_the_full_disk)
    flagged = {"text": "you're a disgrace", "user": "U0TROLL", "ts": "1700000000.000100"}
    channel = {"id": "C0STAFFROOM", "name": "staffroom"}

    told = text_of_calls(
        await slack.reply_to(SAM, slack.flag_message(SAM, flagged, channel, ids.REPORT_SHORTCUT))
    )

    assert "I couldn't keep the message you flagged: my storage is full" in told
    assert "can't reach my records" not in told
    assert files_under(slack.runtime.settings.evidence_dir) == []
