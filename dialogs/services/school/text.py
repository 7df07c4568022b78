"""Text as a person typed it, made safe to keep: one normal form, no invisible tricks.

Every record that keeps typed text (a report, a comment, a question) cleans it the same way, so
the rule lives in the kernel rather than in any one context or in the prompts.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_JOINER = re.compile("[\u200c\u200d]")
# Scripts whose letters join, where U+200C and U+200D choose a letter's form and so are part of
# the spelling (Persian "می‌خواهم", Urdu, Arabic, Syriac, the Indic scripts, Myanmar, Khmer,
# Mongolian): the blocks they are written in, with Arabic's presentation forms.
_JOINING_SCRIPTS = (
    (0x0600, 0x08FF),
    (0x0900, 0x0DFF),
    (0x1000, 0x109F),
    (0x1780, 0x18AF),
    (0xA840, 0xA87F),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
    (0x10D00, 0x10D3F),
)


def _joining_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" and any(
        low <= ord(char) <= high for low, high in _JOINING_SCRIPTS
    )


def _emoji_end(char: str) -> bool:
    """Where an emoji can end before a joiner: a pictograph, its presentation selector, or a
    skin tone."""
    return unicodedata.category(char) == "So" or char == "\ufe0f" or 0x1F3FB <= ord(char) <= 0x1F3FF


def _meaningful(match: re.Match[str]) -> str:
    """Keep a joiner where it is part of what was written: U+200D inside an emoji sequence
    (👨‍👩‍👧 is a family, not three people), either joiner between two letters of a joining
    script. Anywhere else it changes nothing a reader sees, so it goes: between Latin letters it
    could only make a name or a reference differ from one that looks the same."""
    text, at = match.string, match.start()
    before = text[at - 1] if at > 0 else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if not before or not after:
        return ""
    if match.group() == "\u200d" and _emoji_end(before) and unicodedata.category(after) == "So":
        return match.group()
    if _joining_letter(before) and _joining_letter(after):
        return match.group()
    return ""


def clean_text(text: str) -> str:
    """Normalise what was typed and drop invisible control and direction characters.

    Direction overrides can make a name or link read differently from what it is, so they never
    reach a record. Zero-width joiners are kept only where they are part of the writing (see
    `_meaningful`).
    """
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return _JOINER.sub(_meaningful, text).strip()
