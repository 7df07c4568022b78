"""The safeguarding reply's words: the lead named with how to reach them, and what fits the
concern. The demo school's configuration gives the lead (Dana) and deputy (Lee) phone numbers."""

from __future__ import annotations

import pytest

from bot.config import Settings
from dialogs.services.safeguarding.concern import Concern, ConcernKind
from dialogs.services.safeguarding.reply import safeguarding_reply
from dialogs.services.school.schools import School


@pytest.fixture
def school(settings: Settings) -> School:
    found = settings.directory.school("oakfield")
    assert found is not None
    return found


def concern(kind: ConcernKind) -> Concern:
    return Concern(kind, "test")


def test_staff_are_sent_to_the_lead_then_the_deputy_with_how_to_reach_them(school: School) -> None:
    sam = school.person("sam")
    reply = safeguarding_reply(concern(ConcernKind.HARM), school, asker=sam)
    assert [(c.role, c.name) for c in reply.contacts] == [
        ("Designated safeguarding lead", "Dana Okafor"),
        ("Deputy designated safeguarding lead", "Lee Brown"),
    ]
    assert reply.contacts[0].line == (
        "Dana Okafor, phone 01632 960001, or a message on Slack or Teams"
    )
    assert "Please tell Dana Okafor today, in person, or by phone" in reply.first
    assert "Lee Brown, the deputy" in reply.first
    assert "call 999 now" in reply.first
    assert "either of them" in reply.until_then[-1]
    assert not reply.offers_report
    assert reply.report == ""


def test_the_lead_is_pointed_to_their_procedures_and_the_deputy(school: School) -> None:
    reply = safeguarding_reply(concern(ConcernKind.HARM), school, asker=school.person("dana"))
    assert [c.name for c in reply.contacts] == ["Lee Brown"]
    assert "As a designated safeguarding lead" in reply.first
    assert "Lee Brown can help" in reply.first


def test_the_deputy_is_sent_to_the_lead_alone(school: School) -> None:
    reply = safeguarding_reply(concern(ConcernKind.HARM), school, asker=school.person("lee"))
    assert [c.name for c in reply.contacts] == ["Dana Okafor"]
    assert "the deputy" not in reply.first
    assert "reach them today" in reply.until_then[-1]


def test_a_sexual_image_is_never_asked_for_and_the_reply_says_why(school: School) -> None:
    reply = safeguarding_reply(concern(ConcernKind.SEXUAL), school)
    assert not reply.offers_report
    assert "screenshot" in reply.until_then[3]
    assert "offence" in reply.until_then[3]
    assert "won't take a report" in reply.report


def test_online_abuse_offers_the_report_without_replacing_the_lead(school: School) -> None:
    reply = safeguarding_reply(concern(ConcernKind.ONLINE_ABUSE), school)
    assert reply.offers_report
    assert "doesn't replace telling them today" in reply.report


def test_without_a_school_the_reply_names_no_one_but_still_sends_to_the_lead() -> None:
    reply = safeguarding_reply(concern(ConcernKind.HARM), None)
    assert reply.contacts == ()
    text = reply.plain_text()
    assert "your school's designated safeguarding lead today" in text
    assert "999" in text
    assert "not an answer from the policy" in text


def test_a_worry_about_an_adult_goes_to_the_headteacher_then_the_lead(school: School) -> None:
    """An allegation about someone who works with children: the headteacher first (Dana is
    both headteacher and lead at the demo school, so she is named once), the chair of
    governors if it is about the headteacher, and never a word to the adult concerned."""
    reply = safeguarding_reply(concern(ConcernKind.ADULT), school, asker=school.person("sam"))
    assert [(c.role, c.name) for c in reply.contacts] == [
        ("Headteacher", "Dana Okafor"),
        ("Deputy designated safeguarding lead", "Lee Brown"),
    ]
    assert reply.title == "Please tell the headteacher now"
    assert "Please tell Dana Okafor today" in reply.first
    assert "chair of governors" in reply.first
    assert "Lee Brown, the deputy designated safeguarding lead" in reply.first
    assert "call 999 now" in reply.first
    assert "adult concerned" in reply.until_then[0]
    assert "offence" in reply.until_then[4]  # an image is never copied, whoever sent it
    assert "LADO" in reply.until_then[-1]
    assert not reply.offers_report
    assert reply.report == ""
    assert reply.plain_text().startswith("Please tell the headteacher now.")


def test_the_headteacher_asking_about_an_adult_is_pointed_to_the_lado(school: School) -> None:
    reply = safeguarding_reply(concern(ConcernKind.ADULT), school, asker=school.person("dana"))
    assert "As headteacher" in reply.first
    assert "LADO" in reply.first
    assert "Lee Brown can help" in reply.first
    assert not any("reach" in step for step in reply.until_then)


def test_a_worry_about_an_adult_without_a_school_still_names_the_roles() -> None:
    text = safeguarding_reply(concern(ConcernKind.ADULT), None).plain_text()
    assert "your headteacher today" in text
    assert "designated safeguarding lead" in text
    assert "not an answer from the policy" in text
