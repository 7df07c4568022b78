"""Retention as a school's data protection officer would check it: what is past its period goes
(files included), what is on legal hold or still open stays, and each run is recorded.

Sam reports with a screenshot through the real runner; Dana closes it. The clock then moves
past the school's periods (six years for reports and their evidence by default).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import col, select

from bot.jobs.retention import run_retention
from bot.runtime import Runtime
from dialogs.services.cases.service import Status
from dialogs.services.comments.card import CommentStatus
from dialogs.services.privacy.audit_chain import AuditChain
from dialogs.services.privacy.retention import REMOVED
from dialogs.services.school.schools import Person, Retention, School
from storage.models import AuditEntry, Case, CaseEvent, Comment, Evidence, ProcessedEvent
from tests.conftest import Clock
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, file, png
from tests.support import Person as Chat

T = TypeVar("T")
SEVEN_YEARS = timedelta(days=7 * 365)


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


def dana(runtime: Runtime) -> Person:
    found = oakfield(runtime).person("dana")
    assert found is not None
    return found


async def rows(runtime: Runtime, model: type[T], *where: Any) -> list[T]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def closed_report(runtime: Runtime) -> Path:
    """Sam reports with a screenshot; Dana closes it. Returns the screenshot's file on disk."""
    sam = Chat(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    await sam.say("", file("shot.png", png("evidence")))
    await sam.say("done")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    await sam.say("submit")
    async with runtime.db.session() as session:
        await runtime.services(session, runtime.clock()).cases.change_status(
            "CB-2026-0001",
            school=oakfield(runtime),
            actor=dana(runtime),
            status=Status.CLOSED,
            reason="Spoke to the parent.",
            outcome="The post was taken down.",
        )
    [evidence] = await rows(runtime, Evidence)
    stored = runtime.settings.evidence_dir / evidence.stored_name[:2] / evidence.stored_name
    assert stored.exists()
    return stored


async def test_a_closed_report_past_its_period_is_anonymised_and_its_files_deleted(
    runtime: Runtime, clock: Clock
) -> None:
    stored = await closed_report(runtime)
    clock.advance(days=6 * 365 - 1)
    assert (await run_retention(runtime))["oakfield"].anonymised_cases == 0
    clock.advance(days=2)
    swept = (await run_retention(runtime))["oakfield"]
    assert (swept.anonymised_cases, swept.evidence) == (1, 1)
    [case] = await rows(runtime, Case)
    assert case.reference == "CB-2026-0001"
    assert (case.description, case.responsible_name, case.link) == (REMOVED, None, None)
    assert case.outcome == REMOVED
    assert case.reporter_id == "retention"
    assert case.anonymised_at is not None
    assert case.nature == ["threatening", "sexist"]  # what kind of abuse, still countable
    assert all(e.text in ("", REMOVED) for e in await rows(runtime, CaseEvent))
    assert await rows(runtime, Evidence) == []
    assert not stored.exists()
    applied = await rows(runtime, AuditEntry, col(AuditEntry.action) == "retention.apply")
    assert "cases anonymised 1" in applied[-1].detail
    again = (await run_retention(runtime))["oakfield"]
    assert again.anonymised_cases == 0


async def test_a_report_on_legal_hold_is_kept_until_the_hold_is_lifted(
    runtime: Runtime, clock: Clock
) -> None:
    stored = await closed_report(runtime)
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).cases.hold(
            "CB-2026-0001",
            school=oakfield(runtime),
            actor=dana(runtime),
            reason="The parent has made a claim.",
        )
    clock.advance(days=SEVEN_YEARS.days)
    swept = (await run_retention(runtime))["oakfield"]
    assert (swept.anonymised_cases, swept.kept_on_hold, swept.evidence) == (0, 1, 0)
    [case] = await rows(runtime, Case)
    assert case.description == HAPPY_PATH[6]
    assert stored.exists()
    async with runtime.db.session() as session:
        await runtime.services(session, clock()).cases.hold(
            "CB-2026-0001", school=oakfield(runtime), actor=dana(runtime), reason=None
        )
    assert (await run_retention(runtime))["oakfield"].anonymised_cases == 1
    assert not stored.exists()


async def test_an_open_report_is_never_removed_however_old(runtime: Runtime, clock: Clock) -> None:
    sam = Chat(runtime)
    for answer in [*HAPPY_PATH, "skip", *AFTER_EVIDENCE, "submit"]:
        await sam.say(answer)
    clock.advance(days=20 * 365)
    assert (await run_retention(runtime))["oakfield"].anonymised_cases == 0
    [case] = await rows(runtime, Case)
    assert case.description == HAPPY_PATH[6]


async def test_evidence_can_go_sooner_than_its_report(runtime: Runtime, clock: Clock) -> None:
    stored = await closed_report(runtime)
    school = oakfield(runtime)
    sooner = school.model_copy(update={"retention": Retention(evidence_days=30)})
    clock.advance(days=31)
    async with runtime.db.session() as session:
        swept = await runtime.services(session, clock()).retention.sweep(sooner)
    for name in swept.files:
        await runtime.blobs.delete(name)
    assert (swept.anonymised_cases, swept.evidence) == (0, 1)
    [case] = await rows(runtime, Case)
    assert case.description == HAPPY_PATH[6]
    assert not stored.exists()


async def test_a_dry_run_counts_and_changes_nothing(runtime: Runtime, clock: Clock) -> None:
    stored = await closed_report(runtime)
    clock.advance(days=SEVEN_YEARS.days)
    swept = (await run_retention(runtime, dry_run=True))["oakfield"]
    assert (swept.anonymised_cases, swept.evidence) == (1, 1)
    [case] = await rows(runtime, Case)
    assert case.anonymised_at is None
    assert stored.exists()
    assert await rows(runtime, AuditEntry, col(AuditEntry.action) == "retention.apply") == []


async def test_answered_comments_go_after_a_year_and_unanswered_ones_stay(
    runtime: Runtime, clock: Clock
) -> None:
    jo = Chat(runtime, person_id="jo")
    for text in ("First comment, please answer.", "Second comment, please answer."):
        for answer in ["comment", "1", "A Parent", text, "skip", "today 10am"]:
            await jo.say(answer)
        await jo.say("submit")
    async with runtime.db.session() as session:
        ordered = select(Comment).order_by(col(Comment.reference))
        [first, _] = (await session.execute(ordered)).scalars()
        first.status = CommentStatus.REPLIED.value
    clock.advance(days=366)
    assert (await run_retention(runtime))["oakfield"].comments == 1
    [kept] = await rows(runtime, Comment)
    assert kept.text == "Second comment, please answer."


async def test_the_audit_log_is_pruned_past_its_period_and_still_verifies(
    runtime: Runtime, clock: Clock
) -> None:
    await closed_report(runtime)
    written = len(await rows(runtime, AuditEntry))
    clock.advance(days=8 * 365)
    await run_retention(runtime)
    left = await rows(runtime, AuditEntry)
    cutoff = clock.now - timedelta(days=7 * 365)
    assert all(e.at >= cutoff for e in left)
    assert len(left) < written
    assert "audit.prune" in {e.action for e in left}
    async with runtime.db.session() as session:
        verified = await AuditChain(session, clock()).verify()
    assert verified.ok, verified.problem


async def test_records_of_handled_deliveries_go_after_thirty_days(
    runtime: Runtime, clock: Clock
) -> None:
    """Every turn records its delivery so a repeat is a no-op; those records are kept only as
    long as a repeat could come, or the table would grow with every message ever sent."""
    sam = Chat(runtime)
    await sam.say("report")
    clock.advance(days=20)
    await sam.say("me")
    assert len(await rows(runtime, ProcessedEvent)) == 2

    clock.advance(days=11)  # the first is now 31 days old, the second 11
    await run_retention(runtime)
    [left] = await rows(runtime, ProcessedEvent)
    assert left.received_at == clock.now - timedelta(days=11)


async def test_messages_held_for_someone_never_added_go_after_thirty_days(
    runtime: Runtime, clock: Clock
) -> None:
    from dialogs.services.people import held_messages
    from storage.models import HeldMessage

    async with runtime.db.session() as session:
        for user, age in (("U0OLD", 31), ("U0NEW", 29)):
            await held_messages.hold(
                session,
                platform="slack",
                user_id=user,
                conversation=f"D{user}",
                text="a message from someone not yet listed",
                files=None,
                delivery_id=None,
                now=clock() - timedelta(days=age),
            )
    await run_retention(runtime)
    assert [m.user_id for m in await rows(runtime, HeldMessage)] == ["U0NEW"]
