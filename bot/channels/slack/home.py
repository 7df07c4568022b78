"""The App Home tab: my reports and where they are, what is waiting for me, and a lead's queue."""

from __future__ import annotations

from typing import Any

from bot.channels.slack.render import to_blocks
from bot.runtime import Runtime
from dialogs.home import menu_buttons, my_reports
from dialogs.services.cases.vocabulary import Status
from dialogs.services.messages import Fact, Message, MessageKind
from dialogs.services.school.permissions import is_handler
from dialogs.services.school.schools import Person, School
from storage import conversations


async def home_view(
    runtime: Runtime, school: School | None, person: Person | None
) -> dict[str, Any]:
    if school is None or person is None:
        intro = Message(
            kind=MessageKind.INFO,
            title="policybot",
            text="I help staff follow the school's social media policy. Your Slack account isn't "
            "linked to policybot yet: please ask your IT administrator to add it.",
        )
        return {"type": "home", "blocks": to_blocks(intro)}
    messages: list[Message] = [
        Message(
            kind=MessageKind.MENU,
            title=f"policybot for {school.name}",
            text="Report cyberbullying or online abuse privately to the designated safeguarding "
            "lead, see where your reports have got to, ask about the school's social media "
            "policy in your own words, and ask for approval of a post on the school's official "
            "accounts. You can also message me directly.",
            buttons=menu_buttons(person),
        )
    ]
    now = runtime.clock()
    async with runtime.db.session() as session:
        services = runtime.services(session, now)
        mine = await services.cases.list_for(school=school, actor=person, mine_only=True)
        drafts = await conversations.drafts_of(session, person_id=person.id, school_id=school.id)
        queue = []
        if is_handler(person):
            queue = [
                c
                for c in await services.cases.list_for(school=school, actor=person)
                if c.status != Status.CLOSED
            ]
    if drafts:
        messages.append(
            Message(
                kind=MessageKind.REMINDER,
                title="Waiting for you",
                text="You have an unfinished report. Open the Messages tab and say anything to "
                "carry on where you left off; nothing you gave me has been lost.",
            )
        )
    messages.append(my_reports(mine, school))
    if is_handler(person):
        facts = tuple(
            Fact(
                label=f"{case.reference} ({case.urgency}"
                + (", consider police)" if case.police_consideration else ")"),
                value=f"{case.status}, assigned to {school.display_name(case.assigned_to)}",
            )
            for case in queue[:20]
        )
        messages.append(
            Message(
                kind=MessageKind.STATUS,
                title="Reports waiting for action",
                text="Open reports at your school. Act on them from the safeguarding channel."
                if queue
                else "No open reports.",
                facts=facts,
            )
        )
    blocks: list[dict[str, Any]] = []
    for message in messages:
        blocks.extend(to_blocks(message))
        blocks.append({"type": "divider"})
    return {"type": "home", "blocks": blocks[:100]}
