"""Neutral messages as Adaptive Cards: valid 1.5, plain text only, answerable, within Teams' limit.

Every card here goes through the same checks (the `valid` fixture): the official Adaptive Card 1.5
schema, Teams' 28 KB limit, and policybot's own rules (no element that renders Markdown, no
images, no links or mentions, every Action.Execute backed by an equivalent Action.Submit). Then
each rule of the renderer gets a test of its own, and the last tests render what the report dialog
really says, from a whole report driven through the runtime, and the case card a lead acts on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator
from jsonschema.exceptions import best_match

from bot.channels.teams.cards import (
    ANSWER,
    ATTACHMENTS_HINT,
    CASE_FORM,
    MAX_CARD_BYTES,
    MULTI_DONE,
    MULTI_INPUT,
    SHORTENED,
    action_data,
    answered_card,
    card_for,
    case_form_card,
    question_of,
    summary_text,
    with_mentions,
)
from bot.runtime import Runtime
from dialogs.services.cases.card import CaseButtonValue, CaseVerb, case_card, details, next_statuses
from dialogs.services.messages import Button, Fact, ImageRef, InputKind, Message, MessageKind
from dialogs.services.school.schools import Person as Staff
from dialogs.services.school.schools import Role, School
from storage.models import Case
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, png

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "schemas"
SCHEMA_FILE = SCHEMAS / "adaptive-card-1.5.0.schema.json"

# Each would be a link, formatting, a heading, a list or a mention if Teams read it as Markdown.
HOSTILE = (
    "[click](https://evil.example)",
    "**bold**",
    "<at>everyone</at>",
    "# heading",
    "1. list",
    "_x_",
)
HOSTILE_TEXT = "\n".join(HOSTILE)

# Elements and properties that would let text be rendered as Markdown, shown as an image, linked
# or turned into a mention.
MARKDOWN_ELEMENTS = {"TextBlock", "FactSet"}
IMAGE_ELEMENTS = {"Image", "ImageSet", "Media"}
FORBIDDEN_KEYS = {"msteams", "fallbackText", "selectAction", "backgroundImage", "iconUrl"}
ALLOWED_ACTIONS = {"Action.Execute", "Action.Submit"}

Card = dict[str, Any]
Check = Callable[[Card], Card]


# -- walking a card ------------------------------------------------------------------------------


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item)


def of_type(card: Any, kind: str) -> list[dict[str, Any]]:
    return [n for n in nodes(card) if n.get("type") == kind]


def strings(
    value: Any, path: tuple[str, ...] = (), owner: dict[str, Any] | None = None
) -> Iterator[tuple[tuple[str, ...], dict[str, Any] | None, str]]:
    """Every string in the card with where it sits: the path of keys (and element types) above
    it, and the object that holds it."""
    if isinstance(value, dict):
        here = (*path, str(value.get("type", "")))
        for key, item in value.items():
            yield from strings(item, (*here, key), value)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, path, owner)
    elif isinstance(value, str):
        yield path, owner, value


def run_texts(card: Any) -> list[str]:
    return [str(run["text"]) for run in of_type(card, "TextRun")]


def shown(card: Any) -> str:
    return "\n".join(run_texts(card))


def executes(card: Any) -> list[dict[str, Any]]:
    return of_type(card, "Action.Execute")


def size(card: Card) -> int:
    return len(json.dumps(card).encode("ascii"))


def invariants(card: Card) -> Card:
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert size(card) < MAX_CARD_BYTES
    types = {str(n["type"]) for n in nodes(card) if "type" in n}
    assert not types & MARKDOWN_ELEMENTS, "text must only ever be in TextRuns"
    assert not types & IMAGE_ELEMENTS, "evidence must never be re-hosted in Teams"
    assert {t for t in types if t.startswith("Action.")} <= ALLOWED_ACTIONS
    keys = {key for n in nodes(card) for key in n}
    assert not keys & FORBIDDEN_KEYS
    for execute in executes(card):
        assert len(execute["title"]) <= 50
        assert execute["verb"] in (ANSWER, MULTI_DONE, CASE_FORM)
        submit = execute["fallback"]
        assert submit["type"] == "Action.Submit"
        extra = {} if execute["verb"] == CASE_FORM else {"verb": execute["verb"]}
        assert submit["data"] == {**execute["data"], **extra}
        for key in ("title", "style", "associatedInputs"):
            assert submit.get(key) == execute.get(key)
    ids = [n["id"] for n in nodes(card) if "id" in n and n.get("type") != "Input.Choice"]
    assert len(ids) == len(set(ids)), ids
    return card


# -- validation against the official schema -------------------------------------------------------


@pytest.fixture(scope="module")
def schema_validator() -> Draft6Validator:
    if not SCHEMA_FILE.is_file():
        reason = (
            f"The Adaptive Card 1.5 schema is not at {SCHEMA_FILE}: it lives in ../shared/schemas "
            "beside the repository, which this checkout does not have"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; under CI=true this is a failure, not a skip")
        pytest.skip(reason)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


@pytest.fixture
def valid(schema_validator: Draft6Validator) -> Check:
    def check(card: Card) -> Card:
        error = best_match(schema_validator.iter_errors(card))
        assert error is None, f"{error.message} at {list(error.absolute_path)}"
        return invariants(card)

    return check


@pytest.fixture
def render(valid: Check) -> Callable[[Message], Card]:
    """Both ways a message is shown, checked; the live card is returned."""

    def both(message: Message) -> Card:
        card = valid(card_for(message))
        answered = valid(answered_card(card, HOSTILE_TEXT))
        assert not executes(answered)
        assert not [n for n in nodes(answered) if str(n.get("type", "")).startswith("Input.")]
        summary = summary_text(message)
        assert 0 < len(summary) <= 300
        return card

    return both


def test_the_validator_refuses_what_teams_would_refuse(valid: Check) -> None:
    """The schema check is worth something: it catches an unknown element and a bad value."""
    unknown = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [{"type": "Banner", "text": "x"}],
    }
    with pytest.raises(AssertionError):
        valid(unknown)
    bad_weight = unknown | {
        "body": [
            {
                "type": "RichTextBlock",
                "inlines": [{"type": "TextRun", "text": "x", "weight": "heavy"}],
            }
        ]
    }
    with pytest.raises(AssertionError):
        valid(bad_weight)


# -- every kind of message -------------------------------------------------------------------------


def hostile_message(kind: MessageKind, expects: InputKind = InputKind.CHOICE) -> Message:
    return Message(
        kind=kind,
        title=" ".join(HOSTILE),
        text=f"First line\n{HOSTILE_TEXT}\n\nSecond paragraph",
        facts=(
            *(Fact(label=piece, value=piece) for piece in HOSTILE),
            Fact(label="What happened", value=HOSTILE_TEXT * 3),
        ),
        buttons=(
            Button(value="a", label="Yes, send it", style="primary"),
            Button(value="b", label="Fine & dandy"),
            Button(value="c", label="Cancel", style="danger"),
            Button(value="skip", label="Skip"),
        ),
        images=tuple(
            ImageRef(evidence_id=f"secret-{n}", name=f"{piece}.png", media_type="image/png")
            for n, piece in enumerate(HOSTILE)
        ),
        expects=expects,
    )


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("expects", list(InputKind))
def test_every_kind_and_input_renders_a_valid_card(
    render: Callable[[Message], Card], kind: MessageKind, expects: InputKind
) -> None:
    card = render(hostile_message(kind, expects))

    assert "secret-" not in json.dumps(card)
    values = [e["data"].get("value") for e in executes(card) if e["verb"] == ANSWER]
    if expects is InputKind.MULTI_CHOICE:
        assert values == ["skip"]
        assert len(of_type(card, "Input.ChoiceSet")) == 1
    else:
        assert values == ["a", "b", "c", "skip"]
        assert not of_type(card, "Input.ChoiceSet")


PREFIXES = {
    MessageKind.URGENT: "⚠️ ",
    MessageKind.HINT: "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16} ",
    MessageKind.REMINDER: "💡 ",
}


@pytest.mark.parametrize("kind", list(MessageKind))
def test_each_kind_has_its_heading_and_marker(
    render: Callable[[Message], Card], kind: MessageKind
) -> None:
    card = render(Message(kind=kind, title="A title", text="Something to say."))

    prefix = PREFIXES.get(kind, "")
    heading, text = of_type(card, "TextRun")
    assert heading["text"] == prefix + "A title"
    assert heading["weight"] == "bolder"
    assert heading["size"] == "medium"
    assert text["text"] == "Something to say."
    containers = of_type(card, "Container")
    if kind is MessageKind.URGENT:
        (container,) = containers
        assert container["style"] == "attention"
        assert container is card["body"][0]
        assert heading["color"] == text["color"] == "attention"
        assert text["weight"] == "bolder"
    else:
        assert not containers
        assert "color" not in heading
    assert text.get("isSubtle", False) is (kind is MessageKind.HINT)


@pytest.mark.parametrize("kind", list(PREFIXES))
def test_without_a_title_the_marker_starts_the_text(
    render: Callable[[Message], Card], kind: MessageKind
) -> None:
    card = render(Message(kind=kind, text="Line one\nLine two"))

    assert run_texts(card) == [PREFIXES[kind] + "Line one", "Line two"]


# -- a person's words stay words -------------------------------------------------------------------


def test_no_text_from_a_message_can_become_a_link_format_or_mention(valid: Check) -> None:
    message = hostile_message(MessageKind.SUMMARY)

    card = valid(card_for(message))
    answered = valid(answered_card(card, " ".join(HOSTILE)))

    for rendered in (card, answered):
        for piece in HOSTILE:
            places = [(path, owner) for path, owner, text in strings(rendered) if piece in text]
            assert places, f"{piece!r} is not shown at all"
            for path, owner in places:
                assert owner is not None
                in_run = owner.get("type") == "TextRun" and path[-1] == "text"
                assert in_run, f"{piece!r} reached {'/'.join(path)}, which may render Markdown"
        every = shown(rendered)
        for piece in HOSTILE:
            assert piece in every  # exactly as typed: nothing to escape, so nothing to undo
        assert "\\" not in every


def test_facts_are_label_then_value_in_plain_runs(render: Callable[[Message], Card]) -> None:
    message = Message(
        kind=MessageKind.SUMMARY,
        text="Check",
        facts=(
            Fact(label="Link", value="[click](https://evil.example)"),
            Fact(label="Name", value="**Pat**"),
            Fact(label="Empty", value=""),
        ),
    )

    card = render(message)

    blocks = of_type(card, "RichTextBlock")[1:]
    assert [[run["text"] for run in block["inlines"]] for block in blocks] == [
        ["Link: ", "[click](https://evil.example)"],
        ["Name: ", "**Pat**"],
        ["Empty: ", "-"],
    ]
    assert all(block["inlines"][0]["weight"] == "bolder" for block in blocks)
    assert all("weight" not in block["inlines"][1] for block in blocks)
    assert [block["spacing"] for block in blocks] == ["medium", "small", "small"]


def test_each_line_is_a_block_and_blank_lines_make_paragraphs(
    render: Callable[[Message], Card],
) -> None:
    card = render(Message(kind=MessageKind.INFO, text="\n  One  \nTwo\n\n\n\nThree\n"))

    blocks = of_type(card, "RichTextBlock")
    assert [b["inlines"][0]["text"] for b in blocks] == ["One", "Two", "Three"]
    assert [b.get("spacing") for b in blocks] == [None, "none", None]


def test_button_labels_are_only_ever_plain_titles(valid: Check) -> None:
    label = " ".join(HOSTILE[:2])
    for expects in (InputKind.CHOICE, InputKind.MULTI_CHOICE):
        message = Message(
            kind=MessageKind.PROMPT,
            text="Pick",
            buttons=(Button(value="a", label=label), Button(value="skip", label=label)),
            expects=expects,
        )
        card = valid(card_for(message))
        for path, _owner, text in strings(card):
            if label not in text:
                continue
            as_title = path[-2:] in {("Action.Execute", "title"), ("Action.Submit", "title")}
            as_choice = path[-3:] == ("choices", "", "title")
            assert as_title or as_choice or "data" in path, path


# -- images ----------------------------------------------------------------------------------------


def test_images_are_listed_by_name_and_never_shown(render: Callable[[Message], Card]) -> None:
    images = tuple(
        ImageRef(evidence_id=f"secret-id-{n}", name=f"shot <{n}>.png", media_type="image/png")
        for n in range(3)
    )

    card = render(Message(kind=MessageKind.SUMMARY, text="x", images=images))

    assert run_texts(card)[1:] == [f"🖼️ shot <{n}>.png" for n in range(3)]
    assert "secret-id" not in json.dumps(card)


def test_a_long_list_of_images_is_cut_with_a_count(render: Callable[[Message], Card]) -> None:
    images = tuple(
        ImageRef(evidence_id=str(n), name=f"{n}.png", media_type="image/png") for n in range(45)
    )

    card = render(Message(kind=MessageKind.SUMMARY, text="x", images=images))

    names = [t for t in run_texts(card) if t.startswith("🖼️")]
    assert len(names) == 31
    assert names[-1] == "🖼️ and 15 more files"


# -- buttons ---------------------------------------------------------------------------------------


def test_buttons_are_execute_actions_with_submit_fallbacks(
    render: Callable[[Message], Card],
) -> None:
    buttons = (
        Button(value="submit", label="Send it", style="primary"),
        Button(value="edit", label="Change an answer"),
        Button(value="cancel", label="Cancel", style="danger"),
    )

    card = render(Message(kind=MessageKind.SUMMARY, text="x", buttons=buttons))

    (row,) = of_type(card, "ActionSet")
    first = row["actions"][0]
    assert first == {
        "type": "Action.Execute",
        "title": "Send it",
        "verb": ANSWER,
        "data": {"pb": "answer", "value": "submit", "label": "Send it"},
        "style": "positive",
        "associatedInputs": "none",
        "fallback": {
            "type": "Action.Submit",
            "title": "Send it",
            "data": {"pb": "answer", "value": "submit", "label": "Send it", "verb": ANSWER},
            "style": "positive",
            "associatedInputs": "none",
        },
    }
    assert [a.get("style") for a in row["actions"]] == ["positive", None, "destructive"]
    assert [a["data"]["value"] for a in row["actions"]] == ["submit", "edit", "cancel"]


def test_buttons_come_in_rows_of_three_and_values_are_never_cut(
    render: Callable[[Message], Card],
) -> None:
    odd = "a,b & <c> ümlaut " + "v" * 1900
    buttons = (
        Button(value=odd, label="L" * 100),
        *(Button(value=f"v{n}", label=f"Option {n}") for n in range(7)),
    )

    card = render(Message(kind=MessageKind.MENU, text="x", buttons=buttons))

    rows = of_type(card, "ActionSet")
    assert [len(r["actions"]) for r in rows] == [3, 3, 2]
    assert [r.get("spacing") for r in rows] == [None, "small", "small"]
    actions = [a for r in rows for a in r["actions"]]
    assert [a["data"]["value"] for a in actions] == [b.value for b in buttons]
    assert actions[0]["title"] == "L" * 49 + "…"
    assert actions[0]["data"]["label"] == "L" * 100


def test_a_card_whose_buttons_alone_are_too_big_is_refused() -> None:
    buttons = tuple(Button(value=f"{n}" + "v" * 500, label=f"B{n}") for n in range(100))
    with pytest.raises(ValueError, match="buttons"):
        card_for(Message(kind=MessageKind.MENU, text="x", buttons=buttons))


# -- multiple choice -------------------------------------------------------------------------------


def multi(choices: int, *, skip: bool) -> Message:
    buttons = [Button(value=f"c{n}", label=f"Choice **{n}**") for n in range(choices)]
    if skip:
        buttons.append(Button(value="skip", label="Skip"))
    return Message(
        kind=MessageKind.PROMPT,
        text="Pick all that apply.",
        buttons=tuple(buttons),
        expects=InputKind.MULTI_CHOICE,
    )


def test_multiple_choice_is_checkboxes_then_done_then_skip(
    render: Callable[[Message], Card],
) -> None:
    card = render(multi(7, skip=True))

    (checkboxes,) = of_type(card, "Input.ChoiceSet")
    assert checkboxes["id"] == MULTI_INPUT
    assert checkboxes["isMultiSelect"] is True
    assert checkboxes["style"] == "expanded"
    assert checkboxes["isRequired"] is True
    assert [c["value"] for c in checkboxes["choices"]] == [f"c{n}" for n in range(7)]
    assert [c["title"] for c in checkboxes["choices"]] == [f"Choice **{n}**" for n in range(7)]
    (row,) = of_type(card, "ActionSet")
    done, skip = row["actions"]
    assert done["verb"] == MULTI_DONE
    assert done["title"] == "Done"
    assert done["style"] == "positive"
    assert "associatedInputs" not in done  # Done must send the ticked boxes
    assert done["data"]["pb"] == "multi"
    assert done["fallback"]["data"]["verb"] == MULTI_DONE
    assert skip["verb"] == ANSWER
    assert skip["data"]["value"] == "skip"
    assert skip["associatedInputs"] == "none"  # Skip works with nothing ticked
    assert card["body"].index(checkboxes) < card["body"].index(row)


def test_done_carries_the_labels_so_the_answer_can_be_shown(
    render: Callable[[Message], Card],
) -> None:
    card = render(multi(3, skip=False))

    (done,) = executes(card)
    assert done["data"]["labels"] == {f"c{n}": f"Choice **{n}**" for n in range(3)}
    assert "Skip" not in of_type(card, "Input.ChoiceSet")[0]["errorMessage"]


def test_choices_that_cannot_be_checkboxes_fall_back_to_buttons(
    render: Callable[[Message], Card],
) -> None:
    message = Message(
        kind=MessageKind.PROMPT,
        text="Pick",
        buttons=(Button(value="a,b", label="Both"), Button(value="c", label="C")),
        expects=InputKind.MULTI_CHOICE,
    )

    card = render(message)

    assert not of_type(card, "Input.ChoiceSet")
    assert [e["data"]["value"] for e in executes(card)] == ["a,b", "c"]


# -- attachments -----------------------------------------------------------------------------------


def test_a_screenshots_question_says_how_to_send_them(render: Callable[[Message], Card]) -> None:
    message = Message(
        kind=MessageKind.PROMPT,
        text="Please send your screenshots.",
        buttons=(
            Button(value="done", label="Done", style="primary"),
            Button(value="skip", label="Skip"),
        ),
        expects=InputKind.ATTACHMENTS,
    )

    card = render(message)

    assert ATTACHMENTS_HINT == "Paste or attach the files in this chat, then press Done."
    assert run_texts(card) == ["Please send your screenshots.", ATTACHMENTS_HINT]
    assert [e["data"]["value"] for e in executes(card)] == ["done", "skip"]
    assert ATTACHMENTS_HINT not in shown(answered_card(card, "Done"))


# -- answered cards --------------------------------------------------------------------------------


def test_an_answered_card_keeps_its_content_and_loses_its_controls(valid: Check) -> None:
    card = valid(card_for(hostile_message(MessageKind.PROMPT, InputKind.MULTI_CHOICE)))
    before = json.dumps(card)

    answered = valid(answered_card(card, "  Fine &\n <dandy> "))

    assert json.dumps(card) == before  # the card given is left as it was
    assert not of_type(answered, "ActionSet")
    assert not of_type(answered, "Input.ChoiceSet")
    assert "verb" not in json.dumps(answered)
    assert answered["body"][:-1] == [
        e for e in card["body"] if e["type"] not in ("ActionSet", "Input.ChoiceSet")
    ]
    chosen = answered["body"][-1]
    assert chosen["separator"] is True
    assert [run["text"] for run in chosen["inlines"]] == ["You chose: Fine & <dandy>"]


def test_answering_again_replaces_the_chosen_line(valid: Check) -> None:
    card = card_for(
        Message(kind=MessageKind.PROMPT, text="Q", buttons=(Button(value="a", label="A"),))
    )

    twice = valid(answered_card(answered_card(card, "A"), "B"))

    assert [t for t in run_texts(twice) if t.startswith("You chose")] == ["You chose: B"]


def test_the_chosen_line_is_cut(valid: Check) -> None:
    answered = valid(answered_card(card_for(Message(kind=MessageKind.INFO, text="Q")), "x" * 999))
    assert run_texts(answered)[-1] == "You chose: " + "x" * 199 + "…"


# -- Teams' size limit -----------------------------------------------------------------------------


def summary_with(description: str, *, facts: int = 12) -> Message:
    return Message(
        kind=MessageKind.SUMMARY,
        title="Check your report of online abuse before it is sent",
        text="Here is everything you've told me. Is it right?",
        facts=(
            Fact(label="What happened", value=description),
            *(Fact(label=f"Fact {n}", value=f"value {n}") for n in range(facts - 1)),
        ),
        images=tuple(
            ImageRef(evidence_id=str(n), name=f"shot{n}.png", media_type="image/png")
            for n in range(20)
        ),
        buttons=(
            Button(value="submit", label="Send it", style="primary"),
            Button(value="edit", label="Change an answer"),
            Button(value="cancel", label="Cancel", style="danger"),
        ),
        expects=InputKind.CHOICE,
    )


def test_the_longest_description_a_report_allows_is_shown_in_full(
    render: Callable[[Message], Card],
) -> None:
    description = ("A parent posted that I am useless. " * 250)[:8000]

    card = render(summary_with(description))

    assert description.strip() in run_texts(card)
    assert SHORTENED not in run_texts(card)


@pytest.mark.parametrize(
    "description",
    [
        "x" * 100_000,
        "😡 " * 20_000,  # 12 bytes each once escaped as JSON
        "word\n" * 5_000,
        "\n\n".join(f"Paragraph {n}: " + "words " * 50 for n in range(200)),
    ],
    ids=["one-long-line", "emoji", "many-lines", "many-paragraphs"],
)
def test_a_very_long_description_stays_under_28_kb(
    render: Callable[[Message], Card], description: str
) -> None:
    card = render(summary_with(description))

    assert size(card) < MAX_CARD_BYTES
    assert size(answered_card(card, "Send it " * 100)) < MAX_CARD_BYTES
    texts = run_texts(card)
    assert any(t.startswith("What happened: ") for t in texts)
    if SHORTENED in texts:
        assert any(t.endswith("…") for t in texts)
    assert [e["data"]["value"] for e in executes(card)] == ["submit", "edit", "cancel"]
    assert "Fact 10: " in texts  # short facts survive a long one


def test_text_is_cut_before_the_list_of_files(render: Callable[[Message], Card]) -> None:
    huge = summary_with("y" * 50_000, facts=40)

    card = render(huge)

    assert SHORTENED in run_texts(card)
    assert len([t for t in run_texts(card) if t.startswith("🖼️ shot")]) == 20


# -- forms for case actions ------------------------------------------------------------------------


def test_the_note_form(valid: Check) -> None:
    card = valid(case_form_card(verb=CaseVerb.NOTE, reference="CB-2026-0001"))

    (text,) = of_type(card, "Input.Text")
    assert text["id"] == "text"
    assert text["isMultiline"] is True
    assert text["isRequired"] is True
    assert text["maxLength"] == 3000
    assert text["errorMessage"]
    (submit,) = executes(card)
    assert submit["verb"] == CASE_FORM
    assert submit["data"] == {"pb": "case_form", "verb": "note", "reference": "CB-2026-0001"}
    assert submit["fallback"]["type"] == "Action.Submit"
    assert submit["fallback"]["data"] == submit["data"]
    assert "associatedInputs" not in submit
    assert run_texts(card)[0] == "Add a note to CB-2026-0001"


def test_the_status_form(valid: Check) -> None:
    statuses = [("investigating", "Investigating"), ("closed", "Closed")]

    card = valid(case_form_card(verb="status", reference="CB-2026-0001", statuses=statuses))

    (choice,) = of_type(card, "Input.ChoiceSet")
    assert choice["id"] == "status"
    assert choice["isRequired"] is True
    assert choice.get("isMultiSelect", False) is False
    assert [(c["value"], c["title"]) for c in choice["choices"]] == statuses
    reason, outcome = of_type(card, "Input.Text")
    assert (reason["id"], reason["isRequired"], reason["maxLength"]) == ("text", True, 3000)
    assert (outcome["id"], outcome.get("isRequired", False)) == ("outcome", False)
    (submit,) = executes(card)
    assert submit["data"] == {"pb": "case_form", "verb": "status", "reference": "CB-2026-0001"}
    assert submit["fallback"]["data"] == submit["data"]
    body_order = [e.get("id") for e in card["body"] if e["type"].startswith("Input.")]
    assert body_order == ["status", "text", "outcome"]


def test_a_form_is_refused_for_a_verb_that_needs_none() -> None:
    with pytest.raises(ValueError, match="no form"):
        case_form_card(verb=CaseVerb.ACKNOWLEDGE, reference="CB-1")
    with pytest.raises(ValueError, match="at least one status"):
        case_form_card(verb=CaseVerb.STATUS, reference="CB-1", statuses=[])
    with pytest.raises(ValueError, match="no statuses"):
        case_form_card(verb=CaseVerb.NOTE, reference="CB-1", statuses=[("closed", "Closed")])


def test_a_forms_reference_is_shown_as_plain_text(valid: Check) -> None:
    card = valid(case_form_card(verb="note", reference="[CB](https://evil.example)"))
    assert run_texts(card)[0] == "Add a note to [CB](https://evil.example)"


# -- reading presses back --------------------------------------------------------------------------


def invoke(execute: dict[str, Any], inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """What Teams sends in an `adaptiveCard/action` invoke for a press on `execute`."""
    data = {**execute["data"], **(inputs or {})}
    action = {"type": "Action.Execute", "id": "", "verb": execute["verb"], "data": data}
    return {"action": action, "trigger": "manual"}


def submitted(execute: dict[str, Any], inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """What arrives as a message activity's `value` when the Action.Submit fallback is used."""
    return {**execute["fallback"]["data"], **(inputs or {})}


def test_an_answer_reads_back_the_same_from_invoke_and_submit() -> None:
    card = card_for(
        Message(kind=MessageKind.PROMPT, text="Q", buttons=(Button(value="yes", label="Yes"),))
    )
    (press,) = executes(card)

    expected = (ANSWER, {"pb": "answer", "value": "yes", "label": "Yes"})
    assert action_data(invoke(press)) == expected
    assert action_data(submitted(press)) == expected


def test_ticked_boxes_read_back_comma_separated() -> None:
    card = card_for(multi(3, skip=True))
    done, skip = executes(card)
    ticked = {MULTI_INPUT: "c0,c2"}

    for value in (invoke(done, ticked), submitted(done, ticked)):
        result = action_data(value)
        assert result is not None
        verb, data = result
        assert verb == MULTI_DONE
        assert data[MULTI_INPUT] == "c0,c2"
        assert data["pb"] == "multi"
        assert "verb" not in data
    assert action_data(submitted(skip)) == (
        ANSWER,
        {"pb": "answer", "value": "skip", "label": "Skip"},
    )


NOTE_INPUTS = {"text": "Called the parent [x](y)"}
STATUS_INPUTS = {"status": "closed", "text": "Resolved", "outcome": "Post removed"}


@pytest.mark.parametrize(
    ("verb", "inputs", "statuses"),
    [("note", NOTE_INPUTS, None), ("status", STATUS_INPUTS, [("closed", "Closed")])],
)
def test_a_case_form_reads_back_with_its_inputs(
    verb: str, inputs: dict[str, str], statuses: list[tuple[str, str]] | None
) -> None:
    card = case_form_card(verb=verb, reference="CB-2026-0001", statuses=statuses)
    (submit,) = executes(card)

    expected = (CASE_FORM, {"pb": "case_form", "verb": verb, "reference": "CB-2026-0001", **inputs})
    assert action_data(invoke(submit, inputs)) == expected
    assert action_data(submitted(submit, inputs)) == expected


FOREIGN: list[Any] = [
    None,
    "pb.answer",
    {},
    {"text": "hello"},
    {"action": "pb.answer"},
    {"action": {"type": "Action.Submit", "verb": ANSWER, "data": {"pb": "answer", "value": "x"}}},
    {"action": {"type": "Action.Execute", "verb": "other", "data": {"pb": "answer", "value": "x"}}},
    {"action": {"type": "Action.Execute", "verb": ANSWER, "data": {"pb": "multi"}}},
    {"action": {"type": "Action.Execute", "verb": ANSWER, "data": "yes"}},
    {"action": {"type": "Action.Execute", "verb": ANSWER, "data": {"value": "x"}}},
    {"pb": "answer"},
    {"pb": "answer", "value": 3},
    {"pb": "answer", "value": "x", "verb": MULTI_DONE},
    {"pb": ["answer"], "value": "x"},
    {"pb": "nonsense", "value": "x"},
    {"pb": "multi", MULTI_INPUT: ["a", "b"]},
    {"pb": "case_form", "verb": "delete", "reference": "CB-1"},
    {"pb": "case_form", "verb": "note"},
    {"pb": "case_form", "verb": "note", "reference": "CB-1", "text": {"nested": True}},
    {"verb": ANSWER, "value": "x"},
]


@pytest.mark.parametrize("value", FOREIGN)
def test_anything_not_from_our_cards_is_refused(value: Any) -> None:
    assert action_data(value) is None


# -- summaries for notifications -------------------------------------------------------------------


def test_the_summary_is_title_and_text_on_one_line() -> None:
    message = Message(
        kind=MessageKind.URGENT, title="Call 999 now", text="If anyone\n\nis in danger"
    )
    assert summary_text(message) == "Call 999 now — If anyone is in danger"


def test_the_summary_is_cut_at_300() -> None:
    shown_text = summary_text(Message(kind=MessageKind.INFO, text="word " * 200))
    assert len(shown_text) == 300
    assert shown_text.endswith("…")


def test_the_summary_falls_back_to_facts_then_to_something() -> None:
    status = Message(kind=MessageKind.STATUS, text="", facts=(Fact(label="CB-1", value="Open"),))
    assert summary_text(status) == "CB-1: Open"
    assert summary_text(Message(kind=MessageKind.INFO, text=" "))


# -- the case card a lead acts on ------------------------------------------------------------------


def school() -> School:
    return School(
        id="oakfield",
        name="Oakfield Primary",
        people=(
            Staff(id="dana", name="Dana Lead", roles=frozenset({Role.SAFEGUARDING_LEAD})),
            Staff(id="sam", name="Sam **Staff** [x](https://evil.example)"),
        ),
    )


def case(status: str = "new") -> Case:
    return Case(
        id="case1",
        school_id="oakfield",
        reference="CB-2026-0001",
        reporter_id="sam",
        origin_channel="teams",
        status=status,
        urgency="high",
        police_consideration=True,
        affected="colleague",
        affected_name="Jo <at>everyone</at>",
        platform="# Facebook",
        link="https://facebook.com/groups/123?a=1&b=2",
        occurred_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        description=HOSTILE_TEXT,
        responsible="parent",
        responsible_name="_Pat_",
        nature=["threatening", "hate"],
        hate_characteristics=["race"],
    )


@pytest.mark.parametrize("status", ["new", "investigating"])
def test_the_case_card_renders_with_its_case_actions(
    render: Callable[[Message], Card], status: str
) -> None:
    card = render(case_card(case(status), school()))

    presses = [CaseButtonValue.decode(e["data"]["value"]) for e in executes(card)]
    verbs = [p.verb for p in presses if p is not None]
    expected = [CaseVerb.ASSIGN_TO_ME, CaseVerb.VIEW, CaseVerb.NOTE, CaseVerb.STATUS]
    expected += [CaseVerb.ASK, CaseVerb.EXPORT]
    if status == "new":
        expected.insert(0, CaseVerb.ACKNOWLEDGE)
    assert verbs == expected
    assert {p.reference for p in presses if p is not None} == {"CB-2026-0001"}
    texts = shown(card)
    assert "Report CB-2026-0001" in texts
    assert "Sam **Staff** [x](https://evil.example)" in texts
    assert "# Facebook" in texts


def test_a_case_press_that_needs_words_opens_its_form(render: Callable[[Message], Card]) -> None:
    card = render(case_card(case(), school()))
    by_verb: dict[CaseVerb, dict[str, Any]] = {}
    for execute in executes(card):
        press = CaseButtonValue.decode(execute["data"]["value"])
        assert press is not None
        by_verb[press.verb] = execute

    result = action_data(invoke(by_verb[CaseVerb.STATUS]))
    assert result is not None
    press = CaseButtonValue.decode(result[1]["value"])
    assert press is not None
    statuses = [(s.value, s.value.title()) for s in next_statuses(case())]
    form = case_form_card(verb=press.verb, reference=press.reference, statuses=statuses)
    assert [c["value"] for c in of_type(form, "Input.ChoiceSet")[0]["choices"]] == [
        "acknowledged",
        "investigating",
        "referred",
        "closed",
    ]


def test_the_confidential_details_render_as_plain_text(render: Callable[[Message], Card]) -> None:
    lead = school().person("dana")
    assert lead is not None
    card = render(details(case(), [], school(), lead))

    texts = shown(card)
    for piece in HOSTILE:
        assert piece in texts
    assert "Name of the person affected: " in run_texts(card)


# -- what the report dialog really says ------------------------------------------------------------


async def test_every_message_of_a_whole_report_renders(
    runtime: Runtime, render: Callable[[Message], Card]
) -> None:
    sam = Person(runtime, channel="teams")
    before_evidence = [
        HAPPY_PATH[0],  # report
        "colleague",
        "Jo [click](https://evil.example) <at>everyone</at>",  # their name
        "yes",  # immediate danger: the 999 message
        *HAPPY_PATH[3:6],  # where, link, when
        f"{HAPPY_PATH[6]}\n{HOSTILE_TEXT}",  # what happened, on several lines
    ]
    for answer in before_evidence:
        await sam.say(answer)
    await sam.say("", file("**bold** # heading.png", png("the post")))
    await sam.say("done")
    for answer in [*AFTER_EVIDENCE[:2], "1, 3", "1, 2"]:  # threatening + hate; race, religion
        await sam.say(answer)
    await sam.say("edit")  # the menu of answers to change
    await sam.say("back")  # and the summary again
    await sam.say("submit")
    lead = await Person(runtime, person_id="dana", channel="teams").inbox()

    cards = [render(message) for message in [*sam.seen, *lead]]

    assert lead
    by_kind = {kind: [m for m in sam.seen if m.kind is kind] for kind in MessageKind}
    (urgent, *_) = by_kind[MessageKind.URGENT]
    assert urgent.title == "Call 999 now"
    urgent_card = cards[sam.seen.index(urgent)]
    assert urgent_card["body"][0]["style"] == "attention"
    assert run_texts(urgent_card)[0] == "⚠️ Call 999 now"

    summary = by_kind[MessageKind.SUMMARY][-1]
    assert len(summary.facts) == 13  # with who may know it was the reporter
    summary_card = cards[sam.seen.index(summary)]
    texts = run_texts(summary_card)
    assert "Jo [click](https://evil.example) <at>everyone</at>" in texts
    assert "🖼️ **bold** # heading.png" in texts
    assert all(piece in shown(summary_card) for piece in HOSTILE)
    assert [e["data"]["value"] for e in executes(summary_card)] == ["submit", "edit", "cancel"]

    multis = [m for m in sam.seen if m.expects is InputKind.MULTI_CHOICE]
    assert len(multis) == 2  # nature, then the protected characteristic
    for message in multis:
        multi_card = cards[sam.seen.index(message)]
        (checkboxes,) = of_type(multi_card, "Input.ChoiceSet")
        assert len(checkboxes["choices"]) == len([b for b in message.buttons if b.value != "skip"])

    (attachments, *_) = [m for m in sam.seen if m.expects is InputKind.ATTACHMENTS]
    assert ATTACHMENTS_HINT in run_texts(cards[sam.seen.index(attachments)])

    edit_menu = next(m for m in sam.seen if m.text == "Which answer would you like to change?")
    assert len(executes(cards[sam.seen.index(edit_menu)])) == 13

    done = sam.seen[-1]
    assert done.kind is MessageKind.DONE
    assert "CB-2026-0001" in shown(cards[-len(lead) - 1])


def test_a_questions_buttons_carry_the_question_they_answer_in_both_shapes() -> None:
    asked = Message(
        kind=MessageKind.PROMPT,
        text="Is anyone in immediate danger right now?",
        buttons=(Button(value="yes", label="Yes"), Button(value="no", label="No")),
        expects=InputKind.YES_NO,
        question="0123abcd-7",
    )
    for execute in executes(card_for(asked)):
        assert execute["data"]["question"] == "0123abcd-7"
        assert execute["fallback"]["data"]["question"] == "0123abcd-7"
        invoked = action_data({"action": {"type": "Action.Execute", **execute}})
        submitted = action_data(execute["fallback"]["data"])
        assert invoked is not None
        assert submitted is not None
        assert question_of(invoked[1]) == question_of(submitted[1]) == "0123abcd-7"
    multi = Message(
        kind=MessageKind.PROMPT,
        text="Pick all that apply.",
        buttons=(Button(value="a", label="A"), Button(value="skip", label="Skip")),
        expects=InputKind.MULTI_CHOICE,
        question="0123abcd-8",
    )
    assert {e["data"]["question"] for e in executes(card_for(multi))} == {"0123abcd-8"}
    unasked = Message(kind=MessageKind.MENU, text="Menu", buttons=(Button(value="x", label="X"),))
    assert [question_of(e["data"]) for e in executes(card_for(unasked))] == [None]


def test_a_mention_line_names_people_plainly_and_the_card_stays_valid(
    schema_validator: Draft6Validator,
) -> None:
    """The only TextBlock a card may have: configured names, reduced to what cannot format."""
    message = Message(kind=MessageKind.REMINDER, title="Comment CM-1: due soon", text="Answer it.")
    card = with_mentions(
        card_for(message),
        [("29:1jo", "Jo Williams"), ("aad-ash", "Ash [x](https://evil.example) **O'Neil**")],
        after_title=True,
    )
    line = card["body"][1]
    assert line == {
        "type": "TextBlock",
        "text": "<at>Jo Williams</at>, <at>Ash x https evil.example O'Neil</at>",
        "wrap": True,
    }
    assert [e["mentioned"]["id"] for e in card["msteams"]["entities"]] == ["29:1jo", "aad-ash"]
    for entity in card["msteams"]["entities"]:
        assert entity["text"] in line["text"]
    # `msteams` is Teams' own extension of the card, which the Adaptive Card schema leaves out.
    plain = {k: v for k, v in card.items() if k != "msteams"}
    assert best_match(schema_validator.iter_errors(plain)) is None
    assert with_mentions(card_for(message), [], after_title=True) == card_for(message)
