"""Refusals in the terminal chat and the `policybot` command, as a person would meet them.

The terminal chat runs over stdin and stdout through the real runner; the commands run as a
separate process would (`--as` someone, their own runtime), on SQLite and on PostgreSQL. The
person is answered exactly as before, is never asked a question first that they would then be
refused for, and the data protection officer finds one entry per refused attempt in the log.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.runtime import Runtime
from tests.bot.conftest import Cli
from tests.bot.test_cli import REFERENCE, file_reports
from tests.bot.test_terminal import terminal
from tests.support import Person as Chat
from tests.support import text_of

POST_TEXT = "Our choir sang beautifully at the town carol concert!"


async def request_post(runtime: Runtime) -> None:
    sam = Chat(runtime)
    for answer in ["post", "1", POST_TEXT, "skip", "no", "next Friday 3pm", "1, 2"]:
        await sam.say(answer)
    assert "Sent for approval: PR-2026-0001" in text_of(await sam.say("submit"))


def refused_entries(cli: Cli) -> list[dict[str, str]]:
    """The refusals in the audit log, oldest first, as the data protection officer reads it."""
    rows = cli.run("audit", "show", "--as", "ash", "--json").json()
    return [r for r in reversed(rows) if r["action"] == "access.refused"]


async def test_a_moderator_choosing_reject_in_the_terminal_is_refused_at_once(
    runtime: Runtime,
) -> None:
    await request_post(runtime)
    typed = ["approvals", "3", "It is not school news.", "/q"]
    chat, stdout = terminal(runtime, "jo", "".join(f"{line}\n" for line in typed))
    assert await chat.run() == 0

    transcript = stdout.getvalue()
    assert "  3. Reject\n" in transcript
    pressed = transcript.split("> 3\n", 1)[1].split("> It is not school news.\n", 1)[0]
    assert "Only approvers can approve, reject or ask for changes to a post." in pressed
    assert "What is the reason" not in transcript
    # What Jo typed next was not taken for a reason, and not refused again.
    after = transcript.split("> It is not school news.\n", 1)[1]
    assert "Only approvers" not in after

    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    dpo = school.person("ash")
    assert dpo is not None
    async with runtime.db.session() as session:
        entries = await runtime.services(session, runtime.clock()).audit.read(
            school_id=school.id, actor=dpo
        )
    refused = [e for e in entries if e.action == "access.refused"]
    assert [(e.actor_id, e.detail) for e in refused] == [("jo", "PR-2026-0001 post.decide (role)")]


def test_a_command_run_as_someone_who_may_not_is_refused_as_before_and_recorded(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    file_reports(settings, ("sam", []))
    pack = tmp_path / "pack.zip"
    as_jo = ("--as", "jo")
    for args in (
        ("cases", "ack", REFERENCE, *as_jo),
        ("cases", "export", REFERENCE, *as_jo, "--out", str(pack)),
    ):
        ran = cli.run(*args)
        assert (ran.code, ran.out) == (3, ""), ran
        assert ran.err == f"I can't find a report {REFERENCE} that you can see.\n"
    ran = cli.run("cases", "ack", REFERENCE, "--as", "sam")
    assert ran.code == 3
    assert ran.err.startswith("Only the designated safeguarding lead or their deputy")
    ran = cli.run("audit", "show", "--as", "sam")
    assert (ran.code, ran.err) == (
        3,
        "Only the data protection officer and the Headteacher can see the audit log.\n",
    )
    assert not pack.exists()

    entries = refused_entries(cli)
    assert [(e["actor"], e["detail"]) for e in entries] == [
        ("jo", f"{REFERENCE} case.acknowledge (not_visible)"),
        ("jo", f"{REFERENCE} case.export (not_visible)"),
        ("sam", f"{REFERENCE} case.acknowledge (role)"),
        ("sam", "records.view_audit (role)"),
    ]
    assert [e["target"].split(":")[0] for e in entries] == ["case", "case", "case", "school"]


def test_a_refused_command_is_recorded_once_however_it_is_refused(
    cli: Cli, settings: Settings
) -> None:
    """The same refused command run twice is two attempts: two entries, no more."""
    file_reports(settings, ("sam", []))
    for _ in range(2):
        assert cli.run("cases", "show", REFERENCE, "--as", "jo").code == 3
    entries = refused_entries(cli)
    assert [e["detail"] for e in entries] == [f"{REFERENCE} case.view_status (not_visible)"] * 2


def test_an_import_run_as_someone_who_may_not_is_refused_like_any_refusal_and_recorded(
    cli: Cli, tmp_path: Path
) -> None:
    """The import commands check --as themselves, before reading the file: refused in the same
    words and with the same exit code (3) as every other refusal, and in the audit log."""
    policy = tmp_path / "policy.md"
    policy.write_text("# Social media policy\n\n## 1. Personal use\n\nBe careful.\n")
    register = tmp_path / "consent.csv"
    register.write_text("Forename,Surname,Year,Website\nAmelia,Hart,4,Yes\n")

    ran = cli.run("policy", "import", str(policy), "--school", "oakfield", "--as", "sam")
    assert ran.code == 3
    assert "Sam Patel is not the policy owner, the headteacher or an IT administrator." in ran.err
    ran = cli.run("consent", "import", str(register), "--school", "oakfield", "--as", "priya")
    assert ran.code == 3
    assert "Priya Shah is not the headteacher, a senior leader" in ran.err

    entries = refused_entries(cli)
    assert [(e["actor"], e["target"], e["detail"]) for e in entries] == [
        ("sam", "school:oakfield", "policy.import (role)"),
        ("priya", "school:oakfield", "consent.import (role)"),
    ]
