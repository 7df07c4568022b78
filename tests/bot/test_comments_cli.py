"""`policybot calendar ...` and `policybot comments ...` as an IT admin or moderator would run
them, each command in its own runtime as a separate process would."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from bot.config import Settings, load_settings
from bot.runtime import build_runtime
from dialogs.services.comments.incoming import CommentSource, IncomingComment
from tests.bot.conftest import Cli

TERM_DATES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Oakfield//Term dates//EN
BEGIN:VEVENT
UID:half-term-1@oakfield
DTSTAMP:20260901T000000Z
SUMMARY:October half term
DTSTART;VALUE=DATE:20261026
DTEND;VALUE=DATE:20261031
END:VEVENT
BEGIN:VEVENT
UID:inset-1@oakfield
DTSTAMP:20260901T000000Z
SUMMARY:INSET day
DTSTART;VALUE=DATE:20261127
DTEND;VALUE=DATE:20261128
END:VEVENT
END:VCALENDAR
"""


def test_term_dates_are_imported_as_closures_and_replace_earlier_imports(
    cli: Cli, tmp_path: Path
) -> None:
    ics = tmp_path / "term-dates.ics"
    ics.write_text(TERM_DATES, encoding="utf-8")
    ran = cli.run("calendar", "import", str(ics), "--as", "morgan")
    assert ran.code == 0, ran.err
    assert "Imported 2 closures for Oakfield Primary School (demo)." in ran.out
    assert 'calendar is "school_days"' in ran.out  # the demo counts working days
    again = cli.run("calendar", "import", str(ics))
    assert again.code == 0
    shown = json.loads(cli.run("calendar", "show", "--json").out)
    assert shown["calendar"] == "working_days"
    assert [(c["from"], c["to"], c["name"]) for c in shown["closures"]] == [
        ("2026-10-26", "2026-10-30", "October half term"),
        ("2026-11-27", "2026-11-27", "INSET day"),
        ("2026-12-21", "2027-01-01", "Christmas holiday"),  # from the configuration
    ]


def test_a_file_that_is_not_term_dates_is_refused_and_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.ics"
    bad.write_text("this is not a calendar", encoding="utf-8")
    ran = cli.run("calendar", "import", str(bad))
    assert ran.code == 2
    assert "Traceback" not in ran.err
    assert json.loads(cli.run("calendar", "show", "--json").out)["closures"] == [
        {"from": "2026-12-21", "to": "2027-01-01", "name": "Christmas holiday", "source": "config"}
    ]


def test_comments_are_listed_and_answered_from_the_command_line(cli: Cli) -> None:
    assert json.loads(cli.run("comments", "list", "--json").out) == []
    refused = cli.run("comments", "list", "--as", "sam")
    assert refused.code != 0
    assert "Only the school's moderators" in refused.err
    missing = cli.run("comments", "answer", "CM-2026-0009", "--as", "jo", "--how", "replied")
    assert missing.code != 0
    assert "I can't find a comment CM-2026-0009" in missing.err


def receive_a_parents_comment(settings: Settings) -> None:
    """A parent's question on the school website, an hour old, as the comments webhook takes it."""

    async def receive() -> None:
        runtime = build_runtime(settings)
        school = settings.directory.school("oakfield")
        assert school is not None
        try:
            async with runtime.db.session() as session:
                await runtime.services(session, runtime.clock()).comments.receive(
                    school,
                    IncomingComment(
                        source=CommentSource.WEBHOOK,
                        external_id="zap-1",
                        account_id="website",
                        author="A Parent",
                        text="Where do I find the lunch menu?",
                        received_at=runtime.clock() - timedelta(hours=1),
                    ),
                )
        finally:
            await runtime.close()

    asyncio.run(receive())


def test_a_moderator_records_an_answer_and_the_list_shows_it(cli: Cli) -> None:
    receive_a_parents_comment(load_settings({k: v for k, v in cli.env.items() if v is not None}))
    [listed] = json.loads(cli.run("comments", "list", "--open", "--json", "--as", "jo").out)
    assert (listed["reference"], listed["status"]) == ("CM-2026-0001", "open")
    ran = cli.run("comments", "answer", "CM-2026-0001", "--as", "jo", "--how", "replied")
    assert ran.code == 0, ran.err
    assert "CM-2026-0001 is marked as replied" in ran.out
    assert json.loads(cli.run("comments", "list", "--open", "--json").out) == []
    shown = json.loads(cli.run("comments", "show", "CM-2026-0001", "--json").out)
    assert (shown["status"], shown["handled_by"], shown["text"]) == (
        "replied",
        "jo",
        "Where do I find the lunch menu?",
    )
