"""What every reader of a policy file says and checks alike: the formats, in words; what counts
as a letter (a file of none is a scan); and how a damaged file is explained.

Apart from `documents` so that the Word reader (`docx`), which `documents` calls, can use them
without importing it back.
"""

from __future__ import annotations

import re
from typing import Final

FORMATS_IN_WORDS: Final = "a Word (.docx) file, a PDF, or a Markdown or plain text file"
LETTER_RE: Final = re.compile(r"[^\W\d_]")


def damaged_message(subject: str, described: str, fix: str) -> str:
    return f"{subject} looks like {described} but seems to be damaged, so I can't read it. {fix}"
