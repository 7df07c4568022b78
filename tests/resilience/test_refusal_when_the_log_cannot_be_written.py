"""A refused attempt whose audit entry cannot be written is refused all the same.

Another process holds SQLite's write lock (a backup, a key rotation): the refusal is decided
and answered from what can still be read, the entry waits its short turn for the lock and
gives up, and the server says so in its log without any detail of who or what. PostgreSQL
has no such half-way state (a server that is away takes the refusal's own reads with it), so
this runs on SQLite.
"""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.runtime import Runtime
from dialogs.services.errors import NotFound
from dialogs.services.privacy.audit import AuditAction
from storage.models import AuditEntry
from tests.dialogs.test_case_handling import file_report
from tests.resilience.conftest import Outage


# Only SQLite can be locked for writing while it is still read: not generated for PostgreSQL,
# rather than skipped there (nothing is skipped under CI=true).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_person_is_refused_as_before_and_the_server_says_the_entry_was_not_written(
    runtime: Runtime, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    assert outage.kind == "sqlite"
    await outage.prepare(runtime)
    reference = await file_report(runtime, shots=())
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    jo = school.person("jo")
    assert jo is not None

    await outage.cut()
    try:
        with pytest.raises(NotFound) as refused, caplog.at_level(logging.WARNING):
            async with runtime.db.session() as session:
                await runtime.services(session, runtime.clock()).cases.get(
                    reference, school=school, actor=jo
                )
    finally:
        await outage.restore()

    assert refused.value.message == f"I can't find a report {reference} that you can see."
    [warning] = [r for r in caplog.records if "audit log" in r.getMessage()]
    assert warning.getMessage() == "a refusal was not written to the audit log: OperationalError"
    async with runtime.db.session() as session:
        found = await session.execute(
            select(AuditEntry).where(AuditEntry.action == AuditAction.ACCESS_REFUSED.value)
        )
        assert found.scalars().all() == []
