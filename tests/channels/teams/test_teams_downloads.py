"""Screenshots shared in Teams arrive whole, as Microsoft's file servers send them: in pieces.

The fake connector streams every file in small paced pieces (tests/fakes/streaming.py), both a
shared file's pre-authenticated download link and an image pasted into the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.config import EvidenceSettings, Settings
from storage.models import Evidence
from tests.channels.teams.harness import SAM, TeamsHarness, teams_harness, text_of
from tests.channels.teams.test_teams_report import (
    FILE_DOWNLOAD_INFO,
    answer_up_to_evidence,
    file_a_report,
    rows,
    submit,
)
from tests.conftest import Clock
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.streaming import DEFAULT_PACE, Pace
from tests.support import phone_screenshot


def shared_file(
    teams: TeamsHarness,
    name: str,
    data: bytes,
    *,
    pace: Pace = DEFAULT_PACE,
    cut_after: int | None = None,
) -> dict[str, object]:
    url = teams.fake.add_file(name, data, "image/png", pace=pace, cut_after=cut_after)
    return {
        "contentType": FILE_DOWNLOAD_INFO,
        "name": name,
        "contentUrl": f"https://oakfield.sharepoint.com/personal/sam/{name}",
        "content": {"downloadUrl": url, "uniqueId": name, "fileType": "png"},
    }


async def test_a_shared_and_a_pasted_phone_screenshot_of_three_megabytes_are_kept_exactly(
    teams: TeamsHarness,
) -> None:
    shared, pasted = phone_screenshot("shared"), phone_screenshot("pasted")
    assert min(len(shared), len(pasted)) > 3_000_000
    await file_a_report(teams, shots=[shared, pasted])
    await submit(teams)
    kept = await rows(teams, Evidence)
    assert sorted(e.sha256 for e in kept) == sorted(
        hashlib.sha256(d).hexdigest() for d in (shared, pasted)
    )


async def test_a_screenshot_sent_slowly_arrives_whole(teams: TeamsHarness) -> None:
    await answer_up_to_evidence(teams)
    shot = phone_screenshot("slow", megabytes=1.0)
    attachment = shared_file(teams, "slow.png", shot, pace=Pace(4096, 0.002))
    kept = await teams.replies(SAM, teams.say(SAM, "", attachments=[attachment]))
    assert "“slow.png” (1.0 MB) is saved as evidence" in text_of(kept)
    assert [e.sha256 for e in await rows(teams, Evidence)] == [hashlib.sha256(shot).hexdigest()]


async def test_a_download_cut_off_part_way_is_asked_for_again_not_called_damaged(
    teams: TeamsHarness,
) -> None:
    await answer_up_to_evidence(teams)
    shot = phone_screenshot("cut", megabytes=1.0)
    attachment = shared_file(teams, "cut.png", shot, cut_after=300_000)
    said = text_of(await teams.replies(SAM, teams.say(SAM, "", attachments=[attachment])))
    assert "couldn't fetch all of “cut.png” from Teams" in said
    assert not re.search(r"\b(empty|damaged)\b", said)
    assert await rows(teams, Evidence) == []


@pytest.fixture
async def small_limits(
    settings: Settings, clock: Clock, fake_teams: FakeBotFramework
) -> AsyncIterator[TeamsHarness]:
    """A school that keeps pictures up to 2 MB and videos up to 3 MB."""
    limited = replace(settings, evidence=EvidenceSettings(max_upload_mb=2, max_video_mb=3))
    async with teams_harness(limited, clock, fake_teams) as harness:
        yield harness


async def test_files_over_the_limits_are_refused_by_size_with_the_limit_named(
    small_limits: TeamsHarness,
) -> None:
    teams = small_limits
    await answer_up_to_evidence(teams)
    big = shared_file(teams, "big.png", phone_screenshot("big", megabytes=2.5))
    said = text_of(await teams.replies(SAM, teams.say(SAM, "", attachments=[big])))
    assert "more than the 2 MB I can keep for one file" in said
    huge = shared_file(teams, "huge.png", phone_screenshot("huge", megabytes=3.5))
    said = text_of(await teams.replies(SAM, teams.say(SAM, "", attachments=[huge])))
    assert "“huge.png” is too big to keep" in said
    assert not re.search(r"\b(empty|damaged)\b", said)
    assert await rows(teams, Evidence) == []
