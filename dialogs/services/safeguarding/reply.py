"""What the bot says, instead of any policy answer, to someone who writes of a worry about a child.

Written once, here, for every channel and the command line, in the words a designated
safeguarding lead would want a member of staff to read (Keeping Children Safe in Education):
tell the lead now, by name, today, in person or by phone; if anyone is in immediate danger,
999; don't investigate and don't promise to keep it secret; write down what the child said in
their own words; never copy or pass on a sexual image of a child, not even to report it. It
says plainly that it is not the policy speaking, and that nothing of what was typed was kept.

A worry about an adult who works with children (a colleague messaging a pupil at night, a
teacher touching one) is an allegation: Keeping Children Safe in Education (part four) sends it
to the headteacher, or the chair of governors when it is about the headteacher, who consults
the local authority designated officer (LADO). So that reply names the headteacher first and the
lead after, and asks staff not to raise it with the adult concerned.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.services.safeguarding.concern import Concern, ConcernKind
from dialogs.services.school.schools import Person, Role, School

TITLE = "Please tell the designated safeguarding lead now"
ADULT_TITLE = "Please tell the headteacher now"
NOT_THE_POLICY = (
    "This is not an answer from the policy: a worry about a child always goes to the "
    "designated safeguarding lead first. I haven't kept what you wrote or passed it to anyone."
)
ADULT_NOT_THE_POLICY = (
    "This is not an answer from the policy: a worry about an adult's behaviour towards a child "
    "always goes to the headteacher first. I haven't kept what you wrote or passed it to anyone."
)
REPORT_LABEL = "Report online abuse"


@dataclass(frozen=True)
class Contact:
    role: str  # "Designated safeguarding lead", "Deputy designated safeguarding lead"
    name: str
    reach: str  # "phone 01632 960001, or a message on Slack", or "" when nothing is configured

    @property
    def line(self) -> str:
        return f"{self.name}, {self.reach}" if self.reach else self.name


def _reach(person: Person) -> str:
    """How to reach someone, from what the configuration gives: "phone 01632 960001, or a
    message on Slack or Teams"."""
    ways = [f"phone {person.phone}"] if person.phone else []
    if person.email:
        ways.append(f"email {person.email}")
    apps = [
        name
        for name, account in (("Slack", person.slack_user_id), ("Teams", person.teams_user_id))
        if account
    ]
    if apps:
        ways.append(f"a message on {' or '.join(apps)}")
    if len(ways) > 1:
        ways[-1] = "or " + ways[-1]
    return ", ".join(ways)


_LEADS = (
    (Role.SAFEGUARDING_LEAD, "Designated safeguarding lead"),
    (Role.DEPUTY_SAFEGUARDING_LEAD, "Deputy designated safeguarding lead"),
)
_HEADTEACHER = "Headteacher"


def _contacts(
    school: School | None, asker: Person | None, *, head_first: bool = False
) -> tuple[Contact, ...]:
    """The school's leads, then deputies, as configured; never the person asking. With
    `head_first` (a worry about an adult), the headteacher comes before them all; someone who
    is both is named once, as headteacher."""
    if school is None:
        return ()
    found: list[Contact] = []
    roles = ((Role.HEADTEACHER, _HEADTEACHER), *_LEADS) if head_first else _LEADS
    for role, label in roles:
        for person in school.with_role(role):
            if asker is not None and person.id == asker.id:
                continue
            if any(c.name == person.name for c in found):
                continue
            found.append(Contact(role=label, name=person.name, reach=_reach(person)))
    return tuple(found)


def _names(contacts: tuple[Contact, ...]) -> str:
    names = [c.name for c in contacts]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def leads_to_tell(school: School | None, asker: Person | None) -> str:
    """The names of the people to tell now ("Dana Okafor or Lee Brown"), or the role itself
    when the school names nobody."""
    contacts = _contacts(school, asker)
    return _names(contacts) if contacts else "the designated safeguarding lead"


def child_safety_note(school: School | None, asker: Person | None) -> str:
    """The line beside a policy answer whose question could be a worry about a child that was
    not recognised as one (safeguarding_concern.may_concern_a_child)."""
    contacts = _contacts(school, asker)
    who = "the designated safeguarding lead"
    if contacts:
        who = f"{who} ({_names(contacts)})"
    return (
        "If this is about a child's safety or wellbeing, please don't wait for the policy: "
        f"tell {who} today, and call 999 if a child is in immediate danger."
    )


@dataclass(frozen=True)
class SafeguardingReply:
    kind: ConcernKind
    contacts: tuple[Contact, ...]
    asker_is_lead: bool = False
    asker_is_head: bool = False  # matters only for a worry about an adult

    @property
    def offers_report(self) -> bool:
        """Online abuse of a pupil can be reported here too; a sexual image never (the report
        asks for screenshots), and harm at home is for the lead in person."""
        return self.kind is ConcernKind.ONLINE_ABUSE

    @property
    def title(self) -> str:
        return ADULT_TITLE if self.kind is ConcernKind.ADULT else TITLE

    @property
    def not_the_policy(self) -> str:
        return ADULT_NOT_THE_POLICY if self.kind is ConcernKind.ADULT else NOT_THE_POLICY

    @property
    def first(self) -> str:
        """Who to tell, now: the part that must not be missed."""
        if self.kind is ConcernKind.ADULT:
            return self._first_about_an_adult()
        leads = tuple(c for c in self.contacts if c.role.startswith("Designated"))
        deputies = tuple(c for c in self.contacts if not c.role.startswith("Designated"))
        opening = (
            "Thank you for telling me. This is a worry about a child's safety, so it goes to "
            "the designated safeguarding lead, not the policy."
        )
        if self.asker_is_lead:
            who = " As a designated safeguarding lead, please act on it today under the school's "
            who += "child protection procedures" + (
                f"; {_names(self.contacts)} can help." if self.contacts else "."
            )
        elif leads:
            who = (
                f" Please tell {_names(leads)} today, in person, or by phone if you can't see them"
            )
            who += (
                f"; if you can't reach them, {_names(deputies)}, the deputy." if deputies else "."
            )
        else:
            who = (
                " Please tell your school's designated safeguarding lead today, in person, or by "
                "phone if you can't see them; if you can't reach them, their deputy."
            )
        return opening + who + " If a child or anyone else is in immediate danger, call 999 now."

    def _first_about_an_adult(self) -> str:
        """An allegation: the headteacher, or the chair of governors if it is about them; the
        lead can take it too when the headteacher can't be reached."""
        heads = tuple(c for c in self.contacts if c.role == _HEADTEACHER)
        leads = tuple(c for c in self.contacts if c.role != _HEADTEACHER)
        opening = (
            "Thank you for telling me. This is a worry about how an adult who works with "
            "children is behaving towards a child, so it goes to the headteacher, not the policy."
        )
        if self.asker_is_head:
            who = (
                " As headteacher, please act on it today under the procedure for allegations "
                "against staff, and speak to your local authority designated officer (LADO)"
            )
            who += f"; {_names(leads)} can help." if leads else "."
        else:
            head = _names(heads) if heads else "your headteacher"
            who = f" Please tell {head} today, in person, or by phone if you can't see them."
            who += (
                " If it is about the headteacher, tell the chair of governors (or your trust) "
                "instead."
            )
            designated = tuple(c for c in leads if c.role.startswith("Designated"))
            if designated:
                who += f" The designated safeguarding lead, {_names(designated)}, can also take it"
            elif leads:
                who += (
                    f" {_names(leads)}, the deputy designated safeguarding lead, can also take it"
                )
            else:
                who += " The designated safeguarding lead can also take it"
            who += " and advise."
        return opening + who + " If a child or anyone else is in immediate danger, call 999 now."

    @property
    def until_then(self) -> tuple[str, ...]:
        """What to do, and not do, until the lead (or, about an adult, the headteacher) has it."""
        lead = "the headteacher" if self.kind is ConcernKind.ADULT else "the lead"
        if self.kind in (ConcernKind.SEXUAL, ConcernKind.ADULT):
            images = (
                "Don't look at, copy, screenshot, forward or save any image of a child, and "
                "don't ask anyone to send you one: that is itself an offence, even to report it. "
                f"Leave the phone or device as it is and tell {lead} where the image is; they "
                "will decide what happens to it."
            )
        elif self.kind is ConcernKind.ONLINE_ABUSE:
            images = (
                "Don't forward or share what was posted about the child; a note of where and "
                "when it appeared, or screenshots of the messages, is enough for the lead."
            )
        else:
            images = (
                "Don't forward or save messages, pictures or videos about it; tell the lead "
                "where they are."
            )
        about_an_adult = (
            (
                "Don't raise it with the adult concerned or warn them: the headteacher decides "
                "what happens, with the local authority designated officer (LADO).",
            )
            if self.kind is ConcernKind.ADULT
            else ()
        )
        steps = (
            *about_an_adult,
            "Don't question the child further or try to find out more yourself: listening is "
            f"enough, and {lead} will decide what happens next.",
            "Don't promise to keep it a secret. Tell the child, kindly, that you have to pass it "
            "on to someone who can help.",
            "Write down what was said as soon as you can, in the child's own words, with the "
            f"date and time and anything you saw, and give it to {lead}.",
            images,
        )
        if self.asker_is_lead or self.asker_is_head:
            return steps
        them = "either of them" if len(self.contacts) == 2 else "them"
        if self.kind is ConcernKind.ADULT:
            return (
                *steps,
                f"If you can't reach {them} today, don't wait: call your local authority "
                "designated officer (LADO) for advice.",
            )
        return (
            *steps,
            f"If you can't reach {them} today, don't wait: tell a senior leader, or call your "
            "local children's social care for advice.",
        )

    @property
    def report(self) -> str:
        """Whether the report fits, and why not when it doesn't."""
        if self.offers_report:
            return (
                "If it happened online, I can also take a report to the lead here, with where it "
                "happened and screenshots of the messages or posts. It doesn't replace telling "
                "them today."
            )
        if self.kind is ConcernKind.SEXUAL:
            return (
                "I won't take a report of this here: a report asks for screenshots, and a sexual "
                "image of a child must not be copied or sent, even to report it. Please tell the "
                "lead in person instead."
            )
        return ""

    def plain_text(self) -> str:
        """The whole reply as one text, for the command line and anywhere without cards."""
        parts = [f"{self.title}. {self.first}"]
        parts += [f"{c.role}: {c.line}" for c in self.contacts]
        parts += [f"- {step}" for step in self.until_then]
        if self.report:
            parts.append(self.report)
        parts.append(self.not_the_policy)
        return "\n".join(parts)


def safeguarding_reply(
    concern: Concern, school: School | None, *, asker: Person | None = None
) -> SafeguardingReply:
    """The reply for `concern` at `school` (None: a policy tried out from a file, with no
    school to name a lead from), to `asker` if a person asked."""
    about_an_adult = concern.kind is ConcernKind.ADULT
    is_head = about_an_adult and asker is not None and Role.HEADTEACHER in asker.roles
    is_lead = not about_an_adult and asker is not None and Role.SAFEGUARDING_LEAD in asker.roles
    return SafeguardingReply(
        kind=concern.kind,
        contacts=_contacts(school, asker, head_first=about_an_adult),
        asker_is_lead=is_lead,
        asker_is_head=is_head,
    )
