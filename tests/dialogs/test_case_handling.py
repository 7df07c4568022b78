"""Handling a report once it is filed: who may see and do what, the audit trail, the status
workflow, references and the evidence pack, as the safeguarding lead and an auditor would see them.

Every test runs on SQLite and PostgreSQL (the `database_url` fixture), files its report through
the real runner as Sam would, and then calls the services the way the `cases` CLI does: one
session per command, committed when it ends and rolled back when it raises.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import zipfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from dialogs.services.cases.evidence_pack import MISMATCH_WARNING
from dialogs.services.cases.service import STATUS_FOR_REPORTER, CaseRecord, NewReport, Status
from dialogs.services.container import Services
from dialogs.services.errors import FormField, InvalidRequest, NotFound, NotPermitted
from dialogs.services.messages import Message, MessageKind
from dialogs.services.notifier import take_undelivered
from dialogs.services.school.schools import Person, School
from storage.models import AuditEntry, Case, CaseEvent, Evidence, Notification
from tests.conftest import Clock
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, file, png, text_of
from tests.support import Person as Chat

SHOT_ONE = png("abuse screenshot one")
SHOT_TWO = png("abuse screenshot two", size=(300, 180))
DESCRIPTION = HAPPY_PATH[6]
# Everything Sam types that is theirs to tell, and must never reach the audit log.
TYPED_BY_REPORTER = [
    HAPPY_PATH[3],  # Facebook
    HAPPY_PATH[4],  # the link
    HAPPY_PATH[5],  # when
    DESCRIPTION,
    "useless",
    "sacked",
    AFTER_EVIDENCE[1],  # Pat Jones
]
MISSING = "CB-2026-0999"  # a reference no report has


# -- helpers -----------------------------------------------------------------------------------


async def file_report(runtime: Runtime, shots: tuple[bytes, ...] = (SHOT_ONE, SHOT_TWO)) -> str:
    """Sam files a report through the real runner, with screenshots; returns its reference."""
    sam = Chat(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    for number, data in enumerate(shots, 1):
        await sam.say("", file(f"shot{number}.png", data))
    await sam.say("done" if shots else "skip")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE, text_of(done)
    return next(f.value for f in done[-1].facts if f.label == "Reference")


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


def staff(runtime: Runtime, person_id: str) -> Person:
    person = oakfield(runtime).person(person_id)
    assert person is not None
    return person


def direct_report(draft_key: str) -> NewReport:
    return NewReport(
        affected="colleague",
        affected_name=None,
        platform="Instagram",
        link=None,
        occurred_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        description="A fake account is posting photos of a colleague.",
        responsible="unknown",
        responsible_name=None,
        nature=["impersonation"],
        hate_characteristics=[],
        immediate_danger=False,
        draft_key=draft_key,
        origin_channel="test",
    )


async def submit_directly(runtime: Runtime, clock: Clock, reporter: str, draft_key: str) -> str:
    async with runtime.db.session() as session:
        services = runtime.services(session, clock())
        case = await services.cases.submit(
            direct_report(draft_key), school=oakfield(runtime), reporter=staff(runtime, reporter)
        )
        return case.reference


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What a handler would see of a case, plus how many messages are waiting for anyone."""

    status: str
    assigned_to: str | None
    outcome: str | None
    chronology: tuple[tuple[str, str, str, str | None, str | None], ...]
    notifications: int


async def snapshot(runtime: Runtime, reference: str) -> Snapshot:
    async with runtime.db.session() as session:
        case = (await session.execute(select(Case).where(Case.reference == reference))).scalar_one()
        events = (
            (
                await session.execute(
                    select(CaseEvent)
                    .where(CaseEvent.case_id == case.id)
                    .order_by(col(CaseEvent.id))
                )
            )
            .scalars()
            .all()
        )
        notifications = (
            await session.execute(select(func.count()).select_from(Notification))
        ).scalar_one()
    return Snapshot(
        status=case.status,
        assigned_to=case.assigned_to,
        outcome=case.outcome,
        chronology=tuple((e.kind, e.actor_id, e.text, e.from_status, e.to_status) for e in events),
        notifications=notifications,
    )


async def audit_rows(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        result = await session.execute(select(AuditEntry).order_by(col(AuditEntry.id)))
        return list(result.scalars().all())


async def case_id(runtime: Runtime, reference: str) -> str:
    async with runtime.db.session() as session:
        result = await session.execute(select(Case.id).where(Case.reference == reference))
        return result.scalar_one()


async def evidence_of(runtime: Runtime, reference: str) -> list[Evidence]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(Evidence)
            .join(Case, col(Case.id) == col(Evidence.case_id))
            .where(Case.reference == reference)
        )
        return list(result.scalars().all())


async def inbox(runtime: Runtime, clock: Clock, person_id: str) -> list[Message]:
    async with runtime.db.session() as session:
        return list(
            await take_undelivered(
                session, school_id="oakfield", person_id=person_id, via="test", now=clock()
            )
        )


def read_pack(path: Path, reference: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest, and each evidence file's bytes keyed by the name it was uploaded under."""
    with zipfile.ZipFile(path) as archive:
        manifest: dict[str, Any] = json.loads(archive.read(f"{reference}/manifest.json"))
        files = {e["original_name"]: archive.read(e["path"]) for e in manifest["evidence"]}
    return manifest, files


def blob_path(settings: Settings, record: Evidence) -> Path:
    name = record.stored_name
    return settings.evidence_dir / name[:2] / name


# -- who may do what -----------------------------------------------------------------------------

Action = Callable[[Services, School, Person, str, Path], Awaitable[Any]]


async def _get(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.get(ref, school=school, actor=actor)


async def _list_all(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.list_for(school=school, actor=actor)


async def _acknowledge(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.acknowledge(ref, school=school, actor=actor)


async def _assign(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.assign(ref, school=school, actor=actor)


async def _add_note(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.add_note(ref, school=school, actor=actor, text="Phoned Sam to check in.")


async def _change_status(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.change_status(
        ref, school=school, actor=actor, status=Status.INVESTIGATING, reason="Looking into it."
    )


async def _export(s: Services, school: School, actor: Person, ref: str, out: Path) -> Any:
    return await s.cases.export(ref, school=school, actor=actor, out=out)


ACTIONS: dict[str, Action] = {
    "get": _get,
    "list_all": _list_all,
    "acknowledge": _acknowledge,
    "assign": _assign,
    "add_note": _add_note,
    "change_status": _change_status,
    "export": _export,
}
HANDLERS = ("dana", "lee")
REPORTER = "sam"
OTHERS = ("jo", "priya", "morgan")


async def _run(
    runtime: Runtime, clock: Clock, actor_id: str, action: str, ref: str, out: Path
) -> Any:
    async with runtime.db.session() as session:
        services = runtime.services(session, clock())
        return await ACTIONS[action](
            services, oakfield(runtime), staff(runtime, actor_id), ref, out
        )


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("actor_id", [REPORTER, *OTHERS, *HANDLERS])
async def test_only_the_lead_and_deputy_handle_a_case_and_others_cannot_tell_it_exists(
    runtime: Runtime, clock: Clock, tmp_path: Path, actor_id: str, action: str
) -> None:
    reference = await file_report(runtime)
    # Priya has a report of her own, so "only your own" can be told apart from "nothing".
    priyas = await submit_directly(runtime, clock, "priya", "priya-draft")
    packs = tmp_path / "packs"
    packs.mkdir()
    out = packs / "pack.zip"
    before = await snapshot(runtime, reference)

    if action == "list_all":
        found = await _run(runtime, clock, actor_id, action, reference, out)
        own = {REPORTER: {reference}, "priya": {priyas}}
        expected = {reference, priyas} if actor_id in HANDLERS else own.get(actor_id, set())
        assert {c.reference for c in found} == expected
        assert len(found) == len(expected)
        assert await snapshot(runtime, reference) == before
        return

    if actor_id in HANDLERS:
        result = await _run(runtime, clock, actor_id, action, reference, out)
        after = await snapshot(runtime, reference)
        if action == "get":
            assert isinstance(result, CaseRecord)
            assert result.case.description == DESCRIPTION
            assert [e.kind for e in result.events] == ["submitted"]
        elif action == "acknowledge":
            assert after.status == "acknowledged"
        elif action == "assign":
            assert after.assigned_to == actor_id
        elif action == "add_note":
            assert after.chronology[-1][:3] == ("note", actor_id, "Phoned Sam to check in.")
        elif action == "change_status":
            assert after.status == "investigating"
        else:
            with zipfile.ZipFile(out) as archive:
                assert archive.testzip() is None
            assert after.chronology[-1][:2] == ("exported", actor_id)
        return

    if actor_id == REPORTER and action == "get":
        record = await _run(runtime, clock, actor_id, action, reference, out)
        assert isinstance(record, CaseRecord)
        assert record.case.reference == reference
        assert record.case.status == "new"
        assert record.events == []
        assert await snapshot(runtime, reference) == before
        return

    expected_error: type[Exception] = NotPermitted if actor_id == REPORTER else NotFound
    with pytest.raises(expected_error) as refused:
        await _run(runtime, clock, actor_id, action, reference, out)
    message = str(refused.value)
    assert DESCRIPTION not in message
    assert "Pat Jones" not in message
    if expected_error is NotFound:
        # Asking about a real report someone may not see reads exactly like a made-up reference.
        with pytest.raises(NotFound) as missing:
            await _run(runtime, clock, actor_id, action, MISSING, out)
        assert message.replace(reference, "<ref>") == str(missing.value).replace(MISSING, "<ref>")
    else:
        assert "Nothing has been changed" in message
    assert await snapshot(runtime, reference) == before
    assert list(packs.iterdir()) == []


async def test_a_lower_case_reference_cannot_be_used_to_probe_for_reports(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    reference = await file_report(runtime)
    with pytest.raises(NotFound) as hidden:
        await _run(runtime, clock, "jo", "get", reference.lower(), tmp_path / "x.zip")
    with pytest.raises(NotFound) as missing:
        await _run(runtime, clock, "jo", "get", MISSING.lower(), tmp_path / "x.zip")

    def masked(message: str, ref: str) -> str:
        return message.replace(ref.lower(), "<ref>").replace(ref.upper(), "<ref>")

    assert masked(str(hidden.value), reference) == masked(str(missing.value), MISSING)
    # The reference is echoed the same way (here: upper case) whether or not the report exists.
    assert (reference.upper() in str(hidden.value)) == (MISSING.upper() in str(missing.value))


# -- the audit trail -----------------------------------------------------------------------------


async def test_every_handler_action_is_audited_once_without_what_anyone_wrote(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    reference = await file_report(runtime)
    target = await case_id(runtime, reference)
    school = oakfield(runtime)
    note = "Spoke to Sam; the parent is known to the school."
    reason = "The post breaks the home-school agreement."
    outcome = "Post removed after the head spoke to the parent."

    async def get(s: Services, actor: Person) -> object:
        return await s.cases.get(reference, school=school, actor=actor)

    async def list_all(s: Services, actor: Person) -> object:
        return await s.cases.list_for(school=school, actor=actor)

    async def acknowledge(s: Services, actor: Person) -> object:
        return await s.cases.acknowledge(reference, school=school, actor=actor)

    async def assign(s: Services, actor: Person) -> object:
        return await s.cases.assign(reference, school=school, actor=actor, to_person="dana")

    async def add_note(s: Services, actor: Person) -> object:
        return await s.cases.add_note(reference, school=school, actor=actor, text=note)

    async def close(s: Services, actor: Person) -> object:
        return await s.cases.change_status(
            reference,
            school=school,
            actor=actor,
            status=Status.CLOSED,
            reason=reason,
            outcome=outcome,
        )

    async def export(s: Services, actor: Person) -> object:
        return await s.cases.export(reference, school=school, actor=actor, out=tmp_path / "p.zip")

    steps: list[tuple[str, Callable[[Services, Person], Awaitable[object]], str, str, str]] = [
        ("dana", get, "case.view", "case", target),
        ("lee", list_all, "case.list", "school", "oakfield"),
        ("dana", acknowledge, "case.acknowledge", "case", target),
        ("lee", assign, "case.assign", "case", target),
        ("dana", add_note, "case.note", "case", target),
        ("lee", close, "case.status", "case", target),
        ("dana", export, "case.export", "case", target),
    ]
    for actor_id, step, action, target_type, target_id in steps:
        seen = {e.id for e in await audit_rows(runtime)}
        async with runtime.db.session() as session:
            await step(runtime.services(session, clock()), staff(runtime, actor_id))
        added = [e for e in await audit_rows(runtime) if e.id not in seen]
        assert [(e.actor_id, e.action, e.target_type, e.target_id) for e in added] == [
            (actor_id, action, target_type, target_id)
        ], action

    # Sam looking at where their own report has got to is not a handler's view of it.
    seen = {e.id for e in await audit_rows(runtime)}
    async with runtime.db.session() as session:
        services = runtime.services(session, clock())
        record = await services.cases.get(reference, school=school, actor=staff(runtime, "sam"))
        mine = await services.cases.list_for(school=school, actor=staff(runtime, "sam"))
    assert record.events == []
    assert [c.reference for c in mine] == [reference]
    assert [e.action for e in await audit_rows(runtime) if e.id not in seen] == []

    entries = await audit_rows(runtime)
    assert {"case.create", "evidence.receive"} <= {e.action for e in entries}
    for entry in entries:
        for words in [*TYPED_BY_REPORTER, note, reason, outcome, "shot1.png"]:
            assert words.lower() not in entry.detail.lower(), (entry.action, entry.detail)


@pytest.mark.parametrize("change", ["update", "delete"])
async def test_the_audit_log_cannot_be_changed_or_deleted(runtime: Runtime, change: str) -> None:
    await file_report(runtime)
    before = await audit_rows(runtime)
    victim = next(e for e in before if e.action == "case.create")
    statement = (
        update(AuditEntry).where(col(AuditEntry.id) == victim.id).values(detail="nothing here")
        if change == "update"
        else delete(AuditEntry).where(col(AuditEntry.id) == victim.id)
    )

    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.db.session() as session:
            await session.execute(statement)

    after = await audit_rows(runtime)
    assert [e.model_dump() for e in after] == [e.model_dump() for e in before]


# -- the status workflow -------------------------------------------------------------------------


async def _status(
    runtime: Runtime,
    clock: Clock,
    reference: str,
    status: Status,
    reason: str = "Decided at the safeguarding meeting.",
    outcome: str | None = None,
    actor_id: str = "dana",
) -> Case:
    async with runtime.db.session() as session:
        return await runtime.services(session, clock()).cases.change_status(
            reference,
            school=oakfield(runtime),
            actor=staff(runtime, actor_id),
            status=status,
            reason=reason,
            outcome=outcome,
        )


async def test_a_report_is_acknowledged_once(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    reference = await file_report(runtime)
    await _run(runtime, clock, "dana", "acknowledge", reference, tmp_path / "x.zip")
    before = await snapshot(runtime, reference)

    with pytest.raises(InvalidRequest, match="already acknowledged"):
        await _run(runtime, clock, "lee", "acknowledge", reference, tmp_path / "x.zip")

    assert await snapshot(runtime, reference) == before
    assert before.status == "acknowledged"
    assert [c[0] for c in before.chronology] == ["submitted", "status"]


@pytest.mark.parametrize(
    ("path", "refused", "allowed"),
    [
        ([], Status.NEW, "acknowledged, closed, investigating, referred"),
        ([Status.INVESTIGATING], Status.ACKNOWLEDGED, "closed, referred"),
        ([Status.REFERRED], Status.REFERRED, "closed, investigating"),
        ([Status.CLOSED], Status.REFERRED, "investigating"),
    ],
)
async def test_a_transition_that_is_not_allowed_says_which_are(
    runtime: Runtime, clock: Clock, path: list[Status], refused: Status, allowed: str
) -> None:
    reference = await file_report(runtime)
    for status in path:
        await _status(runtime, clock, reference, status, outcome="Resolved informally.")
    before = await snapshot(runtime, reference)

    with pytest.raises(InvalidRequest) as error:
        await _status(runtime, clock, reference, refused, outcome="Resolved informally.")

    assert str(error.value).endswith(f"from there it can move to: {allowed}.")
    assert error.value.field is None  # about the case's state, not anything typed
    assert await snapshot(runtime, reference) == before


@pytest.mark.parametrize(
    ("reason", "outcome", "complaint", "field"),
    [
        ("Parent apologised.", None, "needs its outcome", FormField.OUTCOME),
        ("Parent apologised.", "   ", "needs its outcome", FormField.OUTCOME),
        ("", "Post removed.", "reason", FormField.REASON),
        ("  \n ", "Post removed.", "reason", FormField.REASON),
    ],
)
async def test_closing_needs_an_outcome_and_a_reason(
    runtime: Runtime,
    clock: Clock,
    reason: str,
    outcome: str | None,
    complaint: str,
    field: FormField,
) -> None:
    """Each complaint names the form field it is about, so a channel shows it beside that
    field."""
    reference = await file_report(runtime)
    before = await snapshot(runtime, reference)

    with pytest.raises(InvalidRequest, match=complaint) as error:
        await _status(runtime, clock, reference, Status.CLOSED, reason=reason, outcome=outcome)

    assert error.value.field is field

    assert await snapshot(runtime, reference) == before
    assert before.status == "new"
    assert before.outcome is None


async def test_each_status_change_tells_the_reporter_and_reopening_clears_the_outcome(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    reference = await file_report(runtime)
    assert await inbox(runtime, clock, "sam") == []

    await _run(runtime, clock, "dana", "acknowledge", reference, tmp_path / "x.zip")
    await _status(runtime, clock, reference, Status.INVESTIGATING, reason="Looking into it.")
    clock.advance(days=2)
    closed = await _status(
        runtime, clock, reference, Status.CLOSED, reason="Dealt with.", outcome="Post removed."
    )
    assert closed.outcome == "Post removed."
    assert (await snapshot(runtime, reference)).outcome == "Post removed."
    clock.advance(days=1)
    await _status(runtime, clock, reference, Status.INVESTIGATING, reason="It was reposted.")

    after = await snapshot(runtime, reference)
    assert after.status == "investigating"
    assert after.outcome is None
    moves = [(c[1], c[3], c[4]) for c in after.chronology if c[0] == "status"]
    assert moves == [
        ("dana", "new", "acknowledged"),
        ("dana", "acknowledged", "investigating"),
        ("dana", "investigating", "closed"),
        ("dana", "closed", "investigating"),
    ]
    closing = next(c for c in after.chronology if c[4] == "closed")
    assert closing[2] == "Dealt with.\nOutcome: Post removed."

    told = await inbox(runtime, clock, "sam")
    statuses = [Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.CLOSED, Status.INVESTIGATING]
    assert [m.text for m in told] == [
        f"Your report {reference} is now: {STATUS_FOR_REPORTER[s]}." for s in statuses
    ]
    for message in told:
        assert reference in (message.title or "")
        shown = text_of([message])
        assert DESCRIPTION not in shown
        assert "useless" not in shown
        assert "Post removed" not in shown
        assert "reposted" not in shown
    assert await inbox(runtime, clock, "sam") == []


async def test_only_a_lead_or_deputy_can_be_assigned_and_the_assignee_is_told(
    runtime: Runtime, clock: Clock
) -> None:
    reference = await file_report(runtime)
    before = await snapshot(runtime, reference)
    await inbox(runtime, clock, "lee")  # the new-report alert

    for nobody in ("jo", "not-a-person"):
        with pytest.raises(InvalidRequest, match="can only be assigned"):
            async with runtime.db.session() as session:
                await runtime.services(session, clock()).cases.assign(
                    reference,
                    school=oakfield(runtime),
                    actor=staff(runtime, "dana"),
                    to_person=nobody,
                )
    assert await snapshot(runtime, reference) == before
    assert await inbox(runtime, clock, "jo") == []

    async with runtime.db.session() as session:
        await runtime.services(session, clock()).cases.assign(
            reference, school=oakfield(runtime), actor=staff(runtime, "dana"), to_person="lee"
        )

    after = await snapshot(runtime, reference)
    assert after.assigned_to == "lee"
    assert after.chronology[-1][:3] == ("assigned", "dana", "Assigned to Lee Brown (was nobody).")
    told = await inbox(runtime, clock, "lee")
    assert [m.title for m in told] == [f"{reference} has been assigned to you"]
    assert "Dana Okafor" in text_of(told)
    assert DESCRIPTION not in text_of(told)


# -- references ----------------------------------------------------------------------------------


async def test_references_count_up_within_a_year_and_restart_in_the_next(
    runtime: Runtime, clock: Clock
) -> None:
    assert await file_report(runtime) == "CB-2026-0001"
    assert await file_report(runtime) == "CB-2026-0002"
    clock.now = datetime(2027, 1, 1, 0, 0, tzinfo=ZoneInfo("Europe/London"))
    assert await file_report(runtime) == "CB-2027-0001"


async def test_reports_submitted_at_the_same_moment_get_different_references(
    runtime: Runtime, clock: Clock
) -> None:
    references = await asyncio.gather(
        *(submit_directly(runtime, clock, "sam", f"draft-{n}") for n in range(20))
    )
    assert len(set(references)) == 20
    assert sorted(references) == [f"CB-2026-{n:04d}" for n in range(1, 21)]


# -- the evidence pack ---------------------------------------------------------------------------


async def test_the_evidence_pack_holds_the_exact_uploads_and_is_recorded(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    reference = await file_report(runtime)
    target = await case_id(runtime, reference)
    clock.advance(hours=3)
    seen = {e.id for e in await audit_rows(runtime)}

    written = await _run(runtime, clock, "dana", "export", reference, tmp_path / "pack.zip")

    assert written.all_evidence_verified is True
    assert written.sha256 == hashlib.sha256((tmp_path / "pack.zip").read_bytes()).hexdigest()
    manifest, files = read_pack(tmp_path / "pack.zip", reference)
    assert files == {"shot1.png": SHOT_ONE, "shot2.png": SHOT_TWO}
    assert {e["original_name"]: e["sha256_recorded"] for e in manifest["evidence"]} == {
        "shot1.png": hashlib.sha256(SHOT_ONE).hexdigest(),
        "shot2.png": hashlib.sha256(SHOT_TWO).hexdigest(),
    }
    assert all(e["verified"] for e in manifest["evidence"])
    assert manifest["all_evidence_verified"] is True
    assert manifest["exported_by"] == "Dana Okafor"

    after = await snapshot(runtime, reference)
    assert after.chronology[-1][:3] == ("exported", "dana", "Evidence pack exported to pack.zip.")
    added = [e for e in await audit_rows(runtime) if e.id not in seen]
    assert [(e.actor_id, e.action, e.target_id) for e in added] == [("dana", "case.export", target)]
    assert written.sha256 in added[0].detail


async def test_a_stored_file_changed_on_disk_is_flagged_in_the_next_pack(
    runtime: Runtime, clock: Clock, tmp_path: Path
) -> None:
    reference = await file_report(runtime)
    first = await _run(runtime, clock, "dana", "export", reference, tmp_path / "first.zip")
    assert first.all_evidence_verified is True
    records = {r.original_name: r for r in await evidence_of(runtime, reference)}
    forged = png("something else entirely")
    blob_path(runtime.settings, records["shot2.png"]).write_bytes(forged)

    second = await _run(runtime, clock, "lee", "export", reference, tmp_path / "second.zip")

    assert second.all_evidence_verified is False
    manifest, files = read_pack(tmp_path / "second.zip", reference)
    assert manifest["all_evidence_verified"] is False
    verdict = {e["original_name"]: e for e in manifest["evidence"]}
    assert verdict["shot1.png"]["verified"] is True
    assert verdict["shot2.png"]["verified"] is False
    assert verdict["shot2.png"]["sha256_recorded"] == hashlib.sha256(SHOT_TWO).hexdigest()
    assert verdict["shot2.png"]["sha256_now"] == hashlib.sha256(forged).hexdigest()
    with zipfile.ZipFile(tmp_path / "second.zip") as archive:
        assert MISMATCH_WARNING in archive.read(f"{reference}/chronology.html").decode()
    assert files["shot1.png"] == SHOT_ONE
    # The first pack is a record in its own right and is never rewritten.
    _, kept = read_pack(tmp_path / "first.zip", reference)
    assert kept == {"shot1.png": SHOT_ONE, "shot2.png": SHOT_TWO}
    audit = [e for e in await audit_rows(runtime) if e.action == "case.export"]
    assert [(e.actor_id, e.detail.endswith("intact: False")) for e in audit] == [
        ("dana", False),
        ("lee", True),
    ]


async def test_evidence_is_encrypted_at_rest_and_comes_back_exactly(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    keyed = dataclasses.replace(settings, evidence_key=Fernet.generate_key())
    runtime = build_runtime(keyed, clock=clock)
    try:
        reference = await file_report(runtime, shots=(SHOT_ONE,))
        (record,) = await evidence_of(runtime, reference)
        stored = blob_path(keyed, record).read_bytes()
        assert record.encrypted is True
        assert SHOT_ONE not in stored
        assert b"\x89PNG" not in stored
        assert b"IHDR" not in stored
        assert len(stored) > len(SHOT_ONE)

        written = await _run(runtime, clock, "dana", "export", reference, tmp_path / "pack.zip")
    finally:
        await runtime.close()

    assert written.all_evidence_verified is True
    manifest, files = read_pack(tmp_path / "pack.zip", reference)
    assert files == {"shot1.png": SHOT_ONE}
    (entry,) = manifest["evidence"]
    assert entry["sha256_now"] == entry["sha256_recorded"] == hashlib.sha256(SHOT_ONE).hexdigest()
