"""Reporting cyberbullying or online abuse, calmly and completely.

The order follows what a frightened person can manage: safety first (immediate danger straight
after who is affected, so no one types paragraphs before being told to call 999), then the facts
the safeguarding lead needs, then the evidence. Reminders not to respond or retaliate come where
they matter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from dialogs.engine import Answers, Dialog, DialogContext, Step
from dialogs.prompts import (
    AttachmentPrompt,
    Choice,
    ChoicePrompt,
    DateTimePrompt,
    MultiChoicePrompt,
    TextPrompt,
    YesNoPrompt,
    check_link,
    normalise_link,
)
from dialogs.services.cases.service import (
    AFFECTED,
    HATE,
    NATURE,
    RESPONSIBLE,
    STATUS_FOR_REPORTER,
    NewReport,
    Status,
)
from dialogs.services.cases.vocabulary import VISIBILITY
from dialogs.services.messages import Fact, Message, MessageKind
from dialogs.services.safeguarding.concern import ConcernKind, safeguarding_concern
from dialogs.services.safeguarding.reply import leads_to_tell

PLATFORMS = (
    Choice("Facebook", "Facebook", ("fb", "meta", "messenger")),
    Choice("Instagram", "Instagram", ("insta", "ig")),
    Choice("X (Twitter)", "X (Twitter)", ("x", "twitter", "tweet")),
    Choice("TikTok", "TikTok", ("tik tok",)),
    Choice("Snapchat", "Snapchat", ("snap",)),
    Choice("WhatsApp", "WhatsApp", ("whats app",)),
    Choice("YouTube", "YouTube", ("you tube",)),
    Choice("Email or text message", "Email or text message", ("email", "text", "sms", "e mail")),
)


def platform_mentioned(text: str) -> str | None:
    """The platform a sentence names ("someone is bullying me on TikTok"), so the report can
    start with it filled in; None when it names none, or more than one."""

    def words(phrase: str) -> str:
        return f" {' '.join(re.findall(r'[a-z0-9]+', phrase.casefold()))} "

    said = words(text)
    found = {
        choice.value
        for choice in PLATFORMS
        if choice.value != "Email or text message"
        and any(words(name) in said for name in (choice.value, *choice.synonyms))
    }
    return found.pop() if len(found) == 1 else None


def _choices(vocabulary: dict[str, str]) -> list[Choice]:
    return [Choice(value, label) for value, label in vocabulary.items()]


async def _on_danger(ctx: DialogContext, value: Any) -> Sequence[Message]:
    if not value:
        return ()
    messages = [
        Message(
            kind=MessageKind.URGENT,
            title="Call 999 now",
            text="If anyone is in immediate danger, call 999 now, before anything else. I am "
            "sending an urgent alert to the designated safeguarding lead, and I will tell you "
            "here if it cannot reach them. When you are safe, carry on here so they have the "
            "full picture.",
        )
    ]
    if not ctx.state.flags.get("danger_alerted"):
        ctx.services.cases.alert_immediate_danger(
            school=ctx.school,
            reporter=ctx.person,
            affected=str(ctx.state.answers.get("affected", "")),
            draft_key=ctx.state.draft_id,
        )
        ctx.state.flags["danger_alerted"] = True
    return messages


def _about_sexual_images(answers: Answers) -> bool:
    """What happened, as the reporter wrote it, is about sexual images (nudes, sextortion,
    grooming): such a picture of a child may not be copied or passed on, not even to report
    it, so nobody is asked for screenshots of it."""
    concern = safeguarding_concern(str(answers.get("description", "")))
    return concern is not None and concern.kind is ConcernKind.SEXUAL


def _may_ask_for_screenshots(answers: Answers) -> bool:
    return not _about_sexual_images(answers)


async def _on_description(ctx: DialogContext, value: Any) -> Sequence[Message]:
    if not _about_sexual_images({"description": value}):
        return ()
    return [
        Message(
            kind=MessageKind.URGENT,
            title="Please don't send me the pictures",
            text="Please don't send me screenshots or copies of the pictures, and don't keep, "
            "forward or show them to anyone: if they are of a child, copying or sharing them is "
            "a crime, even to report them. Note where they are instead (the link, the account "
            "and the time), and the lead will say how evidence is kept safely. "
            f"If a child is involved, please also tell {leads_to_tell(ctx.school, ctx.person)} "
            "today, in person or by phone, and call 999 if anyone is in immediate danger. "
            "I'll leave the screenshots question out of this report.",
        )
    ]


def _named(answers: Answers) -> bool:
    return answers.get("affected") in {"colleague", "pupil"}


def _known(answers: Answers) -> bool:
    return answers.get("responsible") not in {None, "unknown"}


def _hate(answers: Answers) -> bool:
    return "hate" in (answers.get("nature") or [])


class ReportAbuse(Dialog):
    name = "report_abuse"
    title = "Report of online abuse"
    help_text = (
        "I'm helping you report cyberbullying or online abuse to your designated safeguarding "
        "lead. Your report is private: only the lead and their deputy can see it."
    )
    steps = (
        Step(
            key="affected",
            label="Who is affected",
            prompt=ChoicePrompt("Who is being targeted?", _choices(AFFECTED)),
        ),
        Step(
            key="affected_name",
            label="Name of the person affected",
            optional=True,
            when=_named,
            prompt=TextPrompt("What is their name?", max_length=200),
        ),
        Step(
            key="immediate_danger",
            label="Immediate danger",
            prompt=YesNoPrompt(
                "Is anyone in immediate danger right now?",
                help="Immediate danger means someone could be hurt soon, for example a threat "
                "to come to the school or to someone's home.",
            ),
            after=_on_danger,
            critical=True,
        ),
        Step(
            key="platform",
            label="Where it happened",
            prompt=ChoicePrompt(
                "Where did it happen? Pick one, or type the name of the site or app.",
                PLATFORMS,
                allow_other=True,
            ),
        ),
        Step(
            key="link",
            label="Link",
            optional=True,
            prompt=TextPrompt(
                "Is there a link to the post, page or profile? Paste it here.",
                max_length=2000,
                check=check_link,
                normalise=normalise_link,
            ),
        ),
        Step(
            key="occurred_at",
            label="When it happened",
            prompt=DateTimePrompt(
                "When did it happen? For example “yesterday 4pm” or “21/11 09:30”."
            ),
        ),
        Step(
            key="description",
            label="What happened",
            before="Please don't reply to, or retaliate against, whoever is responsible: it can "
            "make things worse and can be used against you. Leave it to the school.",
            prompt=TextPrompt(
                "In your own words, what happened? Include what was said or shown, and anything "
                "that led up to it.",
                min_length=10,
                max_length=8000,
            ),
            after=_on_description,
        ),
        Step(
            key="evidence",
            label="Screenshots",
            optional=True,
            when=_may_ask_for_screenshots,
            before="Screenshots are the best evidence. Make sure they show the date and time and "
            "where it appeared. Don't delete the original posts or messages yet.",
            prompt=AttachmentPrompt(
                "Please send your screenshots (photos or PDFs), one or more, then type done. "
                "Type skip if you don't have any.",
                help="I keep each file exactly as you send it and record a fingerprint (SHA-256) "
                "so anyone can later check it hasn't been changed.",
            ),
        ),
        Step(
            key="responsible",
            label="Who is responsible",
            prompt=ChoicePrompt("Who is responsible, if you know?", _choices(RESPONSIBLE)),
        ),
        Step(
            key="responsible_name",
            label="Name of who is responsible",
            optional=True,
            when=_known,
            prompt=TextPrompt(
                "Do you know their name or account name? Type it, or skip.", max_length=200
            ),
        ),
        Step(
            key="nature",
            label="Nature of the content",
            prompt=MultiChoicePrompt(
                "What kind of content is it? Pick all that apply.", _choices(NATURE)
            ),
        ),
        Step(
            key="hate_characteristics",
            label="Protected characteristic",
            optional=True,
            when=_hate,
            prompt=MultiChoicePrompt(
                "What is the hate about? Pick all that apply.", _choices(HATE)
            ),
        ),
        Step(
            key="reporter_visibility",
            label="Who may know it was you",
            prompt=ChoicePrompt(
                "Who may know that you made this report? Whatever you choose, the lead can ask "
                "you questions through me and you will hear how it goes.",
                _choices(VISIBILITY),
            ),
        ),
    )
    # Most people are content for the safeguarding team to know; the summary shows it, and it
    # can be changed there (or by starting with "report anonymously").
    defaults: ClassVar[dict[str, Any]] = {"reporter_visibility": "named"}

    def intro(self, ctx: DialogContext) -> Sequence[Message]:
        if ctx.state.flags.get("about") == "colleague":
            return (
                Message(
                    kind=MessageKind.INFO,
                    title="Report a colleague's misuse",
                    text="Thank you for raising this. It goes privately to the designated "
                    "safeguarding lead (or their deputy), with the same protections as a report "
                    "of abuse: your colleague is not told who reported it. I'll ask a few short "
                    "questions; type back, help or cancel at any time.",
                ),
            )
        return (
            Message(
                kind=MessageKind.INFO,
                title="Report online abuse",
                text=f"I'm sorry this is happening, {ctx.person.name.split()[0]}. I'll ask a few "
                "short questions and pass your report privately to the designated safeguarding "
                "lead. It takes about five minutes; I save your answers as you go, so you can stop "
                "and come back. Type back, help or cancel at any time. If you'd rather only the "
                "lead knew it was you, or nobody, you can choose that before you send it.",
            ),
        )

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        report = NewReport(
            affected=answers["affected"],
            affected_name=answers.get("affected_name"),
            platform=answers["platform"],
            link=answers.get("link"),
            occurred_at=datetime.fromisoformat(answers["occurred_at"]),
            description=answers["description"],
            responsible=answers["responsible"],
            responsible_name=answers.get("responsible_name"),
            nature=list(answers["nature"]),
            hate_characteristics=list(answers.get("hate_characteristics") or []),
            immediate_danger=bool(answers["immediate_danger"]),
            draft_key=ctx.state.draft_id,
            origin_channel=ctx.channel,
            reporter_visibility=answers.get("reporter_visibility") or "named",
        )
        case = await ctx.services.cases.submit(report, school=ctx.school, reporter=ctx.person)
        next_steps = (
            "I am sending it to the designated safeguarding lead now, and I will tell you here "
            "if it cannot reach them. They will contact you, assess what happened, support you, "
            "and where the person responsible is known, ask for the content to be removed. "
        )
        if case.police_consideration:
            next_steps += (
                "Because of the kind of content, they will consider involving the police. "
            )
        next_steps += (
            "Keep not replying or retaliating. If more happens, report it too and quote your "
            "reference. Type my reports at any time to see where it has got to."
        )
        facts = (
            Fact(label="Reference", value=case.reference),
            Fact(label="Status", value=STATUS_FOR_REPORTER[Status(case.status)]),
        )
        return (
            Message(
                kind=MessageKind.DONE,
                title=f"Report sent: {case.reference}",
                text="Thank you. Your report is saved. " + next_steps,
                facts=facts,
            ),
        )
