"""Reading a text file whatever Windows, Mac or Excel saved it as.

A byte order mark says the encoding for certain; without one, UTF-8 is tried and Windows-1252
is the fallback, because that is what Word's "Plain Text" and Excel's "CSV (Comma delimited)"
write on Windows. Callers word their own refusals, for the file they expected.
"""

from __future__ import annotations

import unicodedata

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


class DamagedText(ValueError):
    """It starts like Unicode text (a byte order mark) but does not decode as what it says."""


class NotText(ValueError):
    """NUL bytes, or so many control characters that it is a binary file, not text."""


def decode_text(data: bytes, *, allowed_controls: str = "\t\r\n\f") -> str:
    """The file's text; raises DamagedText or NotText when there is none to be had."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise DamagedText(codec) from exc
            break
    else:
        if b"\x00" in data:
            raise NotText("NUL bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    controls = sum(
        1 for char in text if unicodedata.category(char) == "Cc" and char not in allowed_controls
    )
    if "\x00" in text or controls * 100 > len(text):
        raise NotText("control characters")
    return text
