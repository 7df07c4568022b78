"""The `policybot` command end to end: real processes, real databases, as staff would use it.

The chats marked REAL_PROCESSES run the installed console script in subprocesses; the other
tests run the same command in this process (click's runner, a new runtime per command, the same
environment), which saves a second of start-up per command. Each has its own data directory and the
`database_url` fixture (so everything runs on SQLite and on PostgreSQL), answers piped in the way
a scripted conversation would be, and checks only what a person sees: what is printed, the exit
code, and the JSON the commands emit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command

from bot.config import Settings
from bot.runtime import build_runtime
from dialogs.services.cases.service import CaseRecord
from dialogs.services.messages import MessageKind
from storage import migrate
from storage.models import Case, CaseEvent
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, png, text_of, write_png

POLICYBOT = Path(sys.executable).parent / "policybot"
TIMEOUT = 60  # seconds; a hung process fails its test instead of the whole run
# click's runner and the working directory belong to the whole process: one command at a time.
_ONE_COMMAND_AT_A_TIME = threading.Lock()
# The processes run on the real clock: the first report of the year in the school's timezone.
REFERENCE = f"CB-{datetime.now(ZoneInfo('Europe/London')).year}-0001"
SHOT_ONE = png("abuse screenshot one")
SHOT_TWO = png("abuse screenshot two")
# Everything after the screenshots, up to and including sending the report.
TO_THE_END = [*AFTER_EVIDENCE, "submit"]


@dataclass(frozen=True)
class Ran:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, f"policybot {' '.join(self.args)} exited {self.code}: {self.err}"
        return json.loads(self.out)


@dataclass(frozen=True)
class Cli:
    """The `policybot` command as one installation (data directory and database) runs it."""

    env: dict[str, str]
    cwd: Path
    # In this process (click's runner) rather than a new one: the same command, arguments,
    # environment and output, without a second of interpreter start-up per command. Tests about
    # what survives the process (a chat stopped half way, a kill) keep real processes.
    in_process: bool = False

    def run(self, *args: str, stdin: str = "") -> Ran:
        if self.in_process:
            return self._run_in_process(args, stdin)
        done = subprocess.run(
            [str(POLICYBOT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env,
            cwd=self.cwd,
            timeout=TIMEOUT,
            check=False,
        )
        ran = Ran(args, done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in ran.err, f"policybot {' '.join(args)} crashed:\n{ran.err}"
        return ran

    def _run_in_process(self, args: tuple[str, ...], stdin: str) -> Ran:
        """As the process would run: the same environment (nothing else of this one's settings
        leaks in), working directory, piped input, output and exit code; a crash fails the test
        as a traceback would. Every command builds its own runtime, as in a new process."""
        from click.testing import CliRunner

        from bot.cli import main

        env: dict[str, str | None] = {
            key: None
            for key in os.environ
            if (key.startswith("POLICYBOT_") or key == "DATABASE_URL") and key not in self.env
        }
        env.update(self.env)
        with _ONE_COMMAND_AT_A_TIME, contextlib.chdir(self.cwd):
            result = CliRunner().invoke(
                main, list(args), input=stdin, env=env, prog_name="policybot"
            )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"policybot {' '.join(args)} crashed") from result.exception
        return Ran(args, result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, stdin: str = "") -> Ran:
        ran = self.run(*args, stdin=stdin)
        assert ran.code == 0, f"policybot {' '.join(args)} exited {ran.code}: {ran.err}"
        return ran

    def run_all(self, *commands: Sequence[str]) -> list[Ran]:
        """Run independent commands side by side (they only read, or are refused)."""
        if self.in_process:  # click's runner swaps this process's stdin and stdout
            return [self.run(*args) for args in commands]
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            return list(pool.map(lambda args: self.run(*args), commands))

    def chat(self, person_id: str, answers: Sequence[str]) -> Ran:
        return self.ok("chat", "--as", person_id, stdin="".join(f"{a}\n" for a in answers))

    def case_as_lead(self, reference: str = REFERENCE) -> dict[str, Any]:
        shown: dict[str, Any] = self.run(
            "cases", "show", reference, "--as", "dana", "--json"
        ).json()
        return shown


def make_cli(tmp_path: Path, database_url: str, *, in_process: bool = False) -> Cli:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POLICYBOT_") and k != "DATABASE_URL"
    }
    env.update(
        POLICYBOT_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=database_url,
        PYTHONIOENCODING="utf-8",
    )
    work = tmp_path / "cwd"
    work.mkdir()
    return Cli(env=env, cwd=work, in_process=in_process)


@pytest.fixture
def cli(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Cli:
    """The commands in this process, or in real ones for the tests marked REAL_PROCESSES."""
    return make_cli(
        tmp_path, database_url, in_process=getattr(request, "param", None) != REAL_PROCESS_PARAM
    )


REAL_PROCESS_PARAM = "processes"
# What a person sees across processes: each command of the test a new `policybot` process.
REAL_PROCESSES = pytest.mark.parametrize("cli", [REAL_PROCESS_PARAM], indirect=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_reports(settings: Settings, *reports: tuple[str, Sequence[bytes]]) -> None:
    """File reports in-process through the real runner (quicker than a chat process each)."""

    async def go() -> None:
        runtime = build_runtime(settings)
        try:
            for person_id, shots in reports:
                chat = Person(runtime, person_id=person_id)
                for answer in HAPPY_PATH:
                    await chat.say(answer)
                for number, data in enumerate(shots, 1):
                    await chat.say("", file(f"shot{number}.png", data))
                await chat.say("done" if shots else "skip")
                for answer in AFTER_EVIDENCE:
                    await chat.say(answer)
                done = await chat.say("submit")
                assert done[-1].kind is MessageKind.DONE, text_of(done)
        finally:
            await runtime.close()

    asyncio.run(go())


def case_as_lead_in_process(
    settings: Settings, reference: str = REFERENCE
) -> tuple[Case, list[CaseEvent]]:
    async def go() -> CaseRecord:
        runtime = build_runtime(settings)
        try:
            school = settings.directory.school("oakfield")
            assert school is not None
            lead = school.person("dana")
            assert lead is not None
            async with runtime.db.session() as session:
                services = runtime.services(session, runtime.clock())
                return await services.cases.get(reference, school=school, actor=lead)
        finally:
            await runtime.close()

    record = asyncio.run(go())
    return record.case, record.events


# -- the acceptance scenario -------------------------------------------------------------------


@REAL_PROCESSES
def test_a_scripted_chat_files_a_report_with_two_screenshots_kept_exactly(
    cli: Cli, tmp_path: Path
) -> None:
    first = write_png(tmp_path / "first shot.png", "the post")  # a space: typed in quotes
    second = write_png(tmp_path / "second.png", "the comments")
    # Along the way Sam also gives a path that does not exist, and a text file named like a PNG:
    # each is explained, and the conversation carries on (one process, to keep the suite quick).
    missing = tmp_path / "nowhere" / "gone.png"
    fake = tmp_path / "shot.png"
    fake.write_text("Notes about the post, not a picture of it.")

    chat = cli.chat(
        "sam",
        [*HAPPY_PATH, f'"{first}"', str(missing), str(fake), f"{second} done", *TO_THE_END],
    )

    assert "Got it: “first shot.png”" in chat.out
    after_missing = chat.out.split(f"> {missing}\n", 1)[1]
    assert after_missing.startswith(
        f"(!) I can't find a file at {missing}. Check the path and try again.\n"
    )
    after_fake = chat.out.split(f"> {fake}\n", 1)[1]
    assert after_fake.startswith("(!) The file “shot.png”")
    assert "can't keep it as evidence" in after_fake.split("\n", 1)[0]
    # ...and is still waiting for screenshots, with the first one kept.
    assert "1 file so far. Send more, or type done." in after_fake.split("\n> ", 1)[0]
    assert "Got it: “second.png”" in chat.out
    assert "Screenshots: first shot.png (1 KB); second.png (1 KB)\n" in chat.out
    assert f"── Report sent: {REFERENCE} ──" in chat.out
    assert f"Reference: {REFERENCE}" in chat.out
    assert chat.out.endswith("Goodbye. Anything unfinished is saved: run the chat again.\n")
    assert chat.err == ""

    case = cli.case_as_lead()
    assert case["reference"] == REFERENCE
    assert case["status"] == "new"
    assert case["reporter"] == {"id": "sam", "name": "Sam Patel"}
    assert case["description"] == HAPPY_PATH[6]
    assert case["nature"] == ["threatening", "sexist"]
    assert case["police_consideration"] is True
    on_disk = {first.name: sha256(first.read_bytes()), second.name: sha256(second.read_bytes())}
    assert {e["original_name"]: e["sha256"] for e in case["evidence"]} == on_disk  # no fake
    assert {(e["media_type"], e["uploaded_by"]) for e in case["evidence"]} == {("image/png", "sam")}
    assert [e["kind"] for e in case["chronology"]] == ["submitted"]


@REAL_PROCESSES
def test_a_chat_stopped_half_way_carries_on_in_the_next_process(cli: Cli) -> None:
    first = cli.chat("sam", HAPPY_PATH[:4])  # menu, who, danger, platform; then end of input

    assert first.out.rstrip().endswith("Goodbye. Anything unfinished is saved: run the chat again.")
    assert "Is there a link to the post" in first.out
    assert "Report sent" not in first.out

    second = cli.chat("sam", [*HAPPY_PATH[4:], "skip", *TO_THE_END])

    assert second.out.startswith("Welcome back.")
    assert "Hello Sam" not in second.out
    resumed_at = second.out.index("Is there a link to the post")
    assert resumed_at < second.out.index(f"> {HAPPY_PATH[4]}")
    # The answers given to the first process are in the summary the second one shows.
    for line in ("Who is affected: Me", "Immediate danger: No", "Where it happened: Facebook"):
        assert line in second.out
    assert "Screenshots: Not given" in second.out
    assert f"── Report sent: {REFERENCE} ──" in second.out


# -- handling a report from the command line --------------------------------------------------


def test_only_the_leads_handle_a_report_and_the_reporter_sees_its_status(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    file_reports(settings, ("sam", [SHOT_ONE, SHOT_TWO]), ("jo", []))  # CB-2026-0001, -0002
    jo_pack = tmp_path / "jo-pack.zip"
    as_jo = ("--as", "jo")

    by_jo = cli.run_all(
        ("cases", "show", REFERENCE, *as_jo, "--json"),
        ("cases", "ack", REFERENCE, *as_jo),
        ("cases", "assign", REFERENCE, *as_jo, "--to", "jo"),
        ("cases", "note", REFERENCE, "Looked at this myself.", *as_jo),
        ("cases", "status", REFERENCE, "investigating", "--reason", "I'll handle it", *as_jo),
        ("cases", "export", REFERENCE, *as_jo, "--out", str(jo_pack)),
    )
    for ran in by_jo:
        assert (ran.code, ran.out) == (3, ""), ran
        assert ran.err == f"I can't find a report {REFERENCE} that you can see.\n", ran
    assert not jo_pack.exists()

    lead_view, sam_show, sam_list = cli.run_all(
        ("cases", "show", REFERENCE, "--as", "dana", "--json"),
        ("cases", "show", REFERENCE, "--as", "sam", "--json"),
        ("cases", "list", "--as", "sam", "--json"),
    )
    untouched = lead_view.json()
    assert untouched["status"] == "new"
    assert untouched["assigned_to"] is None
    assert [(e["kind"], e["actor"]) for e in untouched["chronology"]] == [("submitted", "sam")]
    status_only = sam_show.json()
    assert status_only["reference"] == REFERENCE
    assert status_only["status"] == "new"
    assert status_only["status_for_reporter"] == "Received; on its way to the safeguarding lead"
    assert "description" not in status_only
    assert "evidence" not in status_only
    assert "chronology" not in status_only
    assert [row["reference"] for row in sam_list.json()] == [REFERENCE]  # not Jo's -0002

    lead = ("--as", "dana")
    note = "Spoke to Sam; the head will call the parent."
    pack = tmp_path / "pack.zip"
    assert cli.ok("cases", "ack", REFERENCE, *lead).out == f"{REFERENCE} acknowledged.\n"
    assigned = cli.ok("cases", "assign", REFERENCE, *lead, "--to", "lee")
    assert assigned.out == f"{REFERENCE} assigned to Lee Brown.\n"
    assert cli.ok("cases", "note", REFERENCE, note, *lead).out == f"Note added to {REFERENCE}.\n"
    investigating = cli.ok(
        "cases", "status", REFERENCE, "investigating", *lead, "--reason", "Parent identified"
    )
    assert investigating.out == f"{REFERENCE} is now investigating.\n"
    closed = cli.ok(
        "cases",
        "status",
        REFERENCE,
        "closed",
        *lead,
        "--reason",
        "Post removed",
        "--outcome",
        "Parent apologised and removed the post.",
    )
    assert closed.out == f"{REFERENCE} is now closed.\n"
    exported = cli.ok("cases", "export", REFERENCE, *lead, "--out", str(pack))
    assert f"Evidence pack written to {pack}" in exported.out
    assert "Every evidence file matches the hash recorded when it was received." in exported.out

    with zipfile.ZipFile(pack) as archive:
        manifest = json.loads(archive.read(f"{REFERENCE}/manifest.json"))
    assert manifest["reference"] == REFERENCE
    assert manifest["all_evidence_verified"] is True
    assert sorted(e["sha256_recorded"] for e in manifest["evidence"]) == sorted(
        sha256(d) for d in (SHOT_ONE, SHOT_TWO)
    )
    assert all(e["verified"] for e in manifest["evidence"])

    handled = cli.case_as_lead()
    assert handled["status"] == "closed"
    assert handled["outcome"] == "Parent apologised and removed the post."
    assert handled["assigned_to"] == {"id": "lee", "name": "Lee Brown"}
    assert [
        (e["kind"], e["actor"], e["from_status"], e["to_status"]) for e in handled["chronology"]
    ] == [
        ("submitted", "sam", None, None),
        ("status", "dana", "new", "acknowledged"),
        ("assigned", "dana", None, None),
        ("note", "dana", None, None),
        ("status", "dana", "acknowledged", "investigating"),
        ("status", "dana", "investigating", "closed"),
        ("exported", "dana", None, None),
    ]
    texts = [e["text"] for e in handled["chronology"]]
    assert texts[3] == note
    assert "Lee Brown" in texts[2]
    assert texts[5] == "Post removed\nOutcome: Parent apologised and removed the post."


def test_closing_without_an_outcome_is_refused_and_changes_nothing(
    cli: Cli, settings: Settings
) -> None:
    file_reports(settings, ("sam", []))

    refused = cli.run("cases", "status", REFERENCE, "closed", "--as", "dana", "--reason", "Done")

    assert (refused.code, refused.out) == (1, "")
    assert refused.err == "Closing a report needs its outcome.\n"
    # Read back in-process, as `cases show --as dana` would, to spare a process.
    case, events = case_as_lead_in_process(settings)
    assert (case.status, case.outcome) == ("new", None)
    assert [e.kind for e in events] == ["submitted"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # not about the database
def test_exporting_into_a_missing_folder_says_so(
    cli: Cli, settings: Settings, tmp_path: Path
) -> None:
    file_reports(settings, ("sam", [SHOT_ONE]))
    out = tmp_path / "no such folder" / "pack.zip"

    ran = cli.run("cases", "export", REFERENCE, "--as", "dana", "--out", str(out))

    assert ran.code in (1, 2)
    assert str(out.parent) in ran.err
    assert not out.exists()


# -- the database schema -----------------------------------------------------------------------


def test_db_upgrade_brings_an_empty_database_up_to_date(cli: Cli, database_url: str) -> None:
    # The fixture's database is already migrated; take it back to empty so upgrade has work to do.
    with migrate._ONE_MIGRATION:
        command.downgrade(migrate._config(database_url), "base")
    assert migrate.current_revision(database_url) is None
    head = migrate.head_revision()
    assert head is not None

    assert cli.ok("db", "upgrade").out == f"Database is at revision {head}.\n"
    assert cli.ok("db", "current").out == f"{head} (up to date)\n"


def test_db_commands_explain_an_unreachable_database(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, "postgresql://policybot:hunter2@127.0.0.1:1/policybot")

    for ran in cli.run_all(("db", "current"), ("db", "upgrade")):
        assert ran.code == 2
        assert "DATABASE_URL" in ran.err
        assert "hunter2" not in ran.err


def test_starting_a_command_does_not_load_the_policy_search_engine() -> None:
    """The search (its word tables and stemmer) is loaded when the first question needs it,
    not by every command; bm25s and numpy, which it no longer uses, never."""
    heavy = {"bm25s", "numpy", "dialogs.services.policy.search"}
    code = f"import sys, bot.cli; print(sorted({heavy!r} & set(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
