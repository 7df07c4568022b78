"""The `policybot` command with hostile arguments: references with SQL in them, wildcards, very
long strings, control characters and look-alike letters. Each must get a clear message and an
exit code other than 0, reveal nothing and change nothing.

The commands run in-process (click's CliRunner), each building its own runtime as a separate
process would, against the same database as the seeded report and comment.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings
from bot.runtime import build_runtime
from dialogs.services.comments.incoming import CommentSource, IncomingComment
from tests.security.support import Counts, changed, counts, file_case

DESCRIPTION_WORDS = "useless and should be sacked"  # from tests.support.HAPPY_PATH
COMMENT_TEXT = "Where do I find the lunch menu?"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    case: str
    comment: str

    def run(self, *args: str) -> Ran:
        env = {
            "POLICYBOT_DATA_DIR": str(self.settings.data_dir),
            "DATABASE_URL": self.settings.database_url,
            "POLICYBOT_CONFIG": None,
        }
        result = CliRunner().invoke(main, list(args), env=env, prog_name="policybot")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"policybot {args[:2]} crashed") from result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    def counts(self) -> Counts:
        async def go() -> Counts:
            runtime = build_runtime(self.settings)
            try:
                return await counts(runtime)
            finally:
                await runtime.close()

        return asyncio.run(go())


@pytest.fixture
def seeded(settings: Settings) -> Seeded:
    """A report and a comment, made the way staff and webhooks make them."""

    async def go() -> tuple[str, str]:
        runtime = build_runtime(settings)
        school = settings.directory.school("oakfield")
        assert school is not None
        try:
            reference = await file_case(runtime)
            async with runtime.db.session() as session:
                received = await runtime.services(session, runtime.clock()).comments.receive(
                    school,
                    IncomingComment(
                        source=CommentSource.WEBHOOK,
                        external_id="zap-1",
                        account_id="website",
                        author="A Parent",
                        text=COMMENT_TEXT,
                        received_at=runtime.clock() - timedelta(hours=1),
                    ),
                )
                comment = received.comment.reference
            return reference, comment
        finally:
            await runtime.close()

    case, comment = asyncio.run(go())
    return Seeded(settings, case, comment)


_CYRILLIC = {"C": "\u0421", "c": "\u0441", "a": "\u0430", "e": "\u0435", "o": "\u043e"}


def look_alike(text: str) -> str:
    """The same text with one letter swapped for its Cyrillic twin: looks equal, is not."""
    index = next(i for i, ch in enumerate(text) if ch in _CYRILLIC)
    return text[:index] + _CYRILLIC[text[index]] + text[index + 1 :]


def hostile(reference: str) -> list[str]:
    return [
        f"{reference}' OR '1'='1",
        f'{reference}\'; DROP TABLE "case"; --',
        f"{reference[:3]}%",
        look_alike(reference),
        reference + "\u200b",
        "x" * 100_000,
    ]


def unreadable(text: str) -> list[str]:
    """Characters in a message that a terminal would act on or that hide or reorder text."""
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if ch not in "\n" and unicodedata.category(ch) in ("Cc", "Cf")
    ]


def test_cases_show_with_a_hostile_reference_finds_nothing_says_so_and_changes_nothing(
    seeded: Seeded,
) -> None:
    before = seeded.counts()

    for reference in hostile(seeded.case):
        ran = seeded.run("cases", "show", reference, "--as", "dana", "--json")
        assert ran.code == 3, (reference[:40], ran)
        assert ran.err.startswith("I can't find a report "), ran.err
        assert ran.err.endswith(" that you can see.\n")
        assert len(ran.err) < 120
        assert ran.out == ""
        assert DESCRIPTION_WORDS not in ran.err

    assert changed(before, seeded.counts()) == {}
    # The real reference is found, even typed loosely: the refusals above were the references'.
    ran = seeded.run("cases", "show", f"  {seeded.case.lower()} ", "--as", "dana", "--json")
    assert ran.code == 0, ran.err
    assert DESCRIPTION_WORDS in ran.out
    assert changed(before, seeded.counts()) == {"audit_entry": 1}  # a lead's view is audited


def test_cases_show_as_a_hostile_person_is_a_usage_error_and_changes_nothing(
    seeded: Seeded,
) -> None:
    before = seeded.counts()

    for person in ("dana' OR '1'='1", "x" * 10_000, "DANA"):
        ran = seeded.run("cases", "show", seeded.case, "--as", person)
        assert ran.code == 2, ran
        assert "There is no person" in ran.err
        assert DESCRIPTION_WORDS not in ran.out + ran.err

    assert changed(before, seeded.counts()) == {}


def test_comments_show_with_a_hostile_reference_finds_nothing_says_so_and_changes_nothing(
    seeded: Seeded,
) -> None:
    before = seeded.counts()

    for reference in hostile(seeded.comment):
        ran = seeded.run("comments", "show", reference, "--json")
        assert ran.code == 3, (reference[:40], ran)
        assert ran.err.startswith("I can't find a comment "), ran.err
        assert len(ran.err) < 80
        assert ran.out == ""
        assert COMMENT_TEXT not in ran.err

    assert changed(before, seeded.counts()) == {}
    ran = seeded.run("comments", "show", seeded.comment, "--json")
    assert ran.code == 0
    assert COMMENT_TEXT in ran.out


def test_accounts_show_with_a_hostile_account_id_is_a_usage_error_and_changes_nothing(
    seeded: Seeded,
) -> None:
    before = seeded.counts()

    for account in [*hostile("facebook"), "\x1b]0;pwned\x07", "insta\u202emarg"]:
        ran = seeded.run("accounts", "show", account, "--json")
        assert ran.code == 2, (account[:40], ran)
        assert "has no official account" in ran.err
        assert unreadable(ran.err) == []  # the id is shown escaped, as Python would write it
        assert ran.out == ""

    assert changed(before, seeded.counts()) == {}
    assert seeded.run("accounts", "show", "facebook", "--json").code == 0


@pytest.mark.parametrize("command", ["cases", "comments"])
def test_a_refused_reference_is_never_echoed_with_terminal_or_direction_characters(
    seeded: Seeded, command: str
) -> None:
    extra = ["--as", "dana"] if command == "cases" else []
    for reference in ("\x1b]0;pwned\x07CB-1", "CB-\u202e1000"):
        ran = seeded.run(command, "show", reference, *extra)
        assert ran.code == 3
        assert unreadable(ran.err) == [], (reference, ran.err)


def test_policy_answer_to_a_question_number_too_big_to_exist_says_it_cannot_find_it(
    seeded: Seeded,
) -> None:
    before = seeded.counts()

    ran = seeded.run("policy", "answer", "Q-99999999999999999999", "Smart casual.", "--as", "dana")

    assert (ran.code, ran.err) == (3, "I can't find question Q-99999999999999999999.\n")
    assert changed(before, seeded.counts()) == {}
