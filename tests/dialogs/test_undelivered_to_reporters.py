"""A message for a reporter that cannot be delivered does not say who the reporter is.

A question from the lead, or news of a report's progress, goes to whoever made the report. If it
keeps failing, the log and `policybot deliveries` (read by IT) must not name its recipient: that
would tell IT who reported, which an anonymous reporter chose that nobody may know.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.cli.deliveries import stuck
from bot.runtime import Runtime
from dialogs.services.messages import Message, MessageKind
from dialogs.services.outbox import ESCALATE_AFTER, NO_ALERT, Alert, deliver_pending
from dialogs.services.school.schools import Person, School
from storage.models import Notification
from tests.conftest import Clock


class NobodyReachesSam:
    name = "stub"

    def reaches(self, person: Person) -> bool:
        return True

    def channel_for(self, school: School, purpose: str) -> str | None:
        return f"#{purpose}"

    async def send_to_person(self, person: Person, message: Message) -> bool:
        return person.id != "sam"

    async def post_to_channel(
        self, channel_ref: str, message: Message, *, replace: str | None, alert: Alert = NO_ALERT
    ) -> str | None:
        return replace or channel_ref


@pytest.mark.parametrize("kind", ["case.question", "case.status"])
async def test_a_reporters_undelivered_message_names_nobody(
    runtime: Runtime, clock: Clock, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with runtime.db.session() as session:
        session.add(
            Notification(
                school_id="oakfield",
                person_id="sam",
                kind=kind,
                message=Message(kind=MessageKind.NOTIFICATION, text="A question").model_dump(
                    mode="json"
                ),
                created_at=clock.now,
                attempts=ESCALATE_AFTER - 2,
            )
        )
    caplog.set_level(logging.INFO)
    for hour in range(3):
        await deliver_pending(
            db=runtime.db,
            directory=runtime.settings.directory,
            transports=[NobodyReachesSam()],
            now=clock.now + timedelta(hours=hour),
        )

    [listed] = await stuck(runtime)
    assert listed["escalated_at"] is not None  # it did fail, and is listed
    assert listed["for"] == "a reporter"
    assert "escalated" in caplog.text
    assert "sam" not in caplog.text.lower()
