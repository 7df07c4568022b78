"""Neutral messages as Slack Block Kit, with a person's words kept as words.

Every piece of a Message is untrusted: a report's description, a name, a file name can all be
typed by anyone. Slack treats `&`, `<` and `>` as control characters in every text object, so all
text is escaped here, where it is rendered, and nowhere else: that is what stops "<!channel>"
pinging a whole workspace or "<https://evil.example|Your bank>" becoming a disguised link. Mrkdwn
text objects also carry `verbatim: true`, so Slack does not turn a bare "@here", a #channel name
or a URL into a live mention or link either. (Plain-text objects are escaped too: Slack decodes
the three entities there as well, so they read the same and the rule stays "escape everything".)
Mrkdwn emphasis characters (`*`, `_`, `~`, backtick) are left alone: Slack has no escape for
them, and at worst they restyle a person's own words; they cannot mention or link.

Slack's limits are applied to the escaped text as it is sent, never by cutting an entity in half:
header 150 characters; section text 3,000 (longer text becomes several sections, split at blank
lines, then line breaks, then spaces); at most 10 fields of 2,000 characters per section; button
labels 75 and values 2,000; 10 options per checkboxes element; 25 elements per actions block; 50
blocks per message.

Decisions worth knowing:
- A fact whose value is longer than `LONG_FACT` characters (a report's "What happened") gets a
  section of its own, in place, so it reads as a paragraph rather than squeezed into the
  two-column grid of fields; shorter facts are grouped into fields, 10 to a section.
- Images are only ever listed by file name: evidence is never re-hosted in Slack.
- Past 50 blocks, context blocks go first (the last one first), then the text and facts are cut
  from the end with a note saying so. Buttons are never dropped: without them a question could
  not be answered.
- A multiple-choice question becomes checkboxes plus a Done button. If its options cannot be
  checkboxes (a value longer than Slack's 150 characters, or too many), it falls back to
  ordinary buttons, where one press answers with one option and typing "1, 3" still works.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.channels.slack.ids import (
    MULTI_BLOCK,
    MULTI_DONE,
    MULTI_SELECT_PATTERN,
    button_action_id,
    multi_select_action_id,
    question_block_id,
)
from dialogs.services.messages import Button, Fact, ImageRef, InputKind, Message, MessageKind

Block = dict[str, Any]

MAX_BLOCKS: Final = 50
MAX_HEADER: Final = 150
MAX_SECTION: Final = 3000
MAX_FIELDS: Final = 10
MAX_FIELD: Final = 2000
MAX_ACTIONS: Final = 25
MAX_BUTTON_LABEL: Final = 75
MAX_BUTTON_VALUE: Final = 2000
MAX_OPTIONS: Final = 10
MAX_OPTION_TEXT: Final = 75
MAX_OPTION_VALUE: Final = 150
MAX_CONTEXT_ELEMENTS: Final = 10
MAX_FALLBACK: Final = 3000
# Longer fact values read better as a paragraph of their own than as a field.
LONG_FACT: Final = 250
MAX_LABEL: Final = 200
MAX_FILE_NAME: Final = 200
MAX_CHOSEN: Final = 500

ATTACHMENTS_HINT: Final = "Drag the files into this chat (or use the + button), then press Done."
SHORTENED: Final = "_This message is too long to show in full in Slack, so the end is left out._"

_PREFIX: Final = {
    MessageKind.URGENT: ":rotating_light: ",
    MessageKind.HINT: ":information_source: ",
    MessageKind.REMINDER: ":bulb: ",
}
_SEPARATORS: Final = ("\n\n", "\n", " ")
# Member IDs as Slack gives them; anything else in the configuration is never made a mention.
_MEMBER: Final = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_SKIP: Final = "skip"


def escape(text: str) -> str:
    """`&` first, so the entities made for `<` and `>` are not escaped a second time."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_blocks(message: Message, *, mention: str | None = None) -> list[Block]:
    """`mention` (from `mentions`) goes first, under the title, where Slack alerts the people
    it names."""
    if mention is None:
        return _build(message, interactive=True, reserve=0)
    blocks = _build(message, interactive=True, reserve=1)
    at = 1 if blocks and blocks[0]["type"] == "header" else 0
    blocks.insert(at, _section(mention))
    return blocks


def fallback_text(message: Message, *, mention: str | None = None) -> str:
    """Notifications and screen readers get this instead of the blocks, so it must say enough."""
    parts = [p.strip() for p in (message.title, message.text) if p and p.strip()]
    if not parts:
        parts = [f"{fact.label}: {fact.value}" for fact in message.facts]
    if mention is None:
        return _fit("\n".join(parts), MAX_FALLBACK)
    return mention + " " + _fit("\n".join(parts), MAX_FALLBACK - len(mention) - 1)


def mentions(member_ids: Sequence[str], *, group: str | None = None) -> str | None:
    """The mrkdwn that alerts people in a channel post (a post alerts only those it mentions,
    under Slack's default settings): the user group when one is configured, otherwise each
    member. None when nobody can be mentioned."""
    if group is not None:
        return f"<!subteam^{group}>"
    shown = [f"<@{m}>" for m in dict.fromkeys(member_ids) if _MEMBER.match(m)]
    return " ".join(shown) or None


def answered_blocks(message: Message, chosen: str) -> list[Block]:
    """Replaces a prompt once answered, so its old buttons cannot be pressed a second time.

    The "drag the files" line goes too: it tells the person to press a Done button that is
    no longer there.
    """
    blocks = _build(message, interactive=False, reserve=1)
    blocks.append(_context([f"You chose: {_fit(chosen.strip(), MAX_CHOSEN)}"]))
    return blocks


def selected_values(state_values: Mapping[str, Any]) -> list[str]:
    """The values ticked in a multiple-choice question, from a block_actions payload's
    `state.values`, in the order they were offered.

    It lives beside the renderer because only the renderer knows how the checkboxes are laid out
    (one block, possibly several elements).
    """
    block = state_values.get(MULTI_BLOCK)
    if not isinstance(block, Mapping):
        return []
    picked: list[str] = []
    for action_id in sorted(block, key=_element_order):
        element = block[action_id]
        if not MULTI_SELECT_PATTERN.match(action_id) or not isinstance(element, Mapping):
            continue
        for option in element.get("selected_options") or ():
            if isinstance(option, Mapping) and isinstance(option.get("value"), str):
                picked.append(option["value"])
    return picked


# -- building ------------------------------------------------------------------------------


def _build(message: Message, *, interactive: bool, reserve: int) -> list[Block]:
    head = _header(message.title)
    body = [*_text_sections(message.text, message.kind), *_fact_blocks(message.facts)]
    contexts = _image_contexts(message.images)
    actions: list[Block] = []
    if interactive:
        if message.expects is InputKind.ATTACHMENTS:
            contexts.append(_context([ATTACHMENTS_HINT]))
        actions = _actions(
            message.buttons,
            multi=message.expects is InputKind.MULTI_CHOICE,
            question=message.question,
        )
    return _within_limit(head, body, contexts, actions, limit=MAX_BLOCKS - reserve)


def _within_limit(
    head: list[Block],
    body: list[Block],
    contexts: list[Block],
    actions: list[Block],
    *,
    limit: int,
) -> list[Block]:
    """Keeps a message under Slack's block limit, giving up the least important blocks first."""
    while contexts and len(head) + len(body) + len(contexts) + len(actions) > limit:
        contexts.pop()
    room = limit - len(head) - len(contexts) - len(actions)
    if len(body) > room:
        body = [*body[: max(room - 1, 0)], _section(SHORTENED)]
    return [*head, *body, *contexts, *actions][:limit]


def _header(title: str | None) -> list[Block]:
    shown = " ".join((title or "").split())
    if not shown:
        return []
    return [{"type": "header", "text": _plain(_fit(shown, MAX_HEADER))}]


def _text_sections(text: str, kind: MessageKind) -> list[Block]:
    prefix = _PREFIX.get(kind, "")
    bold = kind is MessageKind.URGENT
    chunks = _split(text.strip(), MAX_SECTION - len(prefix), overhead=2 if bold else 0)
    sections = []
    for number, chunk in enumerate(chunks):
        shown = _bold_lines(chunk) if bold else escape(chunk)
        sections.append(_section((prefix if number == 0 else "") + shown))
    return sections


def _bold_lines(text: str) -> str:
    """Slack's bold stops at a line break and needs no space inside the stars, so each line is
    trimmed and wrapped on its own; the text is escaped before the stars go on."""
    return "\n".join(
        f"*{escape(line.strip())}*" if line.strip() else "" for line in text.split("\n")
    )


def _fact_blocks(facts: Sequence[Fact]) -> list[Block]:
    blocks: list[Block] = []
    fields: list[dict[str, Any]] = []
    for fact in facts:
        if len(fact.value) > LONG_FACT:
            if fields:
                blocks.append({"type": "section", "fields": fields})
                fields = []
            blocks.extend(_long_fact(fact))
            continue
        fields.append(_mrkdwn(_field_text(fact)))
        if len(fields) == MAX_FIELDS:
            blocks.append({"type": "section", "fields": fields})
            fields = []
    if fields:
        blocks.append({"type": "section", "fields": fields})
    return blocks


def _label(label: str) -> str:
    shown = " ".join(label.split())
    return f"*{_fit(shown, MAX_LABEL)}*\n" if shown else ""


def _field_text(fact: Fact) -> str:
    label = _label(fact.label)
    text = label + _fit(fact.value.strip(), MAX_FIELD - len(label))
    return text if text.strip() else "-"


def _long_fact(fact: Fact) -> list[Block]:
    label = _label(fact.label)
    chunks = _split(fact.value.strip(), MAX_SECTION - len(label), overhead=0)
    return [
        _section((label if number == 0 else "") + escape(chunk))
        for number, chunk in enumerate(chunks)
    ]


def _image_contexts(images: Sequence[ImageRef]) -> list[Block]:
    lines = [f":frame_with_picture: {_fit(image.name.strip(), MAX_FILE_NAME)}" for image in images]
    return [
        _context(lines[start : start + MAX_CONTEXT_ELEMENTS])
        for start in range(0, len(lines), MAX_CONTEXT_ELEMENTS)
    ]


def _actions(buttons: Sequence[Button], *, multi: bool, question: str | None) -> list[Block]:
    """The buttons, in blocks named after the question they answer (ids.question_block_id)."""
    indexed = list(enumerate(buttons))
    if multi and (checklist := _checklist(indexed, question)):
        return [checklist]
    elements = [_button(index, button) for index, button in indexed]
    blocks: list[Block] = []
    for number, start in enumerate(range(0, len(elements), MAX_ACTIONS)):
        block: Block = {"type": "actions", "elements": elements[start : start + MAX_ACTIONS]}
        if question:
            block["block_id"] = question_block_id(question, number)
        blocks.append(block)
    return blocks


def _checklist(indexed: list[tuple[int, Button]], question: str | None) -> Block | None:
    """Checkboxes for "pick all that apply", or None when Slack could not show them."""
    choices = [button for _, button in indexed if button.value != _SKIP]
    skips = [_button(index, button) for index, button in indexed if button.value == _SKIP]
    groups = [choices[start : start + MAX_OPTIONS] for start in range(0, len(choices), MAX_OPTIONS)]
    fits = all(0 < len(choice.value) <= MAX_OPTION_VALUE for choice in choices)
    if not choices or not fits or len(groups) + 1 + len(skips) > MAX_ACTIONS:
        return None
    checkboxes = [
        {
            "type": "checkboxes",
            "action_id": multi_select_action_id(number),
            "options": [
                {"text": _plain(_fit(_label_text(choice), MAX_OPTION_TEXT)), "value": choice.value}
                for choice in group
            ],
        }
        for number, group in enumerate(groups)
    ]
    done = {
        "type": "button",
        "action_id": MULTI_DONE,
        "text": _plain("Done"),
        "style": "primary",
    }
    if question:
        done["value"] = question
    return {"type": "actions", "block_id": MULTI_BLOCK, "elements": [*checkboxes, done, *skips]}


def _button(index: int, button: Button) -> dict[str, Any]:
    if len(button.value) > MAX_BUTTON_VALUE:
        # A cut value would come back as a different answer; better to fail loudly in tests.
        raise ValueError(
            f"button value is {len(button.value)} characters; Slack allows {MAX_BUTTON_VALUE}"
        )
    element: dict[str, Any] = {
        "type": "button",
        "action_id": button_action_id(index),
        "text": _plain(_fit(_label_text(button), MAX_BUTTON_LABEL)),
    }
    if button.value:
        element["value"] = button.value
    if button.style != "default":
        element["style"] = button.style
    return element


def _label_text(button: Button) -> str:
    """Raw: a label is one line, and Slack refuses an empty one."""
    return " ".join(button.label.split()) or button.value or "-"


# -- text objects ---------------------------------------------------------------------------


def _plain(escaped: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": escaped, "emoji": True}


def _mrkdwn(escaped: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": escaped, "verbatim": True}


def _section(escaped: str) -> Block:
    return {"type": "section", "text": _mrkdwn(escaped)}


def _context(escaped_lines: Sequence[str]) -> Block:
    return {"type": "context", "elements": [_mrkdwn(line) for line in escaped_lines]}


def _element_order(action_id: str) -> tuple[int, str]:
    tail = action_id.rsplit(".", 1)[-1]
    return (int(tail) if tail.isdigit() else 0, action_id)


# -- fitting text into Slack's limits ---------------------------------------------------------


def _fit(text: str, limit: int) -> str:
    """Escaped text of at most `limit` characters, cut with "…" between characters of the
    original, so an entity such as `&amp;` is never left half there."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    kept: list[str] = []
    used = 0
    for character in text:
        piece = escape(character)
        if used + len(piece) > limit - 1:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept).rstrip() + "…"


def _measure(text: str, overhead: int) -> int:
    """An upper bound on the rendered length: escaped, plus `overhead` per non-blank line (the
    two stars of bold text). Joining two pieces never costs more than their sum plus the
    separator, which is what lets `_split` add sizes up instead of re-measuring."""
    lines = sum(1 for line in text.split("\n") if line.strip()) if overhead else 0
    return len(escape(text)) + overhead * lines


def _split(text: str, limit: int, *, overhead: int, level: int = 0) -> list[str]:
    """Raw text in pieces that each render within `limit`, broken at the gentlest boundary that
    works: paragraphs, then lines, then words, then (for a monster word) characters."""
    if _measure(text, overhead) <= limit:
        return [text] if text.strip() else []
    if level == len(_SEPARATORS):
        return _split_characters(text, limit - overhead)
    separator = _SEPARATORS[level]
    chunks: list[str] = []
    current: str | None = None
    size = 0
    for part in text.split(separator):
        pieces = _split(part, limit, overhead=overhead, level=level + 1) if part.strip() else [""]
        for number, piece in enumerate(pieces):
            cost = _measure(piece, overhead)
            joined = size + len(separator) + cost
            if separator == " " and current and current.strip() and piece.strip():
                joined -= overhead  # words joined on one line share one pair of stars
            # Only a part's first piece may join what came before: its later pieces were split
            # apart at a finer boundary and must not be glued back with this coarser separator.
            if current is not None and number == 0 and joined <= limit:
                current, size = current + separator + piece, joined
            else:
                if current is not None:
                    chunks.append(current)
                current, size = piece, cost
    if current is not None:
        chunks.append(current)
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def _split_characters(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for character in text:
        cost = len(escape(character))
        if current and used + cost > limit:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(character)
        used += cost
    if current:
        chunks.append("".join(current))
    return chunks
