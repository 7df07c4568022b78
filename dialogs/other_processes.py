"""The policy's other everyday processes, as short conversations: a journalist has been in touch,
and a website seen on school equipment that should be blocked.

Both end with the right person told at once (the Headteacher; IT), an audit entry that names
the kind of report but not what was said, and the member of staff told what happens next.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from dialogs.engine import Dialog, DialogContext, Step
from dialogs.one_answer import OneAnswerDialog
from dialogs.prompts import (
    Choice,
    ChoicePrompt,
    DateTimePrompt,
    TextPrompt,
    YesNoPrompt,
    normalise_link,
)
from dialogs.services.accounts.website_reports import (
    MAX_REASON_CHARS,
    NewWebsiteReport,
    WebsiteButtonValue,
    WebsiteVerb,
)
from dialogs.services.messages import Fact, Message, MessageKind
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.school.schools import Person, Role
from dialogs.turn import ButtonKind, Turn, TurnOutcome

MEDIA_ENQUIRY = "media_enquiry"
WEBSITE_BLOCK = "website_block"
WEBSITE_REASON = "website_reason"

_CONTACT = (
    Choice("phone", "By phone"),
    Choice("email", "By email"),
    Choice("social", "On social media"),
    Choice("in_person", "In person"),
)


def _tell(
    ctx: DialogContext, people: Sequence[Person], action: AuditAction, message: Message
) -> None:
    """Tell each person, and audit that it was done: the kind and how many, not the words."""
    for person in people:
        ctx.services.notifier.notify(
            school_id=ctx.school.id, person_id=person.id, kind=action.value, message=message
        )
    ctx.services.audit.record(
        school_id=ctx.school.id,
        actor_id=ctx.person.id,
        action=action,
        target_type="person",
        target_id=ctx.person.id,
        detail=f"told {len(people)}",
    )


def _names(people: Sequence[Person]) -> str:
    return ", ".join(p.name for p in people)


def _when(ctx: DialogContext, value: str) -> str:
    return f"{datetime.fromisoformat(value).astimezone(ctx.school.tz):%a %d/%m/%Y %H:%M}"


def _web_address(text: str) -> str | None:
    address = normalise_link(text.strip())
    parts = urlsplit(address)
    if parts.scheme in {"http", "https"} and parts.netloc and not re.search(r"\s", address):
        return None
    return "Please type the web address as it appeared, for example: example.com/page"


class MediaEnquiry(Dialog):
    """A journalist asked a member of staff about the school: what to do now, and the
    Headteacher is told, because only they (or the media policy's contact) answer the press."""

    name = MEDIA_ENQUIRY
    title = "Contact from a journalist"
    noun = "note"
    start_word = "journalist"
    help_text = (
        "Don't answer the journalist's questions or comment, even off the record. I'll ask who "
        "they were and what they asked, and tell the Headteacher, who will reply if anyone does."
    )
    steps = (
        Step(
            "who",
            "Who",
            TextPrompt(
                "Who contacted you? Their name and who they write for, if you know.",
                max_length=300,
            ),
        ),
        Step("how", "How", ChoicePrompt("How did they contact you?", _CONTACT)),
        Step(
            "about",
            "About",
            TextPrompt("What did they ask about?", max_length=3000),
        ),
        Step("when", "When", DateTimePrompt("When did they contact you?")),
        Step(
            "said_anything",
            "Anything said",
            YesNoPrompt("Did you tell them anything about the school, a pupil or a colleague?"),
        ),
    )

    def intro(self, ctx: DialogContext) -> Sequence[Message]:
        return (
            Message(
                kind=MessageKind.REMINDER,
                title="A journalist contacted you",
                text="Please don't answer their questions or comment, even off the record. If "
                "they are still waiting, say: “I'm not able to comment. Please contact the "
                "Headteacher through the school office.” Then tell me about it and I'll let the "
                "Headteacher know straight away.",
            ),
        )

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        heads = ctx.school.with_role(Role.HEADTEACHER) or ctx.school.with_role(Role.SENIOR_LEADER)
        facts = (
            Fact(label="Staff member", value=ctx.person.name),
            Fact(label="Journalist", value=answers["who"]),
            Fact(label="How", value=dict((c.value, c.label) for c in _CONTACT)[answers["how"]]),
            Fact(label="When", value=_when(ctx, answers["when"])),
            Fact(label="About", value=answers["about"]),
            Fact(label="Told them anything", value="Yes" if answers["said_anything"] else "No"),
        )
        _tell(
            ctx,
            heads,
            AuditAction.MEDIA_ENQUIRY,
            Message(
                kind=MessageKind.NOTIFICATION,
                title="A journalist has contacted a member of staff",
                text=f"{ctx.person.name} was contacted by a journalist and has not answered. "
                "Under the media policy, any reply comes from you or the person you name.",
                facts=facts,
            ),
        )
        extra = (
            " As you did tell them something, the Headteacher may ask you what was said."
            if answers["said_anything"]
            else ""
        )
        return [
            Message(
                kind=MessageKind.DONE,
                title="The Headteacher has been told",
                text=f"I've passed this to {_names(heads) or 'the senior leaders'}. Please don't "
                f"reply to the journalist; if they contact you again, refer them to the school "
                f"office.{extra}",
            )
        ]


class WebsiteBlock(Dialog):
    """Inappropriate content seen on school equipment: IT is asked to block the site."""

    name = WEBSITE_BLOCK
    title = "Website to block"
    noun = "report"
    start_word = "website"
    help_text = (
        "Tell me the web address and when you saw it; IT will block it on school equipment. "
        "Please don't go back to the site to check it."
    )
    steps = (
        Step(
            "address",
            "Address",
            TextPrompt(
                "What is the web address? (Type it as you saw it; please don't open it again.)",
                max_length=2000,
                check=_web_address,
                normalise=normalise_link,
            ),
        ),
        Step("seen_at", "Seen", DateTimePrompt("When did you see it?")),
        Step(
            "where",
            "Equipment",
            TextPrompt(
                "Which computer or device was it, and where? (for example: the library laptop "
                "trolley, Year 5 classroom)",
                max_length=300,
            ),
            optional=True,
        ),
        Step(
            "what",
            "What it showed",
            TextPrompt(
                "In a few words, what was on it? (no need to describe it in detail)",
                max_length=1000,
            ),
            optional=True,
        ),
    )

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        report, told = await ctx.services.websites.submit(
            NewWebsiteReport(
                address=answers["address"],
                seen_at=datetime.fromisoformat(answers["seen_at"]),
                equipment=answers.get("where"),
                what=answers.get("what"),
            ),
            school=ctx.school,
            reporter=ctx.person,
        )
        return [
            Message(
                kind=MessageKind.DONE,
                title=f"IT has been asked to block it: {report.reference}",
                text=f"I've passed the address to {_names(told)}, and I'll tell you when it is "
                "blocked. Please don't visit the site again. If what you saw involved a pupil "
                "or made you worried about anyone's safety, report it to the safeguarding lead "
                "too.",
            )
        ]


class WebsiteReason(OneAnswerDialog):
    """Why IT is not blocking a reported website: the member of staff is told it."""

    name = WEBSITE_REASON
    title = "Answer to a website report"
    start_word = "website"
    restart_hint = "press Not blocking it on the report again"
    help_text = "Type the reason; the member of staff who reported it is told it."
    question = "Why not block it? The member of staff who reported it is told your reason."
    max_length = MAX_REASON_CHARS

    async def act(self, ctx: DialogContext, answer: str) -> str:
        return await ctx.services.websites.answer(
            ctx.state.flags["reference"],
            school=ctx.school,
            actor=ctx.person,
            verb=WebsiteVerb.NOT_BLOCKING,
            reason=answer,
        )


async def press_website_button(turn: Turn, button: WebsiteButtonValue) -> TurnOutcome:
    """IT's answer to a website report: blocked is recorded at once; not blocking asks
    for the reason the member of staff is told."""
    who = turn.who
    services = turn.services()

    async def blocked() -> str:
        return await services.websites.answer(
            button.reference, school=who.school, actor=who.person, verb=button.verb
        )

    async def reference() -> str:
        got = await services.websites.for_answer(
            button.reference, school=who.school, actor=who.person
        )
        return got.reference

    return await turn.at_once_or_reason(
        act=blocked if button.verb is not WebsiteVerb.NOT_BLOCKING else None,
        reason_dialog=WEBSITE_REASON,
        reference=reference,
    )


WEBSITE_BUTTONS = ButtonKind("website", WebsiteButtonValue.decode, press_website_button)
