"""Asking the social media policy in Teams, and the policy owner answering what it does not say.

Everything goes through the real app: signed activities are posted to /api/messages, card buttons
are pressed as Action.Execute invokes (or their Action.Submit fallbacks), and replies, proactive
messages and cards reach the fake Bot Connector, where the tests look at what people would see.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from bot.channels.teams import cards
from storage.models import Conversation, PolicyQuestion
from tests.channels.teams.harness import (
    DANA,
    LEE,
    SAM,
    TeamsHarness,
    TeamsUser,
    action_titled,
    actions,
    card_of,
    runs,
    text_of,
)

FRIEND_REQUEST = "Can I accept a friend request from a pupil?"
UNCOVERED = "What is the dress code for the staff Christmas party?"
HOSTILE = (
    "Can I share [click](https://evil.example) **bold** <at>everyone</at> "
    "at the staff Christmas party?"
)
DANAS_ANSWER = "Smart casual; see the staff handbook, section 4."
CARD = "application/vnd.microsoft.card.adaptive"


# -- helpers ---------------------------------------------------------------------------------


async def questions(teams: TeamsHarness) -> list[PolicyQuestion]:
    async with teams.runtime.db.session() as session:
        result = await session.execute(select(PolicyQuestion).order_by(col(PolicyQuestion.id)))
        return list(result.scalars().all())


async def ask(teams: TeamsHarness, user: TeamsUser, text: str) -> list[dict[str, Any]]:
    return await teams.replies(user, teams.say(user, text))


def with_button(activities: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """The newest card among `activities` with a button titled `title`."""
    for activity in reversed(activities):
        if any(a.get("title") == title for a in actions(card_of(activity))):
            return card_of(activity)
    raise AssertionError(f"no {title!r} button in {text_of(activities)}")


def titles(card: dict[str, Any]) -> list[str]:
    return [str(a["title"]) for a in actions(card)]


async def press(teams: TeamsHarness, user: TeamsUser, title: str) -> list[dict[str, Any]]:
    """Press the newest button with this title in the person's chat; returns the replies."""
    return await teams.replies(user, teams.press(user, title))


def answered(invoke_body: Any) -> str:
    """The card a pressed one is replaced with: nothing left to press; returns its text."""
    assert invoke_body["statusCode"] == 200
    assert invoke_body["type"] == CARD
    assert actions(invoke_body["value"]) == []
    assert "Action.Submit" not in json.dumps(invoke_body["value"])
    return "\n".join(runs(invoke_body["value"]))


def places_of(node: Any, needle: str, kind: str | None = None) -> list[tuple[str, str]]:
    """(type of the element, key) of every string in a card's JSON that contains `needle`."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and needle in value:
                found.append((str(node.get("type", kind)), key))
            else:
                found.extend(places_of(value, needle, str(node.get("type", kind))))
    elif isinstance(node, list):
        for item in node:
            found.extend(places_of(item, needle, kind))
    return found


def line_starting(card: dict[str, Any], label: str) -> str:
    """A fact as the person reads it ("Questions about it: Dana Okafor"): the runs of the block
    whose first run is the label."""
    for block in card["body"]:
        inlines = block.get("inlines") or []
        if inlines and inlines[0].get("text") == f"{label}: ":
            return "".join(str(run["text"]) for run in inlines)
    raise AssertionError(f"no {label!r} line in {runs(card)}")


async def referred_to_dana(teams: TeamsHarness, question: str) -> dict[str, Any]:
    """Dana has talked to the bot; Sam asks something the policy does not answer and passes it
    on; the outbox is delivered. Returns the activity that reached Dana's chat."""
    await ask(teams, DANA, "hello")
    offered = await ask(teams, SAM, question)
    assert "The policy doesn't say" in text_of(offered)
    passed = await press(teams, SAM, "Yes, pass it on")
    assert "sending your question to Dana Okafor" in text_of(passed)
    before = len(teams.sent_to(DANA.chat))
    result = await teams.deliver()
    assert (result.delivered, result.failed) == (1, 0)
    [alert] = teams.sent_to(DANA.chat)[before:]
    return alert


# -- 1. a question in their own words -------------------------------------------------------


async def test_a_question_is_answered_with_the_clause_its_citation_and_the_owner(
    teams: TeamsHarness,
) -> None:
    replies = await ask(teams, SAM, FRIEND_REQUEST)
    assert "Was this helpful?" in text_of(replies)
    answer = with_button(replies, "Yes, that helped")
    quote = next(r for r in runs(answer) if "friend or follower requests" in r)
    assert quote.startswith("“Staff must not accept or send friend or follower requests")
    # The quote, like everything from a Message, is only ever shown as plain TextRun text (the
    # buttons carry it in their data, for the card that replaces this one once pressed).
    places = places_of(answer, "friend or follower")
    assert {p for p in places if not p[0].startswith("Action.")} == {("TextRun", "text")}
    assert '"TextBlock"' not in json.dumps(answer)
    assert '"FactSet"' not in json.dumps(answer)
    assert "msteams" not in answer
    assert "2.1" in runs(answer)[0]  # the heading
    assert "2.1" in line_starting(answer, "Where")
    assert line_starting(answer, "Questions about it") == "Questions about it: Dana Okafor"
    assert "Media enquiries" not in text_of(replies)

    [row] = await questions(teams)
    assert titles(answer) == ["Yes, that helped", "No, it didn't"]
    for title, action in (("Yes, that helped", "helpful"), ("No, it didn't", "unhelpful")):
        button = action_titled(answer, title)
        assert (button["type"], button["verb"]) == ("Action.Execute", cards.ANSWER)
        assert button["data"]["value"] == f"policy:{action}:{row.id}"
        fallback = button["fallback"]
        assert fallback["type"] == "Action.Submit"
        assert fallback["data"]["value"] == button["data"]["value"]
    assert (row.person_id, row.channel, row.confident) == ("sam", "teams", True)

    # An older client presses through the Action.Submit fallback: a message carrying the data.
    fallback = action_titled(answer, "Yes, that helped")["fallback"]
    thanks = await teams.replies(SAM, teams.post(teams.message(SAM, "", value=fallback["data"])))
    assert "noted that it helped" in text_of(thanks)
    [row] = await questions(teams)
    assert row.feedback == "helpful"


async def test_markdown_and_mentions_in_a_question_reach_the_owner_as_plain_words(
    teams: TeamsHarness,
) -> None:
    alert = await referred_to_dana(teams, HOSTILE)
    card = card_of(alert)
    assert line_starting(card, "Question") == f"Question: {HOSTILE}"
    assert HOSTILE in runs(card)
    for needle in ("evil.example", "**bold**", "<at>everyone</at>"):
        places = places_of(card, needle)
        assert places
        assert all(
            place == ("TextRun", "text") or place[0].startswith("Action.") for place in places
        ), places
    assert '"TextBlock"' not in json.dumps(card)
    assert "msteams" not in card  # no mention entities that could make <at> a mention
    assert not alert.get("entities")
    assert "<at>" not in str(alert.get("text") or "")


# -- 2. unhelpful, passed on, answered by the owner ------------------------------------------


async def test_an_unhelpful_answer_is_passed_to_the_owner_whose_answer_comes_back(
    teams: TeamsHarness,
) -> None:
    await ask(teams, DANA, "hello")
    await ask(teams, SAM, FRIEND_REQUEST)
    before = len(teams.sent_to(SAM.chat))
    replaced = answered(await teams.press(SAM, "No, it didn't"))
    assert "You chose: No, it didn't" in replaced
    assert "friend or follower" in replaced  # the quote stays readable
    offer = teams.sent_to(SAM.chat)[before:]
    assert "Sorry it didn't help" in text_of(offer)
    assert titles(with_button(offer, "Yes, pass it on")) == ["Yes, pass it on", "No, thanks"]
    [row] = await questions(teams)
    assert (row.feedback, row.referred_at) == ("unhelpful", None)

    passed = await press(teams, SAM, "Yes, pass it on")
    assert "sending your question to Dana Okafor" in text_of(passed)
    dana_before = len(teams.sent_to(DANA.chat))
    assert (await teams.deliver()).failed == 0
    [alert] = teams.sent_to(DANA.chat)[dana_before:]
    alert_text = text_of([alert])
    assert f"A question about the policy (Q-{row.id})" in alert_text
    assert "Sam Patel asked" in alert_text
    assert FRIEND_REQUEST in alert_text
    assert titles(card_of(alert)) == ["Answer it"]
    assert action_titled(card_of(alert), "Answer it")["data"]["value"] == f"policy:answer:{row.id}"

    started = await press(teams, DANA, "Answer it")
    assert "What is your answer?" in text_of(started)
    assert FRIEND_REQUEST in text_of(started)
    summary = await ask(teams, DANA, DANAS_ANSWER)
    assert DANAS_ANSWER in text_of(summary)
    sent = await press(teams, DANA, "Send it")
    assert f"Answer sent (Q-{row.id})" in text_of(sent)
    assert "Sam Patel" in text_of(sent)

    sam_before = len(teams.sent_to(SAM.chat))
    assert (await teams.deliver()).failed == 0
    told = text_of(teams.sent_to(SAM.chat)[sam_before:])
    assert "An answer to your policy question" in told
    assert "Dana Okafor has answered" in told
    [card] = [card_of(a) for a in teams.sent_to(SAM.chat)[sam_before:]]
    assert line_starting(card, "Answer") == f"Answer: {DANAS_ANSWER}"
    assert line_starting(card, "You asked") == f"You asked: {FRIEND_REQUEST}"
    [row] = await questions(teams)
    assert (row.answer, row.answered_by) == (DANAS_ANSWER, "dana")


# -- 4. what the policy does not say -----------------------------------------------------------


async def test_a_question_the_policy_does_not_answer_is_said_plainly_with_an_offer(
    teams: TeamsHarness,
) -> None:
    replies = await ask(teams, SAM, UNCOVERED)
    offer = with_button(replies, "Yes, pass it on")
    assert runs(offer)[0] == "The policy doesn't say"
    assert titles(offer) == ["Yes, pass it on", "No, thanks"]
    assert "Dana Okafor" in text_of(replies)
    assert "“" not in text_of(replies)  # nothing quoted as if it answered
    assert all(a["fallback"]["type"] == "Action.Submit" for a in actions(offer))
    before = len(teams.sent_to(SAM.chat))
    assert "You chose: No, thanks" in answered(await teams.press(SAM, "No, thanks"))
    assert "haven't passed it on" in text_of(teams.sent_to(SAM.chat)[before:])
    [row] = await questions(teams)
    assert (row.confident, row.referred_at) == (False, None)
    assert (await teams.deliver()).delivered == 0


CLOSE = "Can a parent helper take photos on the school trip?"
UNRELATED = "Where can staff park?"
PHOTOS_34 = "3 Official school accounts \u203a 3.4"
IMAGES_33 = "3 Official school accounts \u203a 3.3"


async def test_an_unsure_answer_shows_the_clauses_that_may_help_as_not_an_answer(
    teams: TeamsHarness,
) -> None:
    await ask(teams, DANA, "hello")
    replies = await ask(teams, SAM, CLOSE)
    offer = with_button(replies, "Yes, pass it on")
    [clauses] = [card_of(a) for a in replies if a.get("attachments") and card_of(a) != offer]
    assert actions(clauses) == []  # nothing to agree with, as if it answered
    assert runs(clauses)[0] == "The policy doesn't say exactly"
    assert "may help, but they are not an answer" in text_of(replies)
    photos = line_starting(clauses, PHOTOS_34)
    assert photos.startswith(f"{PHOTOS_34}: \u201cPhotos for official accounts")
    assert line_starting(clauses, IMAGES_33).startswith(f"{IMAGES_33}: \u201cImages of pupils")
    # The policy's words, like anyone's, are only ever plain TextRun text.
    assert set(places_of(clauses, "Photos for official")) == {("TextRun", "text")}
    assert '"TextBlock"' not in json.dumps(clauses)
    assert titles(offer) == ["Yes, pass it on", "No, thanks"]
    assert "Dana Okafor" in "\n".join(runs(offer))
    before = len(teams.sent_to(SAM.chat))
    assert "You chose: Yes, pass it on" in answered(await teams.press(SAM, "Yes, pass it on"))
    assert "sending your question to Dana Okafor" in text_of(teams.sent_to(SAM.chat)[before:])
    dana_before = len(teams.sent_to(DANA.chat))
    assert (await teams.deliver()).delivered == 1
    [alert] = teams.sent_to(DANA.chat)[dana_before:]
    assert CLOSE in text_of([alert])
    [row] = await questions(teams)
    assert (row.confident, row.referred_at is not None) == (False, True)


async def test_an_unrelated_question_is_shown_no_clause(teams: TeamsHarness) -> None:
    replies = await ask(teams, SAM, UNRELATED)
    offer = with_button(replies, "Yes, pass it on")
    assert runs(offer)[0] == "The policy doesn't say"
    assert "\u201c" not in text_of(replies)
    assert "may help" not in text_of(replies)


# -- 5. only the owner answers -----------------------------------------------------------------


async def test_someone_who_is_not_the_owner_cannot_answer_and_nothing_changes(
    teams: TeamsHarness,
) -> None:
    alert = await referred_to_dana(teams, UNCOVERED)
    button = action_titled(card_of(alert), "Answer it")
    refused = await teams.replies(LEE, teams.invoke(LEE, str(button["verb"]), button["data"]))
    shown = text_of(refused)
    assert "Only the policy owner (Dana Okafor)" in shown
    assert "Nothing has been changed" in shown
    assert "What is your answer?" not in shown
    # Typing it is refused the same way.
    typed = await ask(teams, LEE, f"answer Q-{(await questions(teams))[0].id}")
    assert "Only the policy owner" in text_of(typed)
    async with teams.runtime.db.session() as session:
        lees = await session.execute(select(Conversation).where(Conversation.person_id == "lee"))
    assert all(c.state is None for c in lees.scalars().all())
    [row] = await questions(teams)
    assert (row.answer, row.answered_by) == (None, None)
    assert (await teams.deliver()).delivered == 0  # Sam is told nothing
    started = await press(teams, DANA, "Answer it")  # Dana still can
    assert "What is your answer?" in text_of(started)


# -- bugs found while writing these tests --------------------------------------------------------


async def test_the_owner_busy_with_a_report_is_told_how_to_answer_afterwards(
    teams: TeamsHarness,
) -> None:
    await referred_to_dana(teams, UNCOVERED)
    await ask(teams, DANA, "report")
    busy = text_of(await press(teams, DANA, "Answer it"))
    [row] = await questions(teams)
    assert "middle of" in busy
    assert f"type answer Q-{row.id}" in busy
    await ask(teams, DANA, "cancel")
    assert "Cancelled" in text_of(await ask(teams, DANA, "yes"))
    assert "What is your answer" in text_of(await ask(teams, DANA, f"answer Q-{row.id}"))


# -- 7. a worry about a child ------------------------------------------------------------------

ONLINE_ABUSE = "a year 7 boy is getting nasty messages from other kids on whatsapp"
NUDES = "one of my yr 10s told me her nudes are being shared round a group chat"


async def test_a_worry_about_a_child_shows_the_lead_by_name_and_never_a_clause(
    teams: TeamsHarness,
) -> None:
    replies = await ask(teams, SAM, ONLINE_ABUSE)
    shown = text_of(replies)
    assert "designated safeguarding lead" in shown
    assert "Dana Okafor, phone 01632 960001" in shown
    assert "Lee Brown" in shown
    assert "999" in shown
    assert "not an answer from the policy" in shown
    assert "\u201c" not in shown  # no quote from the policy
    assert "may help" not in shown  # nor any clause that might
    urgent = card_of(replies[0])
    assert urgent["body"][0]["style"] == "attention"  # shown as urgent
    offer = with_button(replies, "Report online abuse")
    assert titles(offer) == ["Report online abuse"]
    started = await press(teams, SAM, "Report online abuse")
    assert "Who is being targeted?" in text_of(started)

    # A child's image: Lee, the deputy, is sent to Dana, and nothing is offered to press.
    replies = await ask(teams, LEE, NUDES)
    shown = text_of(replies)
    assert "Dana Okafor" in shown
    assert "screenshot" in shown
    assert all(actions(card_of(a)) == [] for a in replies if a.get("attachments"))
    assert await questions(teams) == []


async def test_a_question_that_could_be_a_worry_names_the_lead_and_offers_no_clause(
    teams: TeamsHarness,
) -> None:
    question = (
        "a pupil in my form seems really scared, what does the policy say about messaging her?"
    )
    shown = text_of(await ask(teams, SAM, question))
    assert "If this is about a child's safety or wellbeing" in shown
    assert "designated safeguarding lead (Dana Okafor or Lee Brown)" in shown
    assert "may help" not in shown
    assert "\u201c" not in shown  # no clause of the policy
