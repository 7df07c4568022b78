"""Screenshots shared in Slack arrive whole, as Slack's file servers send them: in pieces, slowly.

The fake streams every file in small paced pieces (tests/fakes/streaming.py), so these tests see
what a real phone screenshot of a few megabytes looks like on the wire.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlmodel import select

from bot.config import EvidenceSettings, Settings
from storage.models import Evidence
from tests.channels.slack.harness import SlackHarness, dm, slack_harness, text_of_calls
from tests.channels.slack.test_slack_report import SAM, file_a_report
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlack
from tests.fakes.streaming import Pace
from tests.support import phone_screenshot, png


async def reach_the_screenshots_question(slack: SlackHarness) -> None:
    await slack.reply_to(SAM, slack.say(SAM, "report"))
    await slack.reply_to(SAM, slack.click(SAM, "me", label="Me"))
    await slack.reply_to(SAM, slack.press_newest(SAM, "No"))
    await slack.reply_to(SAM, slack.click(SAM, "Facebook", label="Facebook"))
    await slack.reply_to(SAM, slack.click(SAM, "skip", label="Skip"))
    await slack.reply_to(SAM, slack.say(SAM, "yesterday 4pm"))
    posts = await slack.reply_to(SAM, slack.say(SAM, "A parent posted abusive comments."))
    assert "screenshot" in text_of_calls(posts).lower()


async def kept_hashes(slack: SlackHarness) -> list[str]:
    async with slack.runtime.db.session() as session:
        return sorted(e.sha256 for e in (await session.execute(select(Evidence))).scalars())


async def test_two_phone_screenshots_of_three_megabytes_are_kept_exactly(
    slack: SlackHarness,
) -> None:
    first, second = phone_screenshot("first"), phone_screenshot("second")
    assert min(len(first), len(second)) > 3_000_000
    await file_a_report(slack, first, second)
    done = await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    assert "Report sent: CB-2026-0001" in text_of_calls(done)
    assert await kept_hashes(slack) == sorted(
        hashlib.sha256(d).hexdigest() for d in (first, second)
    )


async def test_a_screenshot_sent_slowly_in_small_pieces_arrives_whole(
    slack: SlackHarness,
) -> None:
    await reach_the_screenshots_question(slack)
    shot = phone_screenshot("slow", megabytes=1.0)
    shared = slack.fake.add_file(
        "FSLOW", name="slow.png", data=shot, mimetype="image/png", pace=Pace(4096, 0.002)
    )
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    assert "“slow.png” (1.0 MB) is saved as evidence" in text_of_calls(posts)
    assert await kept_hashes(slack) == [hashlib.sha256(shot).hexdigest()]


async def test_a_download_cut_off_part_way_is_asked_for_again_not_called_damaged(
    slack: SlackHarness,
) -> None:
    await reach_the_screenshots_question(slack)
    shot = phone_screenshot("cut", megabytes=1.0)
    shared = slack.fake.add_file(
        "FCUT", name="cut.png", data=shot, mimetype="image/png", cut_after=300_000
    )
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    text = text_of_calls(posts)
    assert "couldn't fetch all of “cut.png” from Slack" in text
    assert "damaged" not in text
    assert await kept_hashes(slack) == []


@pytest.fixture
async def small_limits(
    settings: Settings, clock: Clock, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    """A school that keeps pictures up to 2 MB and videos up to 3 MB."""
    limited = replace(settings, evidence=EvidenceSettings(max_upload_mb=2, max_video_mb=3))
    async with slack_harness(limited, clock, fake_slack) as harness:
        yield harness


async def test_a_file_over_every_limit_without_a_declared_size_is_refused_by_its_size(
    small_limits: SlackHarness,
) -> None:
    slack = small_limits
    await reach_the_screenshots_question(slack)
    shared = slack.fake.add_file(
        "FHUGE",
        name="huge.png",
        data=phone_screenshot("huge", megabytes=3.5),
        mimetype="image/png",
        declare_size=False,
    )
    posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
    text = text_of_calls(posts)
    assert "“huge.png” is too big to keep" in text
    assert "3 MB" in text  # the limit is named
    assert not re.search(r"\b(empty|damaged)\b", text)


async def test_a_picture_over_the_picture_limit_names_the_limit_and_is_never_called_empty(
    small_limits: SlackHarness,
) -> None:
    slack = small_limits
    await reach_the_screenshots_question(slack)
    for declared in (True, False):
        shared = slack.fake.add_file(
            f"FBIG{declared}",
            name="big.png",
            data=phone_screenshot("big", megabytes=2.5),
            mimetype="image/png",
            declare_size=declared,
        )
        posts = await slack.reply_to(SAM, slack.say(SAM, "", files=[shared]))
        text = text_of_calls(posts)
        assert "more than the 2 MB I can keep for one file" in text, text
        assert not re.search(r"\b(empty|damaged)\b", text)


async def test_a_small_screenshot_beside_a_large_one_both_arrive(slack: SlackHarness) -> None:
    await reach_the_screenshots_question(slack)
    small, large = png("small"), phone_screenshot("large", megabytes=2.0)
    shared = [
        slack.fake.add_file("FA", name="a.png", data=small, mimetype="image/png"),
        slack.fake.add_file("FB", name="b.png", data=large, mimetype="image/png"),
    ]
    await slack.reply_to(SAM, slack.say(SAM, "", files=shared))
    assert await kept_hashes(slack) == sorted(hashlib.sha256(d).hexdigest() for d in (small, large))
    assert "is saved as evidence" in text_of_calls(slack.posts_to(dm(SAM)))
