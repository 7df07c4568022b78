"""Neutral messages as Block Kit: escaped everywhere, within Slack's limits, and answerable.

Every message here is checked against the same invariants (`check`): no raw `<` or `>` and no
unescaped `&` in any text object, Slack's size limits, namespaced and unique ids, no image
blocks. Then each rule of the renderer gets a test of its own, and the last tests render what the
report dialog really says, from its prompts and from a whole report driven through the runtime.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.channels.slack import ids
from bot.channels.slack.render import (
    ATTACHMENTS_HINT,
    SHORTENED,
    answered_blocks,
    escape,
    fallback_text,
    mentions,
    selected_values,
    to_blocks,
)
from bot.runtime import Runtime
from dialogs.prompts import AttachmentPrompt, PromptContext
from dialogs.report_abuse import ReportAbuse
from dialogs.services.cases.service import NATURE
from dialogs.services.messages import (
    Button,
    Fact,
    ImageRef,
    IncomingFile,
    InputKind,
    Message,
    MessageKind,
    StoredFile,
)
from tests.support import Person, file, png

HOSTILE = "<!channel> & <https://evil.example|Your bank>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;https://evil.example|Your bank&gt;"
LONE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")

Block = dict[str, Any]


# -- walking rendered blocks -------------------------------------------------------------------


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item)


def text_objects(blocks: list[Block]) -> list[dict[str, Any]]:
    return [n for n in nodes(blocks) if n.get("type") in ("plain_text", "mrkdwn")]


def texts(blocks: list[Block]) -> list[str]:
    return [str(t["text"]) for t in text_objects(blocks)]


def of_type(blocks: list[Block], kind: str) -> list[dict[str, Any]]:
    return [n for n in nodes(blocks) if n.get("type") == kind]


def action_ids(blocks: list[Block]) -> list[str]:
    return [str(n["action_id"]) for n in nodes(blocks) if "action_id" in n]


def check(blocks: list[Block]) -> list[Block]:
    """Slack's limits and policybot's own rules, for any rendered message."""
    assert len(blocks) <= 50
    for text in text_objects(blocks):
        assert text["text"].strip(), f"empty text object in {blocks}"
        assert "<" not in text["text"], text
        assert ">" not in text["text"], text
        assert not LONE_AMPERSAND.search(text["text"]), text
        if text["type"] == "mrkdwn":
            assert text["verbatim"] is True  # no bare @here or URL turned live either
    for block in blocks:
        kind = block["type"]
        assert kind in {"header", "section", "context", "actions"}, kind
        if kind == "header":
            assert len(block["text"]["text"]) <= 150
        if kind == "section":
            assert ("text" in block) != ("fields" in block)
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            else:
                assert 1 <= len(block["fields"]) <= 10
                assert all(len(f["text"]) <= 2000 for f in block["fields"])
        if kind == "context":
            assert 1 <= len(block["elements"]) <= 10
        if kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
    for button in of_type(blocks, "button"):
        assert len(button["text"]["text"]) <= 75
        assert len(button.get("value", "")) <= 2000
        assert ids.BUTTON_PATTERN.match(button["action_id"]) or button["action_id"] in {
            ids.MULTI_DONE
        }
    for element in of_type(blocks, "checkboxes"):
        assert ids.MULTI_SELECT_PATTERN.match(element["action_id"])
        assert 1 <= len(element["options"]) <= 10
        for option in element["options"]:
            assert len(option["text"]["text"]) <= 75
            assert 1 <= len(option["value"]) <= 150
    assert not of_type(blocks, "image"), "evidence must never be re-hosted in Slack"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    assert len(action_ids(blocks)) == len(set(action_ids(blocks)))
    return blocks


def render(message: Message) -> list[Block]:
    """Both ways a message is shown, checked; the live one is returned."""
    answered = check(answered_blocks(message, HOSTILE))
    assert not [b for b in answered if b["type"] == "actions"]
    fallback = fallback_text(message)
    assert len(fallback) <= 3000
    assert "<" not in fallback
    assert ">" not in fallback
    return check(to_blocks(message))


def section_texts(blocks: list[Block]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]


def fields(blocks: list[Block]) -> list[list[str]]:
    return [[f["text"] for f in b["fields"]] for b in blocks if "fields" in b]


# -- escaping ------------------------------------------------------------------------------------


def test_escape_turns_the_three_control_characters_into_entities() -> None:
    assert escape(HOSTILE) == ESCAPED
    assert escape("Tom & Jerry") == "Tom &amp; Jerry"


def test_escape_keeps_an_entity_a_person_typed_as_they_typed_it() -> None:
    assert escape("&lt;b&gt;") == "&amp;lt;b&amp;gt;"


def hostile_message(kind: MessageKind, expects: InputKind = InputKind.CHOICE) -> Message:
    return Message(
        kind=kind,
        title=HOSTILE,
        text=f"First {HOSTILE}\n\nSecond paragraph & more {HOSTILE}",
        facts=(
            Fact(label=HOSTILE, value=HOSTILE),
            Fact(label="What happened", value=(HOSTILE + " ") * 20),
        ),
        buttons=(
            Button(value="a", label=HOSTILE, style="primary"),
            Button(value="b", label="Fine & dandy"),
            Button(value="skip", label="Skip"),
        ),
        images=(ImageRef(evidence_id="ev-1", name=HOSTILE + ".png", media_type="image/png"),),
        expects=expects,
    )


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("expects", list(InputKind))
def test_no_text_from_a_message_can_mention_or_link(kind: MessageKind, expects: InputKind) -> None:
    message = hostile_message(kind, expects)

    blocks = render(message)

    every = "\n".join(texts(blocks))
    assert ESCAPED in every
    assert "&amp;amp;" not in every  # escaped once, not twice
    assert "&amp;lt;" not in every
    assert "<" not in json.dumps(blocks)
    assert ">" not in json.dumps(blocks)
    assert ESCAPED in fallback_text(message)


# -- kinds ---------------------------------------------------------------------------------------


PREFIXES = {
    MessageKind.URGENT: ":rotating_light: ",
    MessageKind.HINT: ":information_source: ",
    MessageKind.REMINDER: ":bulb: ",
}


@pytest.mark.parametrize("kind", list(MessageKind))
def test_each_kind_renders_with_its_marker(kind: MessageKind) -> None:
    blocks = render(Message(kind=kind, title="A title", text="Something to say."))

    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "A title", "emoji": True},
    }
    (text,) = section_texts(blocks)
    prefix = PREFIXES.get(kind, "")
    shown = "*Something to say.*" if kind is MessageKind.URGENT else "Something to say."
    assert text == prefix + shown
    for other in set(PREFIXES.values()) - {prefix}:
        assert other not in text


def test_urgent_text_is_escaped_then_bold_line_by_line() -> None:
    blocks = render(
        Message(kind=MessageKind.URGENT, text=f"Call 999 {HOSTILE}\n\n  Then carry on. ")
    )

    (text,) = section_texts(blocks)
    assert text == f":rotating_light: *Call 999 {ESCAPED}*\n\n*Then carry on.*"


def test_a_message_without_title_has_no_header() -> None:
    blocks = render(Message(kind=MessageKind.INFO, text="Hello"))
    assert [b["type"] for b in blocks] == ["section"]


def test_the_header_is_cut_at_150_characters_with_an_ellipsis() -> None:
    blocks = render(Message(kind=MessageKind.INFO, title="Report " * 60, text="x"))

    header = blocks[0]["text"]["text"]
    assert len(header) == 150
    assert header.endswith("…")
    assert header.startswith("Report Report")


def test_the_header_is_never_cut_inside_an_entity() -> None:
    for pad in range(140, 150):
        blocks = render(Message(kind=MessageKind.INFO, title="a" * pad + "&<>" * 10, text="x"))
        header = blocks[0]["text"]["text"]
        assert len(header) <= 150
        assert not LONE_AMPERSAND.search(header)


# -- text ----------------------------------------------------------------------------------------


def test_long_text_is_split_into_sections_at_paragraphs() -> None:
    paragraphs = [f"Paragraph {n}: " + "words & more " * 90 for n in range(8)]
    text = "\n\n".join(paragraphs)

    blocks = render(Message(kind=MessageKind.INFO, text=text))

    shown = section_texts(blocks)
    assert len(shown) > 1
    assert all(len(s) <= 3000 for s in shown)
    assert "\n\n".join(shown) == escape(text.strip())
    assert all(s.startswith("Paragraph") for s in shown)


def test_a_paragraph_longer_than_a_section_is_split_at_words() -> None:
    text = " ".join(f"w{n}<" for n in range(2000))

    shown = section_texts(render(Message(kind=MessageKind.INFO, text=text)))

    assert len(shown) > 1
    assert all(len(s) <= 3000 for s in shown)
    assert " ".join(shown) == escape(text)


def test_a_word_longer_than_a_section_is_split_without_losing_a_character() -> None:
    text = "&" * 2000 + "x" * 5000

    shown = section_texts(render(Message(kind=MessageKind.INFO, text=text)))

    assert all(len(s) <= 3000 for s in shown)
    assert "".join(shown) == escape(text)


def test_long_urgent_text_stays_within_sections_and_bold() -> None:
    text = "\n".join(f"Line {n} <danger> & more" for n in range(400))

    shown = section_texts(render(Message(kind=MessageKind.URGENT, text=text)))

    assert len(shown) > 1
    assert shown[0].startswith(":rotating_light: *Line 0 &lt;danger&gt; &amp; more*")
    lines = "\n".join(shown).removeprefix(":rotating_light: ").split("\n")
    assert len(lines) == 400
    assert all(line.startswith("*Line") and line.endswith("more*") for line in lines)


# -- facts ---------------------------------------------------------------------------------------


def test_facts_become_fields_with_bold_escaped_labels() -> None:
    blocks = render(
        Message(
            kind=MessageKind.SUMMARY,
            text="Check this",
            facts=(Fact(label="Who <is> affected", value="Me & you"), Fact(label="Link", value="")),
        )
    )

    assert fields(blocks) == [["*Who &lt;is&gt; affected*\nMe &amp; you", "*Link*\n"]]


def test_more_than_ten_facts_are_split_into_sections_of_ten() -> None:
    facts = tuple(Fact(label=f"Label {n}", value=f"value {n}") for n in range(23))

    blocks = render(Message(kind=MessageKind.SUMMARY, text="x", facts=facts))

    assert [len(group) for group in fields(blocks)] == [10, 10, 3]
    assert [f for group in fields(blocks) for f in group] == [
        f"*Label {n}*\nvalue {n}" for n in range(23)
    ]


def test_a_long_fact_gets_its_own_section_in_place() -> None:
    story = "A parent posted <this> about me. " * 20
    facts = (
        Fact(label="Who is affected", value="Me"),
        Fact(label="What happened", value=story),
        Fact(label="Who is responsible", value="A parent or carer"),
    )

    blocks = render(Message(kind=MessageKind.SUMMARY, text="x", facts=facts))

    assert blocks[1] == {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": "*Who is affected*\nMe", "verbatim": True}],
    }
    assert blocks[2]["text"]["text"] == "*What happened*\n" + escape(story.strip())
    assert blocks[3]["fields"][0]["text"] == "*Who is responsible*\nA parent or carer"


def test_a_very_long_fact_is_split_with_its_label_once() -> None:
    story = "\n".join(f"Line {n}: they wrote <something> & worse." for n in range(300))

    blocks = render(
        Message(kind=MessageKind.SUMMARY, text="x", facts=(Fact(label="What", value=story),))
    )

    shown = section_texts(blocks)[1:]
    assert len(shown) > 1
    assert shown[0].startswith("*What*\nLine 0")
    assert all("*What*" not in s for s in shown[1:])
    assert "\n".join(shown).removeprefix("*What*\n") == escape(story)


# -- images --------------------------------------------------------------------------------------


def test_images_are_listed_by_name_and_never_shown() -> None:
    images = tuple(
        ImageRef(evidence_id=f"secret-id-{n}", name=f"shot <{n}>.png", media_type="image/png")
        for n in range(15)
    )

    blocks = render(Message(kind=MessageKind.SUMMARY, text="x", images=images))

    contexts = [b for b in blocks if b["type"] == "context"]
    assert [len(c["elements"]) for c in contexts] == [10, 5]
    shown = [e["text"] for c in contexts for e in c["elements"]]
    assert shown == [f":frame_with_picture: shot &lt;{n}&gt;.png" for n in range(15)]
    assert "secret-id" not in json.dumps(blocks)
    assert '"image"' not in json.dumps(blocks)


# -- buttons -------------------------------------------------------------------------------------


def test_buttons_carry_their_values_and_styles() -> None:
    buttons = (
        Button(value="submit", label="Send it", style="primary"),
        Button(value="edit", label="Change an answer"),
        Button(value="cancel", label="Cancel", style="danger"),
    )

    blocks = render(Message(kind=MessageKind.SUMMARY, text="x", buttons=buttons))

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert actions["elements"] == [
        {
            "type": "button",
            "action_id": "pb.button.0",
            "text": {"type": "plain_text", "text": "Send it", "emoji": True},
            "value": "submit",
            "style": "primary",
        },
        {
            "type": "button",
            "action_id": "pb.button.1",
            "text": {"type": "plain_text", "text": "Change an answer", "emoji": True},
            "value": "edit",
        },
        {
            "type": "button",
            "action_id": "pb.button.2",
            "text": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "value": "cancel",
            "style": "danger",
        },
    ]


def test_button_values_round_trip_unchanged_and_labels_are_cut_at_75() -> None:
    odd = "a,b & <c> ümlaut " + "v" * 1900
    buttons = (Button(value=odd, label="L" * 100), Button(value="x", label="Short"))

    blocks = render(Message(kind=MessageKind.PROMPT, text="x", buttons=buttons))

    elements = of_type(blocks, "button")
    assert [e["value"] for e in elements] == [odd, "x"]
    assert all(ids.BUTTON_PATTERN.match(e["action_id"]) for e in elements)
    assert elements[0]["text"]["text"] == "L" * 74 + "…"


def test_more_than_25_buttons_are_split_into_actions_blocks() -> None:
    buttons = tuple(Button(value=f"v{n}", label=f"Option {n}") for n in range(30))

    blocks = render(Message(kind=MessageKind.MENU, text="x", buttons=buttons))

    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    assert [e["value"] for a in actions for e in a["elements"]] == [f"v{n}" for n in range(30)]


def test_a_button_value_too_long_for_slack_is_refused_not_cut() -> None:
    message = Message(
        kind=MessageKind.PROMPT, text="x", buttons=(Button(value="v" * 2001, label="L"),)
    )
    with pytest.raises(ValueError, match="2000"):
        to_blocks(message)


# -- multiple choice -----------------------------------------------------------------------------


def multi(choices: int, *, skip: bool) -> Message:
    buttons = [Button(value=f"c{n}", label=f"Choice <{n}>") for n in range(choices)]
    if skip:
        buttons.append(Button(value="skip", label="Skip"))
    return Message(
        kind=MessageKind.PROMPT,
        text="Pick all that apply.",
        buttons=tuple(buttons),
        expects=InputKind.MULTI_CHOICE,
    )


def test_multiple_choice_is_checkboxes_then_done_then_skip() -> None:
    blocks = render(multi(7, skip=True))

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == ids.MULTI_BLOCK
    checkboxes, done, skip = actions["elements"]
    assert checkboxes["type"] == "checkboxes"
    assert checkboxes["action_id"] == ids.MULTI_SELECT
    assert [o["value"] for o in checkboxes["options"]] == [f"c{n}" for n in range(7)]
    assert [o["text"]["text"] for o in checkboxes["options"]] == [
        f"Choice &lt;{n}&gt;" for n in range(7)
    ]
    assert done["action_id"] == ids.MULTI_DONE
    assert done["style"] == "primary"
    assert done["text"]["text"] == "Done"
    assert skip["type"] == "button"
    assert skip["value"] == "skip"
    assert ids.BUTTON_PATTERN.match(skip["action_id"])


def test_a_questions_buttons_name_the_question_they_answer() -> None:
    asked = Message(
        kind=MessageKind.PROMPT,
        text="Is anyone in immediate danger right now?",
        buttons=(Button(value="yes", label="Yes"), Button(value="no", label="No")),
        expects=InputKind.YES_NO,
        question="0123abcd-7",
    )
    (actions,) = [b for b in render(asked) if b["type"] == "actions"]
    assert ids.question_of_block(actions["block_id"]) == "0123abcd-7"
    (checklist,) = [
        b
        for b in render(multi(3, skip=True).model_copy(update={"question": "0123abcd-8"}))
        if b["type"] == "actions"
    ]
    assert checklist["block_id"] == ids.MULTI_BLOCK
    assert checklist["elements"][1]["value"] == "0123abcd-8"  # the Done button
    assert ids.question_of_block("pb.multi") is None
    assert ids.question_of_block("b") is None


def test_more_than_ten_choices_are_split_into_checkbox_groups() -> None:
    blocks = render(multi(23, skip=False))

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    groups = [e for e in actions["elements"] if e["type"] == "checkboxes"]
    assert [len(g["options"]) for g in groups] == [10, 10, 3]
    assert [g["action_id"] for g in groups] == [
        ids.MULTI_SELECT,
        f"{ids.MULTI_SELECT}.1",
        f"{ids.MULTI_SELECT}.2",
    ]
    assert [e["action_id"] for e in actions["elements"]][-1] == ids.MULTI_DONE


def test_ticked_values_are_read_back_in_the_order_offered() -> None:
    blocks = render(multi(23, skip=True))
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    groups = [e for e in actions["elements"] if e["type"] == "checkboxes"]
    # What Slack sends back in body["state"]["values"] when boxes in two groups are ticked.
    state = {
        ids.MULTI_BLOCK: {
            groups[2]["action_id"]: {
                "type": "checkboxes",
                "selected_options": [groups[2]["options"][1]],
            },
            groups[0]["action_id"]: {
                "type": "checkboxes",
                "selected_options": [groups[0]["options"][0], groups[0]["options"][4]],
            },
            groups[1]["action_id"]: {"type": "checkboxes", "selected_options": []},
        },
        "another.block": {"x": {"type": "plain_text_input", "value": "c9"}},
    }

    assert selected_values(state) == ["c0", "c4", "c21"]
    assert selected_values({}) == []
    assert selected_values({ids.MULTI_BLOCK: "nonsense"}) == []


def test_choices_that_cannot_be_checkboxes_fall_back_to_buttons() -> None:
    message = Message(
        kind=MessageKind.PROMPT,
        text="Pick",
        buttons=(Button(value="v" * 151, label="Long"), Button(value="b", label="B")),
        expects=InputKind.MULTI_CHOICE,
    )

    blocks = render(message)

    assert not of_type(blocks, "checkboxes")
    assert [e["value"] for e in of_type(blocks, "button")] == ["v" * 151, "b"]


# -- attachments ---------------------------------------------------------------------------------


def test_a_screenshots_question_says_how_to_send_them() -> None:
    message = Message(
        kind=MessageKind.PROMPT,
        text="Please send your screenshots.",
        buttons=(Button(value="done", label="Done", style="primary"),),
        expects=InputKind.ATTACHMENTS,
    )

    blocks = render(message)

    assert [b["type"] for b in blocks] == ["section", "context", "actions"]
    assert blocks[1]["elements"][0]["text"] == ATTACHMENTS_HINT
    assert ATTACHMENTS_HINT == (
        "Drag the files into this chat (or use the + button), then press Done."
    )
    assert blocks[2]["elements"][0]["value"] == "done"
    assert ATTACHMENTS_HINT not in texts(answered_blocks(message, "Done"))


# -- answered prompts ----------------------------------------------------------------------------


def test_an_answered_prompt_keeps_its_content_and_loses_its_controls() -> None:
    message = hostile_message(MessageKind.PROMPT, InputKind.MULTI_CHOICE)

    live = to_blocks(message)
    answered = check(answered_blocks(message, "Fine & <dandy>"))

    assert not of_type(answered, "button")
    assert not of_type(answered, "checkboxes")
    assert not action_ids(answered)
    assert answered[:-1] == [b for b in live if b["type"] != "actions"]
    assert answered[-1] == {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "You chose: Fine &amp; &lt;dandy&gt;", "verbatim": True}
        ],
    }


# -- the 50-block limit --------------------------------------------------------------------------


def huge(expects: InputKind = InputKind.ATTACHMENTS) -> Message:
    return Message(
        kind=MessageKind.SUMMARY,
        title="T" * 500,
        text="\n\n".join(f"Paragraph {n} " + "x " * 1400 for n in range(40)),
        facts=tuple(Fact(label=f"Fact {n}", value="v " * 200) for n in range(200)),
        images=tuple(
            ImageRef(evidence_id=str(n), name=f"{n}.png", media_type="image/png") for n in range(40)
        ),
        buttons=tuple(Button(value=f"b{n}", label=f"B{n}") for n in range(60)),
        expects=expects,
    )


def test_a_huge_message_keeps_its_buttons_and_says_it_was_shortened() -> None:
    blocks = render(huge())

    assert len(blocks) == 50
    assert blocks[0]["type"] == "header"
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [25, 25, 10]
    assert not [b for b in blocks if b["type"] == "context"]  # context goes first
    assert blocks[-4]["text"]["text"] == SHORTENED
    assert len(answered_blocks(huge(), "B1")) == 50


def test_context_is_given_up_before_any_text() -> None:
    facts = tuple(Fact(label=f"Fact {n}", value="long " * 60) for n in range(45))
    images = tuple(
        ImageRef(evidence_id=str(n), name=f"{n}.png", media_type="image/png") for n in range(80)
    )
    message = Message(
        kind=MessageKind.SUMMARY,
        text="Check",
        facts=facts,
        images=images,
        buttons=(Button(value="submit", label="Send it"),),
    )

    blocks = render(message)

    assert len(blocks) == 50
    assert len(section_texts(blocks)) == 46  # the text and every fact
    assert [b["type"] for b in blocks].count("context") == 3
    assert SHORTENED not in texts(blocks)
    assert blocks[-1]["type"] == "actions"


# -- fallback text -------------------------------------------------------------------------------


def test_fallback_text_is_title_and_text_escaped() -> None:
    message = Message(kind=MessageKind.URGENT, title="Call 999 now", text=f"Danger {HOSTILE}")
    assert fallback_text(message) == f"Call 999 now\nDanger {ESCAPED}"


def test_fallback_text_is_cut_at_3000() -> None:
    shown = fallback_text(Message(kind=MessageKind.INFO, text="<" * 5000))
    assert len(shown) <= 3000
    assert shown.endswith("&lt;…")


def test_fallback_text_falls_back_to_facts() -> None:
    message = Message(kind=MessageKind.STATUS, text="", facts=(Fact(label="CB-1", value="Open"),))
    assert fallback_text(message) == "CB-1: Open"


# -- what the report dialog really says ----------------------------------------------------------


class NoFiles:
    async def accept(self, file: IncomingFile) -> StoredFile:
        raise AssertionError("no files in these tests")

    async def discard(self, file_ids: Any) -> None:
        return None


def ask(key: str, *, optional: bool = False) -> Message:
    """A report question exactly as its prompt asks it (plus Skip, as the engine adds it)."""
    ctx = PromptContext(
        now=datetime(2026, 11, 21, 11, 30, tzinfo=UTC),
        tz=ZoneInfo("Europe/London"),
        attachments=NoFiles(),
    )
    step = ReportAbuse().step(key)
    message = step.prompt.ask(ctx, None, title="Report of online abuse: question 4 of 11")
    if optional:
        message = message.model_copy(
            update={"buttons": (*message.buttons, Button(value="skip", label="Skip"))}
        )
    return message


def test_the_platform_question_has_eight_buttons_in_one_row_block() -> None:
    message = ask("platform")
    assert len(message.buttons) == 8

    blocks = render(message)

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["value"] for e in actions["elements"]] == [b.value for b in message.buttons]
    assert [e["text"]["text"] for e in actions["elements"]][-1] == "Email or text message"


def test_the_nature_question_is_seven_checkboxes_and_done() -> None:
    message = ask("nature")
    assert message.expects is InputKind.MULTI_CHOICE

    blocks = render(message)

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    checkboxes, done = actions["elements"]
    assert [o["value"] for o in checkboxes["options"]] == list(NATURE)
    assert done["action_id"] == ids.MULTI_DONE


def test_the_optional_hate_question_offers_skip_as_a_button() -> None:
    blocks = render(ask("hate_characteristics", optional=True))

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["type"] for e in actions["elements"]] == ["checkboxes", "button", "button"]
    assert actions["elements"][-1]["value"] == "skip"


def test_the_screenshots_question_renders_with_its_hint() -> None:
    message = ask("evidence", optional=True)
    assert isinstance(ReportAbuse().step("evidence").prompt, AttachmentPrompt)

    blocks = render(message)

    assert ATTACHMENTS_HINT in texts(blocks)
    assert [e["value"] for e in of_type(blocks, "button")] == ["done", "skip"]


def test_a_summary_with_twelve_facts_and_three_buttons() -> None:
    story = "A parent posted that I am useless & should be sacked <!here>. " * 8
    facts = (
        ("Who is affected", "A colleague"),
        ("Name of the person affected", "Jo <Smith>"),
        ("Immediate danger", "No"),
        ("Where it happened", "Facebook"),
        ("Link", "https://facebook.com/groups/123?a=1&b=2"),
        ("When it happened", "yesterday (Fri 20 Nov) at 16:00"),
        ("What happened", story),
        ("Screenshots", "shot1.png (2 KB); shot2.png (3 KB)"),
        ("Who is responsible", "A parent or carer"),
        ("Name of who is responsible", "Pat <@U999>"),
        ("Nature of the content", "Threatening or intimidating, Hate about a protected ..."),
        ("Protected characteristic", "Race or ethnicity"),
    )
    message = Message(
        kind=MessageKind.SUMMARY,
        title="Check your report of online abuse before it is sent",
        text="Here is everything you've told me. Is it right?",
        facts=tuple(Fact(label=label, value=value) for label, value in facts),
        images=(
            ImageRef(evidence_id="e1", name="shot1.png", media_type="image/png"),
            ImageRef(evidence_id="e2", name="shot2.png", media_type="image/png"),
        ),
        buttons=(
            Button(value="submit", label="Send it", style="primary"),
            Button(value="edit", label="Change an answer"),
            Button(value="cancel", label="Cancel", style="danger"),
        ),
        expects=InputKind.CHOICE,
    )

    blocks = render(message)

    assert [b["type"] for b in blocks] == [
        "header",
        "section",  # the question
        "section",  # six short facts as fields
        "section",  # what happened
        "section",  # five short facts as fields
        "context",  # screenshots by name
        "actions",
    ]
    assert [len(f) for f in fields(blocks)] == [6, 5]
    assert "*Link*\nhttps://facebook.com/groups/123?a=1&amp;b=2" in fields(blocks)[0]
    assert "*Name of who is responsible*\nPat &lt;@U999&gt;" in fields(blocks)[1]
    assert blocks[3]["text"]["text"].startswith("*What happened*\nA parent posted")
    assert [e["value"] for e in of_type(blocks, "button")] == ["submit", "edit", "cancel"]


async def test_every_message_of_a_whole_report_renders(runtime: Runtime) -> None:
    sam = Person(runtime)
    answers: list[str | IncomingFile] = [
        "report",
        "colleague",
        f"Jo {HOSTILE}",
        "no",
        "Facebook",
        "https://facebook.com/groups/123/posts/456?a=1&b=2",
        "yesterday 4pm",
        f"A parent posted {HOSTILE} that I am useless and should be sacked. " * 10,
        file(f"{HOSTILE}.png", png("the post")),
        "done",
        "parent",
        "Pat <@U0123456789>",
        "1, 3",
        "1, 2",
    ]
    for answer in answers:
        if isinstance(answer, str):
            await sam.say(answer)
        else:
            await sam.say("", answer)
    summaries = [m for m in sam.seen if m.kind is MessageKind.SUMMARY]
    await sam.say("submit")
    lead = await Person(runtime, person_id="dana").inbox()

    for message in [*sam.seen, *lead]:
        render(message)
    assert lead
    (summary,) = summaries
    assert len(summary.facts) == 13  # with who may know it was the reporter
    blocks = render(summary)
    shown = "\n".join(texts(blocks))
    assert f"Jo {ESCAPED}" in shown
    assert f":frame_with_picture: {ESCAPED}.png" in shown
    assert "Pat &lt;@U0123456789&gt;" in shown
    assert [m.kind for m in sam.seen][-1] is MessageKind.DONE


def test_mentions_name_members_or_the_group_and_nothing_else() -> None:
    assert mentions(["U0JO", "W0LEE", "U0JO"]) == "<@U0JO> <@W0LEE>"
    assert mentions(["<!channel>", "U0JO|x", ""]) is None  # not member ids: never mentions
    assert mentions(["U0JO"], group="S0MODS") == "<!subteam^S0MODS>"
    message = Message(kind=MessageKind.REMINDER, title="Due soon", text="Answer it.")
    blocks = to_blocks(message, mention="<@U0JO>")
    assert blocks[0]["type"] == "header"
    assert blocks[1]["text"]["text"] == "<@U0JO>"
    assert fallback_text(message, mention="<@U0JO>") == "<@U0JO> Due soon\nAnswer it."
    assert to_blocks(message) == [blocks[0], *blocks[2:]]
