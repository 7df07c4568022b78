"""A queued reply goes back to the conversation it answers, on that conversation's platform.

A turn's replies are queued when they cannot be sent at once (the platform refused them, or the
input was taken from the journal after a restart). Someone with both Slack and Teams accounts
must get a Teams reply in Teams: in Slack its buttons would answer a different conversation.
Other notifications (a case update, say) still go by whichever platform reaches the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.runtime import Runtime
from dialogs.services.messages import Message, MessageKind
from dialogs.services.notifier import OutboxNotifier, take_undelivered
from dialogs.services.outbox import NO_ALERT, Alert, deliver_pending
from dialogs.services.school.schools import Person, School


@dataclass
class Reaching:
    """A platform that reaches everyone, and records what it was asked to send."""

    name: str
    sent: list[tuple[str, str]] = field(default_factory=list)

    def reaches(self, person: Person) -> bool:
        return True

    def channel_for(self, school: School, purpose: str) -> str | None:
        return None

    async def send_to_person(self, person: Person, message: Message) -> bool:
        self.sent.append((person.id, message.text))
        return True

    async def post_to_channel(
        self, channel_ref: str, message: Message, *, replace: str | None, alert: Alert = NO_ALERT
    ) -> str | None:
        return None


def said(text: str) -> Message:
    return Message(kind=MessageKind.INFO, text=text)


async def test_a_queued_teams_reply_is_delivered_in_teams_not_slack(runtime: Runtime) -> None:
    async with runtime.db.session() as session:
        outbox = OutboxNotifier(session, runtime.clock())
        outbox.reply(school_id="oakfield", person_id="sam", platform="teams", message=said("Q2"))
        outbox.notify(school_id="oakfield", person_id="sam", kind="case", message=said("Update"))
    slack, teams = Reaching("slack"), Reaching("teams")

    result = await deliver_pending(
        db=runtime.db,
        directory=runtime.settings.directory,
        transports=[slack, teams],
        now=runtime.clock(),
    )

    assert result.delivered == 2
    assert teams.sent == [("sam", "Q2")]
    assert slack.sent == [("sam", "Update")]  # the first platform that reaches Sam


async def test_a_reply_for_another_platform_is_not_taken_when_the_person_opens_this_one(
    runtime: Runtime,
) -> None:
    async with runtime.db.session() as session:
        outbox = OutboxNotifier(session, runtime.clock())
        outbox.reply(school_id="oakfield", person_id="sam", platform="teams", message=said("Q2"))
        outbox.notify(school_id="oakfield", person_id="sam", kind="case", message=said("Update"))

    async with runtime.db.session() as session:
        in_slack = await take_undelivered(
            session, school_id="oakfield", person_id="sam", via="slack", now=runtime.clock()
        )
    async with runtime.db.session() as session:
        in_teams = await take_undelivered(
            session, school_id="oakfield", person_id="sam", via="teams", now=runtime.clock()
        )

    assert [m.text for m in in_slack] == ["Update"]
    assert [m.text for m in in_teams] == ["Q2"]
