"""What the bot says when no dialog is under way: the menu, and a person's own reports."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dialogs.services.cases.service import STATUS_FOR_REPORTER, Status
from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind
from dialogs.services.school.schools import Person, Role, School
from storage.models import Case

START_REPORT = "report_abuse"
MY_REPORTS = "my_reports"
ASK_POLICY = "ask_policy"
REQUEST_POST = "request_post"
APPROVALS = "approvals"
LOG_COMMENT = "log_comment"
COMMENTS = "comments"
MEDIA_ENQUIRY = "media_enquiry"
WEBSITE_BLOCK = "website_block"
COLLEAGUE_MISUSE = "colleague_misuse"
REQUEST_ACCOUNT = "request_account"

_REPORT_WORDS = re.compile(
    r"\b(report|bull(y|ied|ying)|abuse|abusive|harass\w*|troll\w*|threat\w*)\b"
)
# Only whole phrases: "can I post photos?" is a question about the policy, not a request.
_POST_WORDS = frozenset(
    {"post", "new post", "request a post", "request post", "request approval", "post approval"}
)
_APPROVAL_WORDS = frozenset({"approvals", "my posts", "posts", "waiting for approval"})
MENU_VALUES = frozenset(
    {
        START_REPORT,
        MY_REPORTS,
        ASK_POLICY,
        REQUEST_POST,
        APPROVALS,
        LOG_COMMENT,
        COMMENTS,
        MEDIA_ENQUIRY,
        WEBSITE_BLOCK,
        COLLEAGUE_MISUSE,
        REQUEST_ACCOUNT,
    }
)
_ACCOUNT_WORDS = frozenset(
    {"new account", "new official account", "request an account", "open an account"}
)
_ASKING = re.compile(
    r"\?\s*$|^(can|could|may|might|should|shall|am|are|is|do|does|what|how|when|who|why)\b"
)
_JOURNALIST_WORDS = re.compile(r"\b(journalists?|reporters?|newspapers?|the press|media enquiry)\b")
_WEBSITE_START = frozenset({"website", "block a website", "block a site", "website to block"})
_WEBSITE_WORDS = re.compile(
    r"\bblock\w*\b.*\b(site|website|web page|page)\b|\binappropriate (website|site|web page)\b"
)
_MISUSE_WORDS = re.compile(
    r"\bcolleagues?'?s?\b.*\b(misus\w*|inappropriate\w*|posted|posting|posts)\b"
    r"|\breport(ing)? (a )?colleague\b"
)
_LOG_COMMENT_WORDS = frozenset({"comment", "log a comment", "log comment", "new comment"})
_COMMENTS_WORDS = frozenset({"comments", "open comments", "comments waiting"})
_ASK_WORDS = frozenset({"ask", "ask a question", "question", "policy", "the policy"})
_STATUS_WORDS = re.compile(r"\b(my reports?|status|my cases?)\b")


# A question about putting something on the school's own accounts: the policy's answer, and
# an offer to ask for approval of the post.
_POSTING = re.compile(
    r"\b(post|posting|share|sharing|upload|uploading|put|publish)\b.*"
    r"\b(photos?|pictures?|pics?|videos?|images?|post|class|pupils?|children|kids|event|trip)\b"
)


def about_posting(question: str) -> bool:
    return _POSTING.search(question.casefold()) is not None


def post_offer() -> Message:
    return Message(
        kind=MessageKind.INFO,
        text="If it is for one of the school's official accounts, I can send your post to "
        "the approvers, with the consent and name checks the policy asks for.",
        buttons=(Button(value=REQUEST_POST, label="Ask for approval of a post"),),
        expects=InputKind.CHOICE,
    )


def intent(text: str) -> str | None:
    """Which menu item a typed message asks for, if any."""
    key = text.casefold().strip()
    if key in MENU_VALUES:
        return key
    if key in _LOG_COMMENT_WORDS:
        return LOG_COMMENT
    if key in _ACCOUNT_WORDS:
        return REQUEST_ACCOUNT
    if key in _WEBSITE_START:
        return WEBSITE_BLOCK
    if not _ASKING.search(key):
        # "A journalist rang me" starts the conversation; "can I talk to the press?" is a
        # question for the policy.
        if _JOURNALIST_WORDS.search(key):
            return MEDIA_ENQUIRY
        if _WEBSITE_WORDS.search(key):
            return WEBSITE_BLOCK
        if _MISUSE_WORDS.search(key):
            return COLLEAGUE_MISUSE
    if key in _COMMENTS_WORDS:
        return COMMENTS
    if key in _POST_WORDS:
        return REQUEST_POST
    if key in _APPROVAL_WORDS:
        return APPROVALS
    if key in _ASK_WORDS:
        return ASK_POLICY
    if _STATUS_WORDS.search(key):
        return MY_REPORTS
    if _REPORT_WORDS.search(key):
        return START_REPORT
    return None


def menu_buttons(person: Person) -> tuple[Button, ...]:
    """What a person can start: the same in the chat menu and on Slack's App Home."""
    return (
        Button(value=START_REPORT, label="Report cyberbullying or online abuse", style="primary"),
        Button(value=ASK_POLICY, label="Ask about the social media policy"),
        Button(value=REQUEST_POST, label="Ask for approval of a post"),
        Button(value=MY_REPORTS, label="See my reports"),
        Button(value=COLLEAGUE_MISUSE, label="Report a colleague's misuse, confidentially"),
        Button(value=MEDIA_ENQUIRY, label="A journalist contacted me"),
        Button(value=WEBSITE_BLOCK, label="Report a website to block"),
        Button(value=REQUEST_ACCOUNT, label="Ask for a new official account"),
        *(
            (Button(value=APPROVALS, label="Posts waiting for approval"),)
            if person.has_any(frozenset({Role.APPROVER, Role.MODERATOR}))
            else ()
        ),
        *(
            (
                Button(value=LOG_COMMENT, label="Log a comment on an official account"),
                Button(value=COMMENTS, label="Comments waiting for an answer"),
            )
            if Role.MODERATOR in person.roles
            else ()
        ),
    )


def menu(person: Person, school: School, *, greeting: bool = True) -> Message:
    first = person.name.split()[0]
    text = (
        f"Hello {first}. I'm the social media policy assistant for {school.name}. "
        if greeting
        else ""
    ) + "What would you like to do?"
    return Message(
        kind=MessageKind.MENU,
        text=text,
        buttons=menu_buttons(person),
        expects=InputKind.CHOICE,
    )


def my_reports(cases: Sequence[Case], school: School) -> Message:
    if not cases:
        return Message(kind=MessageKind.STATUS, text="You haven't made any reports.")
    facts = tuple(
        Fact(
            label=case.reference,
            value=f"{STATUS_FOR_REPORTER[Status(case.status)]} (sent "
            f"{case.created_at.astimezone(school.tz):%d/%m/%Y %H:%M})",
        )
        for case in cases
    )
    return Message(
        kind=MessageKind.STATUS,
        title="Your reports",
        text="Here are the reports you have made and where each has got to.",
        facts=facts,
    )
