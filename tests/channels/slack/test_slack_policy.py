"""Asking the social media policy in Slack, and the policy owner answering what it does not say.

Everything goes through signed requests into the real aiohttp app and Bolt, against FakeSlack;
the assertions are on what people would see (the blocks and fallback text the bot posted) and on
what was kept (the database). The demo school's configuration names the bundled sample policy,
which the first question imports.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from dialogs.services.policy.documents import read_policy_document
from storage.models import Conversation, PolicyQuestion
from tests.channels.slack.harness import SlackHarness, buttons_of, dm, text_of_calls
from tests.conftest import Clock
from tests.fakes.slack_api import Call

SAMPLE = Path(__file__).resolve().parents[3] / "bot" / "sample" / "policy.md"

SAM, DANA, LEE = "U0SAM", "U0DANA", "U0LEE"
FRIEND_REQUEST = "Can I accept a friend request from a pupil?"
UNCOVERED = "What is the dress code for the staff Christmas party?"
DANAS_ANSWER = "Smart casual & no fancy dress; see the staff handbook, section 4."
# As Slack sends it: Sam typed a literal "&" and "<!channel>" (entity-encoded by Slack) and used
# real @-mentions of Dana and of @here (which arrive as <@U0DANA> and <!here>).
HOSTILE_AS_SENT = (
    "Can I wear fancy dress &amp; tell &lt;!channel&gt; or <@U0DANA> <!here> "
    "at the staff Christmas party?"
)


# -- helpers ---------------------------------------------------------------------------------


async def expect(
    slack: SlackHarness,
    action: Awaitable[Any],
    needle: str,
    *,
    user: str = SAM,
    timeout: float = 5.0,  # noqa: ASYNC109 - the failure says what was posted instead
) -> list[Call]:
    """Do something and wait until the person's DM shows `needle`; returns the new posts."""
    before = len(slack.posts_to(dm(user)))
    result = await action
    if isinstance(result, int):
        assert result == 200
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        posts = slack.posts_to(dm(user))[before:]
        if needle in seen(posts):
            return posts
        if loop.time() > deadline:
            raise AssertionError(f"expected {needle!r} in {dm(user)}, saw: {seen(posts)}")
        await asyncio.sleep(0.01)


def seen(posts: list[Call]) -> str:
    """Everything a person could read in some posts: the notification text and the blocks."""
    return "\n".join(str(p.body.get("text") or "") + "\n" + text_of_calls([p]) for p in posts)


def post_with(posts: list[Call], label: str) -> Call:
    """The newest post with a button labelled `label`."""
    for post in reversed(posts):
        if any(b["text"]["text"] == label for b in buttons_of(post)):
            return post
    raise AssertionError(f"no {label!r} button in {seen(posts)}")


def labels(post: Call) -> list[str]:
    return [b["text"]["text"] for b in buttons_of(post)]


def value_of(post: Call, label: str) -> str:
    value = next(b["value"] for b in buttons_of(post) if b["text"]["text"] == label)
    assert isinstance(value, str)
    return value


def press(slack: SlackHarness, user: str, post: Call, label: str) -> Awaitable[int]:
    """Press a button on a message the bot posted, sending that message back as Slack does."""
    message = {
        "ts": "1700000000.000100",
        "text": post.body.get("text"),
        "blocks": post.body["blocks"],
    }
    return slack.click(user, value_of(post, label), label=label, message=message)


def fields(post: Call) -> list[dict[str, Any]]:
    return [f for block in post.body["blocks"] for f in block.get("fields") or []]


async def questions(slack: SlackHarness) -> list[PolicyQuestion]:
    async with slack.runtime.db.session() as session:
        result = await session.execute(select(PolicyQuestion).order_by(col(PolicyQuestion.id)))
        return list(result.scalars().all())


async def referred_to_dana(slack: SlackHarness, question: str) -> Call:
    """Sam asks something the policy does not answer and passes it on; returns Dana's alert."""
    posts = await expect(slack, slack.say(SAM, question), "The policy doesn't say")
    offer = post_with(posts, "Yes, pass it on")
    await expect(slack, press(slack, SAM, offer, "Yes, pass it on"), "sending your question")
    result = await slack.deliver()
    assert (result.delivered, result.failed) == (1, 0)
    (alert,) = slack.posts_to(dm(DANA))
    return alert


# -- 1. a question in their own words -------------------------------------------------------


async def test_a_question_in_a_dm_is_answered_with_the_clause_its_citation_and_the_owner(
    slack: SlackHarness,
) -> None:
    posts = await expect(slack, slack.say(SAM, FRIEND_REQUEST), "Was this helpful?")
    answer = post_with(posts, "Yes, that helped")
    shown = seen([answer])
    assert "“Staff must not accept or send friend or follower requests to current pupils" in shown
    assert "Media enquiries" not in shown  # the clause, not the whole policy
    header = answer.body["blocks"][0]
    assert header["type"] == "header"
    assert "2.1" in header["text"]["text"]
    where = next(f["text"] for f in fields(answer) if f["text"].startswith("*Where*"))
    assert "2.1" in where
    assert "*Questions about it*\nDana Okafor" in [f["text"] for f in fields(answer)]
    assert all(f["verbatim"] is True for f in fields(answer))
    assert labels(answer) == ["Yes, that helped", "No, it didn't"]
    (row,) = await questions(slack)
    assert value_of(answer, "Yes, that helped") == f"policy:helpful:{row.id}"
    assert value_of(answer, "No, it didn't") == f"policy:unhelpful:{row.id}"
    # The notification text says what the answer is too, not just "new message".
    assert "2.1" in str(answer.body["text"])
    assert "friend or follower" in str(answer.body["text"])
    assert (row.person_id, row.channel, row.question, row.confident) == (
        "sam",
        "slack",
        FRIEND_REQUEST,
        True,
    )

    thanks = await expect(slack, press(slack, SAM, answer, "Yes, that helped"), "noted that it")
    assert "Thank you" in seen(thanks)
    (row,) = await questions(slack)
    assert row.feedback == "helpful"


async def test_mentions_and_markup_in_a_question_stay_plain_words_for_the_owner(
    slack: SlackHarness,
) -> None:
    alert = await referred_to_dana(slack, HOSTILE_AS_SENT)
    (row,) = await questions(slack)
    assert row.question == (
        "Can I wear fancy dress & tell <!channel> or @U0DANA @here at the staff Christmas party?"
    )
    wire = json.dumps(alert.body)
    # Nothing in what Dana was sent can ping a channel, a person or @here...
    for live in ("<!channel>", "<!here>", "<@U0DANA>", "<!", "<@"):
        assert live not in wire
    # ...and Sam's words still read as he typed them (Slack shows the entities as characters).
    question = next(f for f in fields(alert) if f["text"].startswith("*Question*"))
    assert question == {
        "type": "mrkdwn",
        "verbatim": True,
        "text": "*Question*\nCan I wear fancy dress &amp; tell &lt;!channel&gt; or @U0DANA "
        "@here at the staff Christmas party?",
    }
    assert all(
        t.get("verbatim") is True
        for b in alert.body["blocks"]
        for t in [b.get("text") or {}]
        if t.get("type") == "mrkdwn"
    )


# -- 2. unhelpful, passed on, answered by the owner ------------------------------------------


async def test_an_unhelpful_answer_is_passed_to_the_owner_whose_answer_comes_back(
    slack: SlackHarness,
) -> None:
    posts = await expect(slack, slack.say(SAM, FRIEND_REQUEST), "Was this helpful?")
    answer = post_with(posts, "No, it didn't")
    offered = await expect(slack, press(slack, SAM, answer, "No, it didn't"), "Sorry it didn't")
    offer = post_with(offered, "Yes, pass it on")
    assert "pass your question to Dana Okafor" in seen([offer])
    assert labels(offer) == ["Yes, pass it on", "No, thanks"]
    (row,) = await questions(slack)
    assert (row.feedback, row.referred_at) == ("unhelpful", None)
    # The pressed answer keeps its words but loses its buttons.
    update = slack.fake.calls_to("chat.update")[-1]
    assert update.body["channel"] == dm(SAM)
    assert "You chose: No, it didn't" in text_of_calls([update])
    assert "friend or follower" in text_of_calls([update])
    assert buttons_of(update) == []

    done = await expect(slack, press(slack, SAM, offer, "Yes, pass it on"), "sending your")
    assert "Dana Okafor" in seen(done)
    assert slack.posts_to(dm(DANA)) == []  # the outbox delivers it, not the turn
    assert (await slack.deliver()).failed == 0
    (alert,) = slack.posts_to(dm(DANA))
    alert_text = seen([alert])
    assert f"A question about the policy (Q-{row.id})" in alert_text
    assert "Sam Patel asked" in alert_text
    assert "2.1" in alert_text
    assert FRIEND_REQUEST in alert_text
    assert labels(alert) == ["Answer it"]

    started = await expect(
        slack, press(slack, DANA, alert, "Answer it"), "What is your answer?", user=DANA
    )
    assert FRIEND_REQUEST in seen(started)
    summary = await expect(
        slack, slack.say(DANA, DANAS_ANSWER.replace("&", "&amp;")), "Send it", user=DANA
    )
    assert DANAS_ANSWER.replace("&", "&amp;") in seen(summary)  # shown escaped, read as typed
    sent = await expect(
        slack,
        press(slack, DANA, post_with(summary, "Send it"), "Send it"),
        "Answer sent",
        user=DANA,
    )
    assert "Sam Patel" in seen(sent)
    assert "An answer to your policy question" not in seen(slack.posts_to(dm(SAM)))

    assert (await slack.deliver()).failed == 0
    told = seen(slack.posts_to(dm(SAM))[-1:])
    assert "An answer to your policy question" in told
    assert "Dana Okafor has answered" in told
    assert DANAS_ANSWER.replace("&", "&amp;") in told
    assert FRIEND_REQUEST in told
    (row,) = await questions(slack)
    assert (row.answer, row.answered_by) == (DANAS_ANSWER, "dana")


# -- 3. the slash command --------------------------------------------------------------------


async def test_policy_ask_slash_command_answers_in_the_dm(slack: SlackHarness) -> None:
    acked: list[tuple[int, str]] = []

    async def command() -> None:
        acked.append(await slack.command(SAM, "ask who do I tell if a journalist rings me?"))

    posts = await expect(slack, command(), "Was this helpful?")
    assert acked == [(200, "I've replied in our direct messages.")]
    answer = post_with(posts, "Yes, that helped")
    assert "journalist must not comment" in seen([answer])
    assert any("5.1" in f["text"] for f in fields(answer) if f["text"].startswith("*Where*"))
    assert slack.posts_to("C123") == []  # nothing in the channel the command was typed in
    (row,) = await questions(slack)
    assert row.question == "who do I tell if a journalist rings me?"


# -- 4. what the policy does not say -----------------------------------------------------------


async def test_a_question_the_policy_does_not_answer_is_said_plainly_with_an_offer(
    slack: SlackHarness,
) -> None:
    posts = await expect(slack, slack.say(SAM, UNCOVERED), "The policy doesn't say")
    offer = post_with(posts, "Yes, pass it on")
    assert labels(offer) == ["Yes, pass it on", "No, thanks"]
    shown = seen([offer])
    assert "Dana Okafor" in shown
    assert "I'd rather not guess" in shown
    assert "“" not in shown  # nothing quoted as if it answered
    (row,) = await questions(slack)
    assert row.confident is False
    declined = await expect(slack, press(slack, SAM, offer, "No, thanks"), "haven't passed it on")
    assert "Dana Okafor" in seen(declined)
    await slack.deliver()
    assert slack.posts_to(dm(DANA)) == []


CLOSE = "Can a parent helper take photos on the school trip?"
UNRELATED = "Where can staff park?"
# Clause 3.4 of the sample policy as a careless (or hostile) copy might have it: Slack's control
# characters in the policy's own words must stay words.
HOSTILE_34 = (
    "3.4 Photos for official accounts must be taken on school devices & sent to <!channel> or "
    "<https://evil.example|the office>, and deleted from them once uploaded."
)


async def import_sample_with(slack: SlackHarness, clock: Clock, old: str, new: str) -> None:
    """Import the sample policy, with one clause replaced, as the version in force."""
    school = slack.settings.directory.school("oakfield")
    assert school is not None
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    data = text.replace(old, new).encode()
    async with slack.runtime.db.session() as session:
        await slack.runtime.services(session, clock()).policies.import_document(
            school,
            read_policy_document(data, "policy.md"),
            data=data,
            source_name="policy.md",
            imported_by="dana",
            effective_from=None,
        )


async def test_an_unsure_answer_shows_the_clauses_that_may_help_as_not_an_answer(
    slack: SlackHarness, clock: Clock
) -> None:
    old = (
        "3.4 Photos for official accounts must be taken on school devices and deleted from "
        "them once\nuploaded."
    )
    await import_sample_with(slack, clock, old, HOSTILE_34)
    posts = await expect(slack, slack.say(SAM, CLOSE), "Yes, pass it on")
    offer = post_with(posts, "Yes, pass it on")
    [clauses] = [p for p in posts if p is not offer]
    assert buttons_of(clauses) == []  # nothing to agree with, as if it answered
    header = clauses.body["blocks"][0]
    assert header["text"]["text"] == "The policy doesn't say exactly"
    shown = seen([clauses])
    assert "may help, but they are not an answer" in shown
    assert "3 Official school accounts \u203a 3.4*" in shown  # each clause under its citation
    assert "3 Official school accounts \u203a 3.3*" in shown
    assert "\u201cImages of pupils may only be published" in shown
    # The policy's words are escaped like anyone's: no mention of the channel, no disguised link.
    assert "devices &amp; sent to &lt;!channel&gt; or &lt;https://evil.example|the office&gt;" in (
        shown
    )
    assert "<!channel>" not in json.dumps([p.body for p in posts])
    assert all(
        block["text"].get("verbatim") is True
        for block in clauses.body["blocks"]
        if block["type"] == "section" and "text" in block
    )
    assert labels(offer) == ["Yes, pass it on", "No, thanks"]
    assert "Dana Okafor" in seen([offer])
    await expect(slack, press(slack, SAM, offer, "Yes, pass it on"), "sending your question")
    result = await slack.deliver()
    assert (result.delivered, result.failed) == (1, 0)
    (alert,) = slack.posts_to(dm(DANA))
    assert CLOSE in seen([alert])
    (row,) = await questions(slack)
    assert (row.confident, row.referred_at is not None) == (False, True)


async def test_an_unrelated_question_is_shown_no_clause(slack: SlackHarness) -> None:
    posts = await expect(slack, slack.say(SAM, UNRELATED), "The policy doesn't say")
    shown = seen(posts)
    assert "\u201c" not in shown
    assert "may help" not in shown
    assert labels(post_with(posts, "Yes, pass it on")) == ["Yes, pass it on", "No, thanks"]


# -- 5. only the owner answers -----------------------------------------------------------------


async def test_someone_who_is_not_the_owner_cannot_answer_and_nothing_changes(
    slack: SlackHarness,
) -> None:
    alert = await referred_to_dana(slack, UNCOVERED)
    refused = await expect(
        slack, press(slack, LEE, alert, "Answer it"), "Only the policy owner", user=LEE
    )
    assert "Dana Okafor" in seen(refused)
    assert "Nothing has been changed" in seen(refused)
    assert "What is your answer?" not in seen(refused)
    (row,) = await questions(slack)
    typed = await expect(slack, slack.say(LEE, f"answer Q-{row.id}"), "Only the", user=LEE)
    assert "What is your answer?" not in seen(typed)
    async with slack.runtime.db.session() as session:
        lees = (
            (await session.execute(select(Conversation).where(Conversation.person_id == "lee")))
            .scalars()
            .all()
        )
    assert all(c.state is None for c in lees)  # no answer under way for Lee
    (row,) = await questions(slack)
    assert (row.answer, row.answered_by) == (None, None)
    assert (await slack.deliver()).delivered == 0  # Sam is told nothing
    # Dana still can.
    await expect(slack, press(slack, DANA, alert, "Answer it"), "What is your answer?", user=DANA)


# -- 6. the App Home -------------------------------------------------------------------------


async def test_the_app_home_button_asks_what_they_would_like_to_know(slack: SlackHarness) -> None:
    assert await slack.open_home(SAM) == 200
    (published,) = await slack.fake.wait_for("views.publish")
    home_buttons = [
        element
        for block in published.body["view"]["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
    ]
    ask = next(b for b in home_buttons if b["text"]["text"] == "Ask about the social media policy")
    assert ask["value"] == "ask_policy"
    posts = await expect(
        slack, slack.click_in_view(SAM, ask["value"], label=ask["text"]["text"]), "What would you"
    )
    assert "What would you like to know about the social media policy?" in seen(posts)
    answered = await expect(slack, slack.say(SAM, "who do I tell if a journalist rings me?"), "5.1")
    assert "journalist must not comment" in seen(answered)


# -- bugs found while writing these tests --------------------------------------------------------


async def test_the_owner_busy_with_a_report_is_told_how_to_answer_afterwards(
    slack: SlackHarness,
) -> None:
    alert = await referred_to_dana(slack, UNCOVERED)
    await expect(slack, slack.say(DANA, "report"), "Who is being targeted?", user=DANA)
    busy = await expect(slack, press(slack, DANA, alert, "Answer it"), "middle of", user=DANA)
    [row] = await questions(slack)
    assert f"type answer Q-{row.id}" in seen(busy)
    await expect(slack, slack.say(DANA, "cancel"), "Are you sure", user=DANA)
    await expect(slack, slack.say(DANA, "yes"), "Cancelled", user=DANA)
    await expect(slack, slack.say(DANA, f"answer Q-{row.id}"), "What is your answer", user=DANA)


# -- 7. a worry about a child ------------------------------------------------------------------

ONLINE_ABUSE = "a year 7 boy is getting nasty messages from other kids on whatsapp"
NUDES = "one of my yr 10s told me her nudes are being shared round a group chat"


async def test_a_worry_about_a_child_shows_the_lead_by_name_and_never_a_clause(
    slack: SlackHarness,
) -> None:
    # Through the slash command: a child's image, so nothing to press and no report offered.
    acked: list[tuple[int, str]] = []

    async def command() -> None:
        acked.append(await slack.command(SAM, f"ask {NUDES}"))

    posts = await expect(slack, command(), "not an answer from the policy")
    assert acked == [(200, "I've replied in our direct messages.")]
    shown = seen(posts)
    assert "designated safeguarding lead" in shown
    assert "Dana Okafor, phone 01632 960001" in shown
    assert "Lee Brown" in shown
    assert "999" in shown
    assert "screenshot" in shown
    assert "\u201c" not in shown  # no quote from the policy
    assert all(buttons_of(p) == [] for p in posts)
    assert slack.posts_to("C123") == []

    # Typed in the DM: online abuse of a pupil, with the report offered as a button.
    posts = await expect(slack, slack.say(SAM, ONLINE_ABUSE), "Report online abuse")
    assert "Dana Okafor" in seen(posts)
    assert "\u201c" not in seen(posts)  # nor any clause that "may help"
    assert "may help" not in seen(posts)
    offer = post_with(posts, "Report online abuse")
    assert labels(offer) == ["Report online abuse"]
    await expect(slack, press(slack, SAM, offer, "Report online abuse"), "Who is being targeted?")
    assert await questions(slack) == []


async def test_a_question_that_could_be_a_worry_names_the_lead_and_offers_no_clause(
    slack: SlackHarness,
) -> None:
    question = (
        "a pupil in my form seems really scared, what does the policy say about messaging her?"
    )
    posts = await expect(slack, slack.say(SAM, question), "If this is about a child's safety")
    shown = seen(posts)
    assert "designated safeguarding lead (Dana Okafor or Lee Brown)" in shown
    assert "may help" not in shown
    assert "\u201c" not in shown  # no clause of the policy
