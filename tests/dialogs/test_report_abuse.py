"""Reporting abuse through the real runner and database, as a member of staff would."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from bot.runtime import Runtime
from dialogs.messages import InputKind, MessageKind
from storage.models import AuditEntry, Case, Evidence
from tests.conftest import Clock
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, last_prompt, png, text_of


async def fill_to_summary(sam: Person, *shots: bytes) -> None:
    for answer in HAPPY_PATH:
        await sam.say(answer)
    for index, data in enumerate(shots, 1):
        await sam.say("", file(f"shot{index}.png", data))
    await sam.say("done" if shots else "skip")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)


async def test_a_complete_report_with_two_screenshots_becomes_a_case(runtime: Runtime) -> None:
    sam = Person(runtime)
    first, second = png("one"), png("two")
    await fill_to_summary(sam, first, second)
    summary = last_prompt(sam.seen)
    assert summary.kind is MessageKind.SUMMARY
    assert "shot1.png" in text_of([summary]) and "shot2.png" in text_of([summary])

    done = await sam.say("submit")

    assert done[-1].kind is MessageKind.DONE
    assert "CB-2026-0001" in text_of(done)
    assert "consider involving the police" in text_of(done)
    async with runtime.db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        files = (await session.execute(select(Evidence))).scalars().all()
        audit = (await session.execute(select(AuditEntry))).scalars().all()
    assert case.reference == "CB-2026-0001"
    assert case.police_consideration and case.urgency == "high"
    assert case.nature == ["threatening", "sexist"]
    assert case.responsible_name == "Pat Jones"
    assert sorted(f.sha256 for f in files) == sorted(
        hashlib.sha256(d).hexdigest() for d in (first, second)
    )
    assert all(f.case_id == case.id and f.draft_key is None for f in files)
    assert "case.create" in [a.action for a in audit]
    assert all("useless" not in a.detail for a in audit)

    lead = Person(runtime, person_id="dana")
    alerts = await lead.inbox()
    assert [m.title for m in alerts] == ["New report of online abuse: CB-2026-0001"]
    assert "useless" not in text_of(alerts)


async def test_restart_mid_dialog_resumes_where_the_person_was(
    runtime: Runtime, clock: Clock
) -> None:
    sam = Person(runtime)
    for answer in HAPPY_PATH[:4]:
        await sam.say(answer)
    await runtime.close()

    from bot.runtime import build_runtime

    restarted = build_runtime(runtime.settings, clock=clock)
    try:
        again = Person(restarted)
        opening = await again.open()
        assert "Welcome back" in text_of(opening)
        question = last_prompt(opening)
        assert question.text.startswith("Is there a link")
        assert question.expects is InputKind.TEXT
        await again.say("skip")
        assert last_prompt(again.seen).expects is InputKind.DATETIME
    finally:
        await restarted.close()
