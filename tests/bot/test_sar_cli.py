"""Subject access from the command line, as a data protection officer would use it.

Sam reports abuse by "Pat Jones" (a parent) and asks a policy question; then Ash, the DPO,
exports everything held about Sam, and about Pat (who is not on the staff list), and erases
what may be erased about Sam.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from tests.bot.conftest import Cli
from tests.bot.test_audit_cli import audit_rows
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, file, png
from tests.support import Person as Chat


async def sam_reports_and_asks(runtime: Runtime) -> None:
    sam = Chat(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("", file("shot.png", png("the post")))
    await sam.say("done")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    await sam.say("submit")
    await sam.say("can I post a photo of my class?")
    await sam.say("report")  # left unfinished


def package(path: Path) -> tuple[dict[str, Any], list[str], str]:
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data.json"))
        return data, archive.namelist(), archive.read("index.html").decode()


def seeded(settings: Settings) -> None:
    async def go() -> None:
        runtime = build_runtime(settings)
        try:
            await sam_reports_and_asks(runtime)
        finally:
            await runtime.close()

    asyncio.run(go())


def test_the_dpo_exports_everything_held_about_a_member_of_staff(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    seeded(settings)
    out = tmp_path / "sam.zip"
    ran = cli.run("sar", "export", "sam", "--out", str(out), "--as", "ash")
    assert ran.code == 0, ran.err
    assert "records about sam" in ran.out
    assert "Review it before releasing anything" in ran.out
    data, names, page = package(out)
    [made] = data["reports_made"]
    assert made["reference"] == "CB-2026-0001"
    assert made["what_happened"] == HAPPY_PATH[6]
    assert [n for n in names if n.startswith("files/CB-2026-0001/")]  # the screenshot itself
    [question] = data["policy_questions"]
    assert question["question"] == "can I post a photo of my class?"
    assert data["conversations_in_progress"]  # the unfinished report
    assert "Everything held about Sam Patel" in page
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_a_person_who_is_not_on_the_staff_list_is_found_by_name(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    seeded(settings)
    out = tmp_path / "pat.zip"
    missing_name = cli.run("sar", "export", "pat", "--out", str(out), "--as", "ash")
    assert missing_name.code != 0
    assert "give the name(s) they may be written under with --name" in missing_name.err
    ran = cli.run("sar", "export", "pat", "--name", "Pat Jones", "--out", str(out), "--as", "ash")
    assert ran.code == 0, ran.err
    data, _, _ = package(out)
    [named] = data["reports_naming_them"]
    assert named["person_responsible"] == "Pat Jones"


def test_only_the_dpo_or_headteacher_may_export_and_only_the_dpo_erase(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    seeded(settings)
    refused = cli.run("sar", "export", "sam", "--out", str(tmp_path / "x.zip"), "--as", "lee")
    assert refused.code == 3
    assert "Only the data protection officer and the Headteacher" in refused.err
    assert not (tmp_path / "x.zip").exists()
    assert cli.run("sar", "erase", "sam", "--as", "dana", "--confirm").code == 3


def test_erasure_removes_what_may_go_and_says_what_is_kept_and_why(
    cli: Cli, settings: Settings
) -> None:
    seeded(settings)
    plan = cli.run("sar", "erase", "sam", "--as", "ash")
    assert "Would erase: 1 unfinished conversations" in plan.out
    assert "Nothing has been erased yet" in plan.out
    done = cli.run("sar", "erase", "sam", "--as", "ash", "--confirm")
    assert done.code == 0, done.err
    assert "Erased: 1 unfinished conversations" in done.out
    assert "Erased: 1 policy questions asked" in done.out
    assert "Kept: 1 reports they made (safeguarding records" in done.out
    again = cli.run("sar", "erase", "sam", "--as", "ash")
    assert "Would erase: 0 unfinished conversations" in again.out
    assert "Would erase: 0 policy questions asked" in again.out


def test_the_package_and_the_erasure_keep_their_order_wording_and_counts(
    cli: Cli, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    """The sections of the package, in order, and every line of an erasure, in order, with
    its count and reason, and what the erasure's audit entry says: the DPO's reading of both
    does not change when the contexts that contribute to them do."""
    seeded(settings)
    out = tmp_path / "sam.zip"
    assert cli.run("sar", "export", "sam", "--out", str(out), "--as", "ash").code == 0
    data, _, page = package(out)
    assert list(data) == EXPECTED_SECTIONS
    headings = [line for line in page.splitlines() if line.startswith("<h2>")]
    assert [h.split(" (")[0].removeprefix("<h2>") for h in headings] == [
        key.replace("_", " ").capitalize() for key in EXPECTED_SECTIONS[1:]
    ]
    assert len(data["audit_log"]) == 1
    plan = cli.run("sar", "erase", "sam", "--as", "ash")
    assert plan.out.splitlines() == [
        "Would erase: 1 unfinished conversations (held only to resume them)",
        "Would erase: 0 files attached to unfinished drafts (never sent)",
        "Would erase: 0 messages not yet delivered (not yet read)",
        "Would erase: 1 policy questions asked (no longer needed)",
        "Would erase: 0 post requests that never went out (not published)",
        "Kept: 1 reports they made (safeguarding records, kept for the school's retention "
        "period (legal obligation))",
        "Kept: 0 reports that name them (safeguarding records about others too, kept for the "
        "retention period)",
        "Kept: 1 their actions on reports, posts and comments (the record of decisions the "
        "school must be able to show)",
        "Kept: 1 audit log entries (the tamper-evident record of who did what; "
        "removed only by retention)",
        "Nothing has been erased yet: run again with --confirm.",
    ]
    assert cli.run("sar", "erase", "sam", "--as", "ash", "--confirm").code == 0
    [erased] = [e for e in audit_rows(database_url) if e.action == "sar.erase"]
    assert erased.detail == (
        "1 unfinished conversations, 0 files attached to unfinished drafts, "
        "0 messages not yet delivered, 1 policy questions asked, "
        "0 post requests that never went out"
    )


EXPECTED_SECTIONS = [
    "about",
    "profile",
    "learned_from_platforms",
    "reports_made",
    "reports_naming_them",
    "actions_on_reports",
    "post_requests",
    "post_decisions",
    "comments_handled",
    "account_requests",
    "account_confirmations",
    "website_reports",
    "policy_questions",
    "conversations_in_progress",
    "messages_waiting",
    "audit_log",
]
