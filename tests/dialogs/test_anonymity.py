"""Anonymity that holds everywhere: a reporter who chose that nobody (or only the lead) may know
it was them cannot be told from anything the people who handle or oversee reports read.

Sam first starts a report with a screenshot and gives it up, then reports with another
screenshot and, on the summary, chooses who may know it was them. Dana (the designated lead,
also the Headteacher) and Lee (her deputy) handle it; Ash, the data protection officer, reads
the audit log. Everything they can read is gathered: the audit log as stored and as `policybot
audit show|export` prints it, the evidence packs, every message not addressed to Sam, the case
in chat and from `policybot cases`, and the log. None of it may name Sam (by id, name or
platform id), while Dana can still ask Sam a question and hear the answer. Each test runs with
and without an evidence key, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlmodel import col, select

from bot.cli import main
from bot.config import Settings, load_settings
from bot.runtime import Runtime, build_runtime
from dialogs.case_actions import Outcome, perform
from dialogs.services.cases.card import CaseVerb
from dialogs.services.cases.vocabulary import VISIBILITY
from dialogs.services.messages import Message, MessageKind
from dialogs.services.school.schools import Person, School
from storage.models import AuditEntry, Case, Evidence, Notification
from tests.conftest import SAMPLE, Clock
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, file, png, text_of
from tests.support import Person as Chat

T = TypeVar("T")
REFERENCE = "CB-2026-0001"
QUESTION = "Did you keep the original post?"
ANSWER = "Yes, I took a screenshot before it was deleted."


@dataclass
class Place:
    """Where the bot keeps things for one test, shared by the runtime and the command line."""

    env: dict[str, str | None]
    settings: Settings
    tmp_path: Path

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=self.env, prog_name="policybot")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"policybot {' '.join(args)} crashed") from result.exception
        assert result.exit_code == 0, result.stderr
        return result.stdout

    def run(self, scenario: Any) -> Any:
        """Run a scenario on a runtime of its own, as the server would, then close it."""

        async def go() -> Any:
            runtime = build_runtime(self.settings, clock=Clock())
            try:
                return await scenario(runtime)
            finally:
                await runtime.close()

        return asyncio.run(go())


def sample_with_sams_email(tmp_path: Path) -> Path:
    """The sample school, with an email address for Sam, so that is looked for too."""
    text = SAMPLE.read_text()
    text = text.replace(
        'name = "Sam Patel"\n', 'name = "Sam Patel"\nemail = "s.patel@oakfield.example"\n'
    )
    text = text.replace(
        'policy_file = "policy.md"', f'policy_file = "{SAMPLE.parent / "policy.md"}"'
    )
    config = tmp_path / "policybot.toml"
    config.write_text(text)
    return config


@pytest.fixture(params=["no key", "evidence key"])
def place(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Place:
    key = Fernet.generate_key().decode() if request.param == "evidence key" else None
    env: dict[str, str | None] = {
        "POLICYBOT_CONFIG": str(sample_with_sams_email(tmp_path)),
        "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "POLICYBOT_EVIDENCE_KEY": key,
        "POLICYBOT_PREVIOUS_KEYS": None,
    }
    settings = load_settings({k: v for k, v in env.items() if v is not None})
    return Place(env=env, settings=settings, tmp_path=tmp_path)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything policybot logs, at every level, and what libraries log as a server would."""
    caplog.set_level(logging.INFO)
    for package in ("bot", "dialogs", "storage"):
        caplog.set_level(logging.DEBUG, logger=package)
    return caplog


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


def staff(runtime: Runtime, person_id: str) -> Person:
    found = oakfield(runtime).person(person_id)
    assert found is not None
    return found


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def act(runtime: Runtime, person_id: str, verb: CaseVerb, **form: Any) -> Outcome:
    async with runtime.db.session() as session:
        return await perform(
            runtime.services(session, runtime.clock()),
            school=oakfield(runtime),
            actor=staff(runtime, person_id),
            verb=verb,
            reference=REFERENCE,
            **form,
        )


def advance(runtime: Runtime, **kwargs: float) -> None:
    clock = runtime.clock
    assert isinstance(clock, Clock)
    clock.advance(**kwargs)


async def sam_reports(
    runtime: Runtime, choose: str, *, danger: bool = False, give_up_first: bool = True
) -> Chat:
    """Sam gives up a first try with a screenshot, then reports with another, choosing who may
    know it was them on the summary, after the screenshot was kept."""
    sam = Chat(runtime)
    if give_up_first:
        for answer in HAPPY_PATH:
            await sam.say(answer)
        await sam.say("", file("first try.png", png("first try")))
        await sam.say("cancel")
        await sam.say("yes")
        advance(runtime, minutes=3)
    answers = list(HAPPY_PATH)
    if danger:
        answers[2] = "yes"
    for answer in answers:
        await sam.say(answer)
    advance(runtime, seconds=40)
    await sam.say("", file("the post.png", png("the post")))
    await sam.say("done")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    advance(runtime, seconds=30)
    if choose != VISIBILITY["named"]:
        await sam.say("edit")
        await sam.say("Who may know it was you")
        await sam.say(choose)
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE, text_of(done)
    advance(runtime, minutes=5)
    return sam


def shown(*messages: Message) -> str:
    return "\n".join([text_of(list(messages)), *(m.model_dump_json() for m in messages)])


def pack_text(path: Path) -> str:
    """The readable parts of an evidence pack: its member names, manifest and chronology."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        readable = [archive.read(n).decode() for n in names if n.endswith((".json", ".html"))]
    return "\n".join([*names, *readable])


async def notifications_not_for(runtime: Runtime, *person_ids: str) -> str:
    """Every message queued for anyone else, or for a channel, as stored."""
    queued = await rows(runtime, Notification)
    return "\n".join(
        f"{n.person_id or '#' + str(n.channel_purpose)} {n.kind} {json.dumps(n.message)}"
        for n in queued
        if n.person_id not in person_ids
    )


async def audit_as_stored(runtime: Runtime) -> str:
    return "\n".join(
        f"{e.at.isoformat()} {e.actor_id} {e.action} {e.target_type}:{e.target_id} {e.detail}"
        for e in await rows(runtime, AuditEntry)
    )


def identifying(person: Person) -> re.Pattern[str]:
    """Anything that names a person: their id, name (or part of it), email and platform ids."""
    marks = [person.id, person.name, *person.name.split()]
    marks += [m for m in (person.email, person.slack_user_id, person.teams_user_id) if m]
    alternatives = "|".join(re.escape(m) for m in sorted(set(marks), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def assert_nobody_can_tell(surfaces: dict[str, str], person: Person) -> None:
    pattern = identifying(person)
    named = {
        where: sorted({m.group() for m in pattern.finditer(text)})
        for where, text in surfaces.items()
        if pattern.search(text)
    }
    assert named == {}, f"{person.name} can be told from: {named}"


def cli_surfaces(
    place: Place, *, handlers: tuple[str, ...], readers: tuple[str, ...]
) -> dict[str, str]:
    """What handlers and the audit log's readers see from the command line."""
    surfaces: dict[str, str] = {}
    for who in handlers:
        surfaces[f"cases show --as {who}"] = place.cli("cases", "show", REFERENCE, "--as", who)
        surfaces[f"cases show --json --as {who}"] = place.cli(
            "cases", "show", REFERENCE, "--json", "--as", who
        )
        surfaces[f"cases list --json --as {who}"] = place.cli(
            "cases", "list", "--json", "--as", who
        )
        out = place.tmp_path / f"pack-by-{who}.zip"
        place.cli("cases", "export", REFERENCE, "--out", str(out), "--as", who)
        surfaces[f"evidence pack exported by {who}"] = pack_text(out)
    for who in readers:
        surfaces[f"audit show --as {who}"] = place.cli(
            "audit", "show", "--as", who, "--limit", "999"
        )
        surfaces[f"audit show --json --as {who}"] = place.cli(
            "audit", "show", "--json", "--as", who, "--limit", "999"
        )
    out = place.tmp_path / "audit.jsonl"
    place.cli("audit", "export", "--as", "ash", "--out", str(out))
    surfaces["audit export --as ash"] = out.read_text()
    return surfaces


def test_nothing_the_leads_headteacher_or_dpo_read_names_an_anonymous_reporter(
    place: Place, logged: pytest.LogCaptureFixture
) -> None:
    async def scenario(runtime: Runtime) -> tuple[dict[str, str], Person]:
        sam = await sam_reports(runtime, VISIBILITY["anonymous"])
        [case] = await rows(runtime, Case)
        assert case.reporter_visibility == "anonymous"
        dana, lee = Chat(runtime, person_id="dana"), Chat(runtime, person_id="lee")
        surfaces = {
            "messages to Dana": shown(*await dana.inbox()),
            "messages to Lee": shown(*await lee.inbox()),
            "Dana's view": shown((await act(runtime, "dana", CaseVerb.VIEW)).message),
        }
        # The case still works: the lead asks, the reporter answers, the lead hears it.
        asked = await act(runtime, "dana", CaseVerb.ASK, text=QUESTION)
        surfaces["Dana asked"] = shown(asked.message)
        [question] = await sam.inbox()
        assert QUESTION in question.text
        [answer] = question.buttons
        await sam.press(answer.value)
        await sam.say(ANSWER)
        [answered] = await dana.inbox()
        assert answered.text == ANSWER
        surfaces["the answer, to Dana"] = shown(answered)
        surfaces["Lee's view"] = shown((await act(runtime, "lee", CaseVerb.VIEW)).message)
        exported = await act(runtime, "lee", CaseVerb.EXPORT, export_dir=place.tmp_path)
        assert exported.pack is not None
        surfaces["evidence pack exported by Lee in chat"] = pack_text(exported.pack)
        surfaces["messages queued for others"] = await notifications_not_for(runtime, "sam")
        surfaces["audit log as stored"] = await audit_as_stored(runtime)
        return surfaces, staff(runtime, "sam")

    surfaces, sam = place.run(scenario)
    assert sam.email == "s.patel@oakfield.example"
    surfaces |= cli_surfaces(place, handlers=("dana", "lee"), readers=("dana", "ash"))
    surfaces["the log"] = logged.text
    assert "case.answer" in surfaces["audit log as stored"]
    assert_nobody_can_tell(surfaces, sam)


def test_the_deputy_and_the_dpo_cannot_tell_who_reported_when_only_the_lead_may_know(
    place: Place,
) -> None:
    async def scenario(runtime: Runtime) -> tuple[dict[str, str], str, Person]:
        sam = await sam_reports(runtime, VISIBILITY["lead_only"])
        lee = Chat(runtime, person_id="lee")
        to_lee = await lee.inbox()
        await act(runtime, "lee", CaseVerb.ASK, text=QUESTION)
        [question] = await sam.inbox()
        await sam.press(question.buttons[0].value)
        await sam.say(ANSWER)
        [answered] = await lee.inbox()
        assert answered.text == ANSWER
        surfaces = {
            "messages to Lee": shown(*to_lee, answered),
            "Lee's view": shown((await act(runtime, "lee", CaseVerb.VIEW)).message),
            # Dana's own messages name Sam: she is the lead. Nothing else may.
            "messages queued for others": await notifications_not_for(runtime, "sam", "dana"),
            "audit log as stored": await audit_as_stored(runtime),
        }
        dana_sees = shown((await act(runtime, "dana", CaseVerb.VIEW)).message)
        return surfaces, dana_sees, staff(runtime, "sam")

    surfaces, dana_sees, sam = place.run(scenario)
    assert "Reported by: Sam Patel" in dana_sees
    surfaces |= cli_surfaces(place, handlers=("lee",), readers=("ash",))
    assert_nobody_can_tell(surfaces, sam)


def test_what_was_audited_while_drafting_does_not_link_a_persons_reports(place: Place) -> None:
    """Sam reports anonymously, then reports something else under their name: no pseudonym in
    the audit log is shared by the two, so the named one does not give the other away."""

    async def scenario(runtime: Runtime) -> tuple[dict[str, set[str]], set[str]]:
        await sam_reports(runtime, VISIBILITY["anonymous"])
        await sam_reports(runtime, VISIBILITY["named"], give_up_first=False)
        cases = {c.id: c.reporter_visibility for c in await rows(runtime, Case)}
        files = {e.id: cases[e.case_id] for e in await rows(runtime, Evidence) if e.case_id}
        actors: dict[str, set[str]] = {"anonymous": set(), "named": set()}
        given_up: set[str] = set()  # the first try's screenshot, received and deleted
        for entry in await rows(runtime, AuditEntry, col(AuditEntry.actor_id) != "dana"):
            target = f"{entry.target_type}:{entry.target_id}"
            if entry.target_type == "case" and entry.target_id in cases:
                actors[cases[entry.target_id]].add(entry.actor_id)
            elif entry.target_type == "evidence" and entry.target_id in files:
                actors[files[entry.target_id]].add(entry.actor_id)
            elif entry.target_type == "evidence":
                given_up.add(entry.actor_id)
            else:
                assert entry.actor_id != "sam", target
        return actors, given_up

    actors, given_up = place.run(scenario)
    assert "sam" in actors["named"]  # named: the case says who made it
    assert "sam" not in actors["anonymous"] | given_up
    assert not actors["anonymous"] & actors["named"]
    assert not given_up & (actors["anonymous"] | actors["named"])


def test_a_subject_access_export_gives_the_reporter_what_was_audited_under_a_pseudonym(
    place: Place,
) -> None:
    """With the key, the export about Sam finds the entries whose pseudonyms are Sam's (and
    the export about Jo none of them); without one, nobody can, and only the report is found."""

    async def scenario(runtime: Runtime) -> None:
        await sam_reports(runtime, VISIBILITY["anonymous"], give_up_first=False)

    place.run(scenario)
    exported: dict[str, Any] = {}
    for person in ("sam", "jo"):
        out = place.tmp_path / f"{person}.zip"
        place.cli("sar", "export", person, "--out", str(out), "--as", "ash")
        with zipfile.ZipFile(out) as archive:
            exported[person] = json.loads(archive.read("data.json"))
    [made] = exported["sam"]["reports_made"]
    assert (made["reference"], made["who_may_know_who_reported"]) == (REFERENCE, "anonymous")
    theirs = sorted((e["action"], e["under_pseudonym"]) for e in exported["sam"]["audit_log"])
    if place.env["POLICYBOT_EVIDENCE_KEY"] is None:
        assert theirs == []
    else:
        assert theirs == [("case.create", True), ("evidence.receive", True)]
    assert exported["jo"]["audit_log"] == []


def test_immediate_danger_still_tells_the_leads_who_is_reporting_at_once(place: Place) -> None:
    """Someone may be at risk now: the leads are told who is reporting before the report is
    finished, and the audit log says who raised the alarm; the report itself stays anonymous."""

    async def scenario(runtime: Runtime) -> tuple[Message, Message, list[AuditEntry]]:
        await sam_reports(runtime, VISIBILITY["anonymous"], danger=True, give_up_first=False)
        urgent, alert = await Chat(runtime, person_id="dana").inbox()
        return urgent, alert, await rows(runtime, AuditEntry)

    urgent, alert, entries = place.run(scenario)
    assert urgent.kind is MessageKind.URGENT
    assert "Sam Patel is reporting online abuse" in urgent.text
    assert ("Reported by", "Anonymous") in [(f.label, f.value) for f in alert.facts]
    raised = [e.actor_id for e in entries if e.action == "case.alert"]
    assert raised == ["sam"]
