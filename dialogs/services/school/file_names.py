"""How a message names an uploaded file and its size, for every kind of upload.

Kept apart from `upload_checks`, which needs Pillow and pypdf, so that reading a policy from a
text file (`policybot ask --policy FILE`) words its messages the same way without importing
either.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import PureWindowsPath
from typing import Final

_MAX_SHOWN_NAME: Final = 80
_MEBIBYTE: Final = 1024 * 1024


def file_subject(original_name: str) -> str:
    """Name the file in a message the way the person will recognise it, but safely.

    Control and formatting characters are removed because they can break the chat layout or,
    like right-to-left overrides, make a name read as something it is not.
    """
    name = PureWindowsPath(original_name).name
    cleaned = "".join(
        " " if char.isspace() else char
        for char in name
        if not unicodedata.category(char).startswith("C") or char.isspace()
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        return "The file"
    if len(cleaned) > _MAX_SHOWN_NAME:
        cleaned = cleaned[: _MAX_SHOWN_NAME - 1].rstrip() + "…"
    return f"The file “{cleaned}”"


def megabytes(size: int, *, round_up: bool = False) -> str:
    """Write a size the way people say it: "10", "2.5", never "10.00" or "10485760 bytes".

    A file over the limit has its size rounded up, so it never reads as "10 MB, more than 10 MB".
    """
    tenths = size * 10 / _MEBIBYTE
    text = f"{(math.ceil(tenths) if round_up else math.floor(tenths)) / 10:.1f}"
    text = text.rstrip("0").rstrip(".")
    return "less than 0.1" if text == "0" else text
