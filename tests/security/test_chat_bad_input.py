"""The chat itself with bad input, through the real runner (tests.support.Person): answers longer
than any question allows, control characters and terminal escapes, direction and zero-width
characters, Slack mentions and links, Teams mentions, Markdown and HTML.

For each: what the person is told, that nothing is kept from a refused answer, that what is kept
is what the person wrote (every visible character), and that what Slack (bot/channels/slack/
render.py) and Teams (bot/channels/teams/cards.py) would show cannot mention, link or format.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.runtime import Runtime
from dialogs.prompts import PromptContext, TextPrompt
from dialogs.services.messages import IncomingFile, Message, MessageKind, StoredFile, UserInput
from storage.models import Case, Conversation, PolicyQuestion
from tests.security.support import (
    changed,
    counts,
    data_changed,
    rows,
    slack_shown,
    slack_text_objects,
    teams_cards,
    teams_shown,
    teams_strings,
)
from tests.support import Person, last_prompt, text_of

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MEGABYTE = 1_000_000

# What prompts.clean_text documents it drops: C0 and C1 controls (not tab, newline or carriage
# return), zero-width spaces and joiners and the marks U+200B-U+200F, and bidirectional
# embeddings, overrides and isolates. Everything else a person types is kept, and so are the
# joiners U+200C and U+200D where they are part of the writing (inside an emoji sequence,
# between letters of a joining script); in INVISIBLE below they are between Latin letters and
# spaces, so they go.
DROPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that must never reach a rendered message: they can hide text, reorder it, or drive
# a terminal.
NEVER_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def walk(person: Person, answers: Sequence[str]) -> list[Message]:
    seen: list[Message] = []
    for answer in answers:
        seen = await person.say(answer)
    return seen


async def saved_answers(runtime: Runtime) -> dict[str, Any]:
    [conversation] = await rows(runtime, Conversation)
    state = conversation.state or {}
    answers: dict[str, Any] = state.get("answers", {})
    return answers


async def the_case(runtime: Runtime) -> Case:
    [case] = await rows(runtime, Case)
    return case


# -- 1. longer than a question allows ----------------------------------------------------------


async def refused_for_length(person: Person, answer: str, *, limit: int, key: str) -> list[Message]:
    """Send an answer that is too long; it must be explained, asked again, and not kept."""
    question = last_prompt(person.seen).text
    before = await counts(person.runtime)
    replies = await person.say(answer)
    hint = replies[0]
    assert hint.kind is MessageKind.HINT
    assert (
        f"That's longer than I can keep in one answer ({len(answer):,} characters; the limit is "
        f"{limit:,})" in hint.text
    )
    assert answer[:50] not in text_of(replies)  # not echoed back
    assert last_prompt(replies).text == question
    assert key not in await saved_answers(person.runtime)
    assert data_changed(before, await counts(person.runtime)) == {}
    return replies


async def test_answers_longer_than_a_question_allows_are_refused_with_the_limit_and_not_kept(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await walk(sam, ["report"])

    # A megabyte where a choice is expected: refused, quoting only the start of it.
    replies = await sam.say("x" * MEGABYTE)
    assert replies[0].kind is MessageKind.HINT
    assert f"I didn't recognise “{'x' * 60}” as one of the options" in replies[0].text
    assert len(text_of(replies)) < 1000

    await walk(sam, ["colleague"])
    await refused_for_length(sam, "A" * 201, limit=200, key="affected_name")
    await walk(sam, ["B" * 200, "no"])  # exactly the limit is kept

    # "Where" takes the platform's name in the person's own words, up to 100 characters.
    replies = await sam.say("P" * 101)
    assert f"I didn't recognise “{'P' * 60}”" in replies[0].text
    assert "platform" not in await saved_answers(runtime)
    await walk(sam, ["Q" * 100])

    long_link = "https://facebook.com/" + "a" * 1980  # 2,001 characters
    await refused_for_length(sam, long_link, limit=2000, key="link")
    await walk(sam, [long_link[:-1], "yesterday 4pm"])

    words = [f"word{n:04d}" for n in range(889)]
    description = " ".join(words)[:8000].rstrip()
    description += "z" * (8000 - len(description))
    await refused_for_length(sam, description + "!", limit=8000, key="description")
    await refused_for_length(sam, "y" * MEGABYTE, limit=8000, key="description")
    await walk(sam, [description, "skip", "parent"])

    await refused_for_length(sam, "C" * 201, limit=200, key="responsible_name")
    summary = await walk(sam, ["D" * 200, "1, 4"])

    # Nothing of the longest answers is lost on the way to Slack, in sections of its own.
    shown = slack_shown(summary)
    assert all(word in shown for word in words[:-1])
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE
    case = await the_case(runtime)
    assert (case.affected_name, case.platform, case.link) == ("B" * 200, "Q" * 100, long_link[:-1])
    assert (case.description, case.responsible_name) == (description, "D" * 200)


class _NoFiles:
    async def accept(self, file: IncomingFile) -> StoredFile:
        raise AssertionError("no files here")

    async def discard(self, file_ids: Sequence[str]) -> None:
        raise AssertionError("no files here")


@SQLITE_ONLY
async def test_every_typed_question_refuses_one_character_over_its_limit_and_says_the_limit(
    runtime: Runtime,
) -> None:
    """Every text question of every dialog, not just the report's."""
    ctx = PromptContext(
        now=datetime(2026, 11, 21, 11, 30, tzinfo=UTC),
        tz=ZoneInfo("Europe/London"),
        attachments=_NoFiles(),
    )
    checked = []
    for dialog in runtime.engine.dialogs.values():
        for step in dialog.steps:
            prompt = step.prompt
            if not isinstance(prompt, TextPrompt):
                continue
            limit = prompt.max_length
            over = await prompt.parse(UserInput(text="w" * (limit + 1)), ctx)
            assert getattr(over, "hint", "").startswith(
                f"That's longer than I can keep in one answer ({limit + 1:,} characters; "
                f"the limit is {limit:,})"
            ), (dialog.name, step.key)
            at_limit = await prompt.parse(UserInput(text="w" * limit), ctx)
            assert "longer than I can keep" not in getattr(at_limit, "hint", ""), step.key
            checked.append(f"{dialog.name}.{step.key}")
    assert len(checked) >= 15, checked  # the catalogue really covered the dialogs


# -- 2. control, escape, direction and zero-width characters -------------------------------------

INVISIBLE = (
    "Abuse\x00 with\x07 a bell,\x1b[2J\x1b]0;pwned\x07 escapes, "
    "\u202eevil\u202c and \u2066isolated\u2069, zero\u200bwidth\u200c and\u200d joiners, "
    "\u200emarks\u200f, tab\there,\r\nand a new line."
)


async def test_control_escape_and_direction_characters_never_reach_the_report_or_the_screen(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await walk(sam, ["report", "colleague", "Pat\u202e Jones\x1b[0m", "no", "Facebook", "skip"])
    summary = await walk(sam, ["yesterday 4pm", INVISIBLE, "skip", "parent", "\u2067Sam\x00", "2"])

    for message in summary:
        assert NEVER_SHOWN.search(slack_shown([message])) is None, message.text
        assert NEVER_SHOWN.search(teams_shown([message])) is None, message.text
    assert "pwned" in slack_shown(summary)  # the words are still there to read

    await sam.say("submit")
    case = await the_case(runtime)
    # Exactly the documented invisible characters are gone; every visible one is kept.
    assert case.description == DROPPED.sub("", INVISIBLE).strip()
    assert case.description == (
        "Abuse with a bell,[2J]0;pwned escapes, evil and isolated, zerowidth and joiners, "
        "marks, tab\there,\r\nand a new line."
    )
    assert (case.affected_name, case.responsible_name) == ("Pat Jones[0m", "Sam")


# -- 3. Slack mentions and links ---------------------------------------------------------------

SLACK_HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0DANA>",
    "<#C0SAFEGUARD>",
    "<!subteam^S0LEADS>",
    "<https://evil.example|click here>",
    "<mailto:x@evil.example|your bank>",
]


def assert_slack_safe(messages: Sequence[Message], fragments: Sequence[str]) -> None:
    shown = slack_shown(messages)
    for fragment in fragments:
        if "<" in fragment:
            assert fragment not in shown, fragment
            assert fragment.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in (
                shown
            )
    for message in messages:
        for text_object in slack_text_objects(message):
            if text_object["type"] == "mrkdwn":
                assert text_object["verbatim"] is True  # no bare @here or URL auto-linking


async def test_slack_mentions_and_links_in_a_report_are_shown_escaped_and_kept_as_typed(
    runtime: Runtime,
) -> None:
    description = "They wrote " + " ".join(SLACK_HOSTILE) + " & @here to everyone."
    sam = Person(runtime)
    await walk(sam, ["report", "colleague", "<@U0JO> &amp; <!here>", "no", "<!channel> app"])
    summary = await walk(
        sam, ["https://evil.example/?q=<!channel>", "yesterday 4pm", description, "skip"]
    )
    summary = await walk(sam, ["public", "<https://evil.example|Pat>", "1"])

    assert_slack_safe(summary, [*SLACK_HOSTILE, "<@U0JO>", "<!channel> app"])
    await sam.say("submit")
    case = await the_case(runtime)
    assert case.description == description
    assert (case.affected_name, case.platform) == ("<@U0JO> &amp; <!here>", "<!channel> app")
    assert case.link == "https://evil.example/?q=<!channel>"
    assert case.responsible_name == "<https://evil.example|Pat>"


async def test_a_link_that_is_not_a_web_address_is_refused_and_not_kept(runtime: Runtime) -> None:
    sam = Person(runtime)
    await walk(sam, ["report", "me", "no", "Facebook"])
    for link in (
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "https:// evil.example",
        "<https://evil.example|click>",
    ):
        replies = await sam.say(link)
        assert replies[0].kind is MessageKind.HINT
        assert "That doesn't look like a web address" in replies[0].text, link
        assert "link" not in await saved_answers(runtime)


# -- 4. Teams mentions, Markdown and HTML ------------------------------------------------------

TEAMS_HOSTILE = [
    "<at>everyone</at>",
    "<at>Morgan Ellis</at>",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "![pixel](https://evil.example/track.png)",
    "**bold** _italic_ ~~gone~~",
    "# Heading",
    "1. not a list",
    "{{DATE(2026-11-21T10:00:00Z)}}",
]
ALLOWED_ELEMENTS = {
    "AdaptiveCard",
    "Container",
    "RichTextBlock",
    "TextRun",
    "ActionSet",
    "Action.Execute",
    "Action.Submit",
    "Input.ChoiceSet",
    "Input.Text",
}


def assert_teams_plain(messages: Sequence[Message], fragments: Sequence[str]) -> None:
    for card in teams_cards(messages):
        strings = teams_strings(card)
        kinds = {kind for kind, key, _ in strings if key == "type"} | {card["type"]}
        assert kinds <= ALLOWED_ELEMENTS, kinds - ALLOWED_ELEMENTS  # no TextBlock, FactSet, Image
        assert "msteams" not in card  # no mention entities: <at> can mention nobody
        for fragment in fragments:
            places = {(kind, key) for kind, key, value in strings if fragment in value}
            assert places <= {("TextRun", "text")}, (fragment, places)
    shown = teams_shown(messages)
    for fragment in fragments:
        assert fragment in shown, fragment  # shown exactly as typed, not dropped


async def test_teams_mentions_markdown_and_html_in_a_report_stay_plain_words_everywhere(
    runtime: Runtime, tmp_path: Path
) -> None:
    description = "They posted:\n" + "\n".join(TEAMS_HOSTILE)
    sam = Person(runtime)
    await walk(sam, ["report", "colleague", "<at>Jo</at>", "no", "**Snapface**", "skip"])
    summary = await walk(sam, ["yesterday 4pm", description, "skip", "public", "[Pat](x:y)", "1"])

    assert_teams_plain(summary, [*TEAMS_HOSTILE, "<at>Jo</at>", "**Snapface**", "[Pat](x:y)"])
    assert_slack_safe(summary, ["<script>alert(1)</script>", "<at>everyone</at>"])
    await sam.say("submit")
    case = await the_case(runtime)
    assert case.description == description
    assert (case.affected_name, case.platform, case.responsible_name) == (
        "<at>Jo</at>",
        "**Snapface**",
        "[Pat](x:y)",
    )

    # The evidence pack's readable chronology is HTML: the words must not become markup there.
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    lead = school.person("dana")
    assert lead is not None
    out = tmp_path / "pack.zip"
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        await services.cases.export(case.reference, school=school, actor=lead, out=out)
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as pack:
        [page] = [name for name in pack.namelist() if name.endswith("chronology.html")]
        html = pack.read(page).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for raw in ("<script>alert(1)", "<img src=x", "<at>"):
        assert raw not in html


# -- 5. bugs: typed policy questions, question numbers, impossible times -------------------------


async def test_a_policy_question_typed_in_the_chat_keeps_no_direction_or_control_characters(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    replies = await sam.say("can I friend a \u202epupil\u202c on facebook\x1b[2J?")

    assert replies[0].kind is MessageKind.ANSWER
    [question] = await rows(runtime, PolicyQuestion)
    assert NEVER_SHOWN.search(question.question) is None, repr(question.question)
    assert question.question == "can I friend a pupil on facebook[2J?"


async def test_a_policy_question_with_a_nul_character_is_answered_not_failed(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    replies = await sam.say("can I accept a friend request from a \x00pupil?")

    assert "something went wrong" not in text_of(replies)
    assert replies[0].kind is MessageKind.ANSWER
    [question] = await rows(runtime, PolicyQuestion)
    assert "\x00" not in question.question


@pytest.mark.parametrize("number", ["99999999999999999999"])
async def test_the_owner_answering_a_question_number_too_big_to_exist_is_told_it_is_not_found(
    runtime: Runtime, number: str
) -> None:
    dana = Person(runtime, person_id="dana")
    before = await counts(runtime)

    replies = await dana.say(f"answer Q-{number}")

    assert text_of(replies) == f"I can't find question Q-{number}."
    assert set(changed(before, await counts(runtime))) <= {"conversation"}


@SQLITE_ONLY
@pytest.mark.parametrize("when", ["yesterday 25pm", "yesterday 13pm", "yesterday 99pm"])
async def test_an_impossible_time_of_day_is_refused_not_read_as_now(
    runtime: Runtime, when: str
) -> None:
    sam = Person(runtime)
    await walk(sam, ["report", "me", "no", "Facebook", "skip"])

    replies = await sam.say(when)

    assert replies[0].kind is MessageKind.HINT, text_of(replies)
    assert "occurred_at" not in await saved_answers(runtime)
