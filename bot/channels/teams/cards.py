"""Neutral messages as Adaptive Cards (1.5) for Teams, with a person's words kept as words.

Every piece of a Message is untrusted: a report's description, a name, a file name, even a fact's
label can be typed by someone. In Teams, a TextBlock's text and both sides of a FactSet fact are
Markdown, so "[click](https://evil.example)" would become a live link and "**bold**", "# heading"
or "1. list" would restyle the card. Escaping with backslashes is what CommonMark offers, but Teams'
clients do not agree on it (the desktop, web and mobile renderers have each handled backslashes
differently; see microsoft/AdaptiveCards#4677 and #5758): a person could see stray backslashes in
their own words, or a renderer that ignores the escape could still build the link.

So the decision here is structural rather than an escape: text from a Message only ever goes into
the `text` of a TextRun inside a RichTextBlock, which the Adaptive Card schema defines as plain text
("Markdown is not supported"). No card made here contains a TextBlock or a FactSet at all, nothing
has to be escaped, and a person's words look exactly as they typed them. Facts become "Label: value"
lines with the label in a bold run. "<at>everyone</at>" cannot mention anyone either: Teams only
turns `<at>` into a mention when the card lists a matching mention entity, and `card_for` lists
none. Button labels become action and choice titles, which Teams shows as plain text.

The one exception is `with_mentions`, for a channel post that must alert people (a channel post
notifies only those it @mentions): one TextBlock of `<at>Name</at>` with the card's mention
entities. Its names come from the school's configuration, never from a message, and are reduced
to letters, digits, spaces and name punctuation before they are written there.

Other decisions worth knowing:
- Each line of text is a RichTextBlock of its own (a blank line starts a new paragraph), because
  clients do not agree on line breaks inside a TextRun either.
- Images are only ever listed by file name: evidence is never re-hosted in Teams.
- Every button is an `Action.Execute` (the Universal Action Model: the bot can replace the card
  in place once answered) with an equivalent `Action.Submit` as its fallback, so clients without
  Action.Execute still work. Data carries `"pb"` (which of our kinds of action it is), so both
  shapes can be recognised, and anything else refused, by `action_data`. Answer buttons send no
  inputs (`associatedInputs: none`), so a required input never blocks "Skip".
- Buttons are laid out in rows of at most three: Teams shows only so many actions side by side and
  silently hides the rest in narrow windows.
- A multiple-choice question becomes checkboxes (an expanded multi-select ChoiceSet) plus a Done
  button. A value containing a comma cannot be a choice (Teams returns the ticked values
  comma-separated), so such questions fall back to ordinary buttons, one press per option.
- Teams refuses a message over 28 KB. A card is kept within `CARD_BUDGET` (measured as JSON with
  every non-ASCII character escaped, the larger way it may be sent), leaving room for "You chose"
  and the activity around it. The longest texts are cut first, with a note saying so; then the list
  of file names. Buttons are never dropped: without them a question could not be answered.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from dialogs.services.cases.card import CaseVerb
from dialogs.services.messages import Button, Fact, ImageRef, InputKind, Message, MessageKind

Card = dict[str, Any]
Element = dict[str, Any]

ANSWER: Final = "pb.answer"
MULTI_DONE: Final = "pb.multi"
MULTI_INPUT: Final = "pb.multi.values"
CASE_FORM: Final = "pb.case_form"
QUESTION: Final = "question"  # in an answer's data: the question it answers (Message.question)

SCHEMA_URL: Final = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION: Final = "1.5"

MAX_CARD_BYTES: Final = 28 * 1024  # Teams' limit for a whole message
CARD_BUDGET: Final = (
    24 * 1024
)  # what card_for may use: the rest is for "You chose" and the activity
MAX_SUMMARY: Final = 300
MAX_TITLE: Final = 200
MAX_LABEL: Final = 200
MAX_ACTION_TITLE: Final = 50
MAX_CHOICE_TITLE: Final = 200
MAX_FILE_NAME: Final = 200
MAX_IMAGES: Final = 30
MAX_LINES: Final = 60
MAX_CHOSEN: Final = 200
MAX_FORM_TEXT: Final = 3000
MAX_REFERENCE: Final = 40
ACTIONS_PER_ROW: Final = 3

ATTACHMENTS_HINT: Final = "Paste or attach the files in this chat, then press Done."
SHORTENED: Final = (
    "This message is too long to show in full in Teams, so parts of it are shortened (…)."
)

_PREFIX: Final = {
    MessageKind.URGENT: "⚠️ ",
    MessageKind.HINT: "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16} ",
    MessageKind.REMINDER: "💡 ",
}
_TITLE_STYLE: Final[Mapping[str, Any]] = {"weight": "bolder", "size": "medium"}
_TEXT_STYLE: Final[Mapping[MessageKind, Mapping[str, Any]]] = {
    MessageKind.URGENT: {"weight": "bolder", "color": "attention"},
    MessageKind.HINT: {"isSubtle": True},
}
_STYLE: Final = {"primary": "positive", "danger": "destructive"}
_KIND_OF_VERB: Final = {ANSWER: "answer", MULTI_DONE: "multi", CASE_FORM: "case_form"}
_VERB_OF_KIND: Final = {kind: verb for verb, kind in _KIND_OF_VERB.items()}
_SKIP: Final = "skip"
_HINT_ID: Final = "pb.hint.attachments"
_CHOSEN_ID: Final = "pb.chosen"
_CONTROL_KEYS: Final = frozenset({"actions", "selectAction", "inlineAction", "refresh"})
_CASE_VERBS: Final = frozenset({CaseVerb.NOTE.value, CaseVerb.STATUS.value, CaseVerb.ASK.value})


# -- the public surface ------------------------------------------------------------------------


def card_for(message: Message) -> Card:
    """Never over `CARD_BUDGET`: Teams refuses a whole message past 28 KB, and a question that
    never arrives cannot be answered, so long text is cut here rather than the send failing."""
    card = _build(message, cap=None, shown_images=MAX_IMAGES)
    if _size(card) <= CARD_BUDGET:
        return card
    longest = max([len(message.text), *(len(fact.value) for fact in message.facts)])
    shortened = _largest(lambda cap: _build(message, cap=cap, shown_images=MAX_IMAGES), longest)
    if shortened is None:
        listed = min(len(message.images), MAX_IMAGES)
        shortened = _largest(lambda shown: _build(message, cap=0, shown_images=shown), listed)
    if shortened is None:
        # Only the buttons are left, and they must not be cut: better to fail loudly in tests.
        raise ValueError(f"the buttons alone make this card larger than {CARD_BUDGET} bytes")
    return shortened


def with_mentions(card: Card, people: Sequence[tuple[str, str]], *, after_title: bool) -> Card:
    """The card with a line that @mentions each (Teams user id or Entra object id, name), so
    Teams alerts them where it is posted; under the title, when there is one."""
    entities: list[Element] = []
    names: list[str] = []
    for user_id, name in dict.fromkeys(people):
        shown = _mention_name(name)
        if not user_id or not shown:
            continue
        names.append(f"<at>{shown}</at>")
        entities.append(
            {"type": "mention", "text": names[-1], "mentioned": {"id": user_id, "name": shown}}
        )
    if not entities:
        return card
    line: Element = {"type": "TextBlock", "text": ", ".join(names), "wrap": True}
    body = list(card["body"])
    body.insert(1 if after_title and body else 0, line)
    return {**card, "body": body, "msteams": {"entities": entities}}


def _mention_name(name: str) -> str:
    """A configured name as it can stand in Markdown: letters, digits, spaces and the
    punctuation of names, so nothing in it can format the line or close the `<at>`."""
    kept = "".join(
        c if unicodedata.category(c)[0] in "LMN" or c in "'\u2019.-" else " " for c in name
    )
    return " ".join(kept.split())[:MAX_LABEL]


def summary_text(message: Message) -> str:
    """Plain text for the activity's `summary` (what a notification shows).

    Notifications show it as plain text, so it is not escaped; it must never be used as an
    activity's `text`, which Teams renders as Markdown.
    """
    parts = [" ".join(part.split()) for part in (message.title, message.text) if part]
    parts = [part for part in parts if part]
    if not parts:
        parts = [" ".join(f"{fact.label}: {fact.value}".split()) for fact in message.facts]
    return _cut(" — ".join(parts), MAX_SUMMARY) or "A message from policybot"


def answered_card(card: Mapping[str, Any], chosen: str) -> Card:
    """Replaces a question once answered, so its buttons cannot be pressed a second time.

    Everything that can act or take input goes, and so does the "attach the files" line: it
    tells the person to press a Done button that is no longer there.
    """
    answered: Card = _without_controls(dict(card))
    body = answered.setdefault("body", [])
    shown = _cut(" ".join(chosen.split()), MAX_CHOSEN) or "-"
    chosen_line = _block(
        [_run(f"You chose: {shown}", isSubtle=True)], separator=True, element_id=_CHOSEN_ID
    )
    body.append(chosen_line)
    return answered


def case_form_card(
    *,
    verb: str,
    reference: str,
    statuses: list[tuple[str, str]] | None = None,
    problem: tuple[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Card:
    """The form a handler fills in for a case action that needs words: a note, a question for
    the reporter, or a new status.

    The reference travels in the action's data and comes back with the answer, so the handler must
    check again that the person submitting may act on that case. Shown again after a refusal,
    `problem` (an input's id, what is wrong) is said beside that input, and `values` keeps what
    was typed.
    """
    if verb not in _CASE_VERBS:
        raise ValueError(f"no form for {verb!r}; only {sorted(_CASE_VERBS)} need one")
    verb = CaseVerb(verb).value
    shown = _cut(" ".join(reference.split()), MAX_REFERENCE)
    data = {"pb": "case_form", "verb": verb, "reference": reference}
    if verb == CaseVerb.NOTE:
        if statuses:
            raise ValueError("a note form has no statuses")
        body = [
            _heading(f"Add a note to {shown}"),
            _block(
                [
                    _run(
                        "It goes into the case's chronology, which only the safeguarding lead "
                        "and deputy can see.",
                        isSubtle=True,
                    )
                ]
            ),
            _text_input("text", "Note", required="Write the note before adding it."),
        ]
        submit = _execute(CASE_FORM, data, "Add note", style="positive")
    elif verb == CaseVerb.ASK:
        if statuses:
            raise ValueError("a question form has no statuses")
        body = [
            _heading(f"Ask the reporter of {shown}"),
            _block(
                [
                    _run(
                        "I pass your question to the reporter in their own chat and bring their "
                        "answer back to you. If they reported anonymously, they stay anonymous.",
                        isSubtle=True,
                    )
                ]
            ),
            _text_input("text", "Question", required="Write the question before sending it."),
        ]
        submit = _execute(CASE_FORM, data, "Send the question", style="positive")
    else:
        if not statuses:
            raise ValueError("a status form needs at least one status to change to")
        choices = [
            {"title": _cut(" ".join(label.split()), MAX_CHOICE_TITLE) or value, "value": value}
            for value, label in statuses
        ]
        body = [
            _heading(f"Change the status of {shown}"),
            {
                "type": "Input.ChoiceSet",
                "id": "status",
                "label": "New status",
                "style": "expanded",
                "isRequired": True,
                "errorMessage": "Pick the new status.",
                "wrap": True,
                "choices": choices,
            },
            _text_input(
                "text", "Reason for this decision", required="Give the reason for this decision."
            ),
            _text_input("outcome", "Outcome (needed when closing)", required=None),
        ]
        submit = _execute(CASE_FORM, data, "Change status", style="positive")
    for element in body:
        if values and element.get("id") in values:
            element["value"] = values[element["id"]]
    if problem is not None:
        at = next((i for i, e in enumerate(body) if e.get("id") == problem[0]), len(body) - 1)
        body.insert(at + 1, _block([_run(_cut(problem[1], MAX_FORM_TEXT), color="attention")]))
    body.append({"type": "ActionSet", "actions": [submit]})
    return _card(body)


def action_data(value: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """What a press on one of our cards means, from either of the shapes Teams sends it in.

    An `adaptiveCard/action` invoke (Action.Execute) has `{"action": {"verb", "data"}}`, with the
    inputs already merged into `data`. A message activity from the Action.Submit fallback has the
    data itself, inputs merged in, and (for answers and Done) our verb under "verb". Both come back
    the same: the verb, and the data with the inputs and without that extra "verb". The case form's
    data has a "verb" of its own (note or status), so for it the kind in "pb" decides.
    """
    if not isinstance(value, Mapping):
        return None
    action = value.get("action")
    if isinstance(action, Mapping):
        data = action.get("data")
        if action.get("type") != "Action.Execute" or not isinstance(data, Mapping):
            return None
        verb = action.get("verb")
        fields = dict(data)
    else:
        fields = dict(value)
        kind = fields.get("pb")
        verb = _VERB_OF_KIND.get(kind) if isinstance(kind, str) else None
        if verb != CASE_FORM and "verb" in fields and fields.pop("verb") != verb:
            return None
    if not isinstance(verb, str) or _KIND_OF_VERB.get(verb) != fields.get("pb"):
        return None
    if not _well_formed(verb, fields):
        return None
    return verb, fields


# -- building a card -------------------------------------------------------------------------


def _card(body: list[Element]) -> Card:
    return {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": VERSION, "body": body}


def _build(message: Message, *, cap: int | None, shown_images: int) -> Card:
    content = _content(message, cap=cap, shown_images=shown_images)
    if message.kind is MessageKind.URGENT and content:
        content = [{"type": "Container", "style": "attention", "items": content}]
    return _card([*content, *_controls(message)])


def _content(message: Message, *, cap: int | None, shown_images: int) -> list[Element]:
    prefix = _PREFIX.get(message.kind, "")
    elements: list[Element] = []
    title = " ".join((message.title or "").split())
    if title:
        color = "attention" if message.kind is MessageKind.URGENT else None
        elements.append(_heading(prefix + _cut(title, MAX_TITLE), color=color))
        prefix = ""
    style = _TEXT_STYLE.get(message.kind, {})
    elements.extend(_paragraphs(_cut(message.text, cap), style, prefix=prefix))
    for number, fact in enumerate(message.facts):
        elements.extend(_fact(fact, cap, first=number == 0))
    elements.extend(_image_list(message.images, shown_images))
    images_left_out = len(message.images) > shown_images
    if cap is not None or images_left_out:
        elements.append(_block([_run(SHORTENED, isSubtle=True, italic=True)], spacing="medium"))
    return elements


def _heading(text: str, *, color: str | None = None) -> Element:
    style = dict(_TITLE_STYLE)
    if color:
        style["color"] = color
    return _block([_run(text, **style)])


def _paragraphs(
    text: str, style: Mapping[str, Any], *, prefix: str = "", lead: Sequence[Element] = ()
) -> list[Element]:
    """One block per line: a blank line starts a new paragraph; the lines of one paragraph sit
    close together. `lead` (a fact's label) starts the first line."""
    blocks: list[Element] = []
    lines = _lines(text)
    if not lines and lead:
        lines = [("-", False)]
    for number, (line, new_paragraph) in enumerate(lines):
        runs = [*lead, _run(prefix + line, **style)] if number == 0 else [_run(line, **style)]
        spacing = None if number == 0 or new_paragraph else "none"
        blocks.append(_block(runs, spacing=spacing))
    return blocks


def _lines(text: str) -> list[tuple[str, bool]]:
    """Non-blank lines, each with whether a blank line came before it. Past `MAX_LINES`, the rest
    is joined onto the last line with spaces: nothing is lost, but a text of a thousand one-word
    lines cannot become a thousand blocks."""
    lines: list[tuple[str, bool]] = []
    gap = False
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            gap = bool(lines)
            continue
        lines.append((line, gap))
        gap = False
    if len(lines) > MAX_LINES:
        rest = " ".join(line for line, _ in lines[MAX_LINES - 1 :])
        lines = [*lines[: MAX_LINES - 1], (rest, lines[MAX_LINES - 1][1])]
    return lines


def _fact(fact: Fact, cap: int | None, *, first: bool) -> list[Element]:
    label = _cut(" ".join(fact.label.split()), MAX_LABEL)
    lead = [_run(f"{label}: ", weight="bolder")] if label else []
    blocks = _paragraphs(_cut(fact.value, cap), {}, lead=lead)
    if blocks:
        blocks[0]["spacing"] = "medium" if first else "small"
    return blocks


def _image_list(images: Sequence[ImageRef], shown: int) -> list[Element]:
    blocks = [
        _block(
            [_run(f"🖼️ {_cut(' '.join(image.name.split()), MAX_FILE_NAME) or '-'}", isSubtle=True)],
            spacing="small",
        )
        for image in images[:shown]
    ]
    left_out = len(images) - len(blocks)
    if left_out > 0:
        more = f"🖼️ and {left_out} more file{'s' if left_out != 1 else ''}"
        blocks.append(_block([_run(more, isSubtle=True)], spacing="small"))
    return blocks


def _controls(message: Message) -> list[Element]:
    controls: list[Element] = []
    if message.expects is InputKind.ATTACHMENTS:
        hint = _block(
            [_run(ATTACHMENTS_HINT, isSubtle=True)], spacing="medium", element_id=_HINT_ID
        )
        controls.append(hint)
    buttons = list(message.buttons)
    choices = [b for b in buttons if b.value != _SKIP]
    if message.expects is InputKind.MULTI_CHOICE and _can_be_checkboxes(choices):
        skips = [b for b in buttons if b.value == _SKIP]
        controls.append(_checkboxes(choices, skippable=bool(skips)))
        labels = {choice.value: _label(choice) for choice in choices}
        data = _asking({"pb": "multi", "labels": labels}, message.question)
        done = _execute(MULTI_DONE, data, "Done", style="positive")
        return [*controls, *_rows([done, *(_answer(b, message.question) for b in skips)])]
    return [*controls, *_rows([_answer(b, message.question) for b in buttons])]


def _asking(data: dict[str, Any], question: str | None) -> dict[str, Any]:
    """A question's buttons carry which asking of it they answer (Message.question)."""
    return {**data, QUESTION: question} if question else data


def _can_be_checkboxes(choices: Sequence[Button]) -> bool:
    values = [choice.value for choice in choices]
    return (
        bool(values) and all(v and "," not in v for v in values) and len(set(values)) == len(values)
    )


def _checkboxes(choices: Sequence[Button], *, skippable: bool) -> Element:
    error = "Tick at least one, or press Skip." if skippable else "Tick at least one."
    return {
        "type": "Input.ChoiceSet",
        "id": MULTI_INPUT,
        "isMultiSelect": True,
        "style": "expanded",
        "wrap": True,
        "isRequired": True,
        "errorMessage": error,
        "choices": [
            {"title": _cut(_label(choice), MAX_CHOICE_TITLE), "value": choice.value}
            for choice in choices
        ],
    }


def _answer(button: Button, question: str | None = None) -> Element:
    data = _asking({"pb": "answer", "value": button.value, "label": _label(button)}, question)
    style = _STYLE.get(button.style)
    return _execute(ANSWER, data, _cut(_label(button), MAX_ACTION_TITLE), style=style)


def _label(button: Button) -> str:
    """Raw: a label is one line, and an action without a title shows as an empty button."""
    return " ".join(button.label.split()) or button.value or "-"


def _execute(
    verb: str, data: Mapping[str, Any], title: str, *, style: str | None = None
) -> Element:
    """Action.Execute, falling back to the same press as Action.Submit on older clients.

    The Submit's data names our verb too, except for the case form, whose data already has a
    "verb" of its own; `action_data` recognises all of them by "pb". An answer carries its value
    in its data and takes no inputs, so a required input elsewhere on the card never blocks it.
    """
    extra = {} if verb == CASE_FORM else {"verb": verb}
    submit: Element = {"type": "Action.Submit", "title": title, "data": {**data, **extra}}
    execute: Element = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data)}
    for action in (submit, execute):
        if style:
            action["style"] = style
        if verb == ANSWER:
            action["associatedInputs"] = "none"
    execute["fallback"] = submit
    return execute


def _rows(actions: Sequence[Element]) -> list[Element]:
    return [
        {"type": "ActionSet", "actions": list(actions[start : start + ACTIONS_PER_ROW])}
        | ({"spacing": "small"} if start else {})
        for start in range(0, len(actions), ACTIONS_PER_ROW)
    ]


def _text_input(input_id: str, label: str, *, required: str | None) -> Element:
    element: Element = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isMultiline": True,
        "maxLength": MAX_FORM_TEXT,
    }
    if required:
        element["isRequired"] = True
        element["errorMessage"] = required
    return element


def _run(text: str, **style: Any) -> Element:
    return {"type": "TextRun", "text": text, **style}


def _block(
    runs: Iterable[Element],
    *,
    spacing: str | None = None,
    separator: bool = False,
    element_id: str | None = None,
) -> Element:
    block: Element = {"type": "RichTextBlock", "inlines": list(runs)}
    if spacing:
        block["spacing"] = spacing
    if separator:
        block["separator"] = True
    if element_id:
        block["id"] = element_id
    return block


# -- answered cards --------------------------------------------------------------------------


def _without_controls(node: Any) -> Any:
    """A copy of a card's JSON without anything that acts or takes input, at any depth."""
    if isinstance(node, list):
        return [_without_controls(item) for item in node if not _is_control(item)]
    if isinstance(node, dict):
        return {
            key: _without_controls(value) for key, value in node.items() if key not in _CONTROL_KEYS
        }
    return node


def _is_control(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    kind = str(node.get("type", ""))
    return (
        kind == "ActionSet"
        or kind.startswith(("Input.", "Action."))
        or node.get("id") in (_HINT_ID, _CHOSEN_ID)
    )


# -- what comes back -------------------------------------------------------------------------


def question_of(data: Mapping[str, Any]) -> str | None:
    """The question a press answers, or None (a card sent before buttons named it)."""
    question = data.get(QUESTION)
    return question if isinstance(question, str) and question else None


def moved_on_card(question: str) -> Card:
    """Replaces a card whose question had moved on when pressed: nothing was changed."""
    text = f"{question}\n↩️ This question has moved on, so that button was not used."
    return card_for(Message(kind=MessageKind.INFO, text=text.strip()))


def _well_formed(verb: str, fields: Mapping[str, Any]) -> bool:
    if verb == ANSWER:
        return isinstance(fields.get("value"), str)
    if verb == MULTI_DONE:
        return isinstance(fields.get(MULTI_INPUT, ""), str)
    return (
        fields.get("verb") in _CASE_VERBS
        and isinstance(fields.get("reference"), str)
        and all(isinstance(fields.get(key, ""), str) for key in ("text", "status", "outcome"))
    )


# -- fitting within Teams' limit -----------------------------------------------------------------


def _size(card: Mapping[str, Any]) -> int:
    """Bytes as JSON with non-ASCII escaped: the larger of the ways the card may be sent."""
    return len(json.dumps(card).encode("ascii"))


def _largest(build: Callable[[int], Card], high: int) -> Card | None:
    """The card built with the largest n in [0, high] that fits the budget, or None."""
    best: Card | None = None
    low = 0
    while low <= high:
        middle = (low + high) // 2
        card = build(middle)
        if _size(card) <= CARD_BUDGET:
            best, low = card, middle + 1
        else:
            high = middle - 1
    return best


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"
