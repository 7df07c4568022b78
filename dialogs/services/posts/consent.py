"""The parental consent register: which pupils may appear in the school's publications, where.

Before a post with photographs of pupils goes on an official account, consent must be on record
for every pictured child *for that platform* (consent for the website does not cover Instagram),
and some children must never be published at all. Schools keep this in their management
information system (SIMS, Arbor, Bromcom...) and export it as CSV; this module reads those
exports and answers "may these children appear on these platforms?".

Reading an export
    MIS exports vary, so the reader accepts what they actually look like: UTF-8 with or without
    a byte order mark, UTF-16 with one, otherwise Windows-1252 (what Excel writes on Windows);
    commas, semicolons or tabs between cells (whichever makes sense of the headings); a title
    line or two above the headings; the pupil's name in one column ("Hart, Amelia" is turned
    round) or in forename and surname columns; one column per platform, recognised by the
    platform's name in its heading; and optional year/class and "never publish" columns.

    A file is imported whole or not at all. Every problem in it is gathered and reported at
    once, with the row numbers a spreadsheet shows, because a register that is half imported
    would silently block (or, worse, clear) children whose rows were skipped.

Keeping it
    Only the newest import's rows are kept for a school: older consent is out of date, and this
    is personal data about children, so it is not kept longer than it is useful. Each import
    leaves a `ConsentImport` record of where consent came from (file, SHA-256, who, when), and
    an audit entry with counts only: the audit log never names a child.

Matching names as staff type them (`ConsentRegister.find`)
    Names are compared by `match_key`: case, accents, apostrophes, hyphens and spacing do not
    matter, so "zoe oneill" finds "Zoë O'Neill" with either apostrophe. The words may come in
    any order ("Hart Amelia", "Hart, Amelia"). Pupils whose names have exactly the words typed
    are found; only if there are none, pupils whose names have all of them and more ("Amelia
    Hart" finds "Amelia Rose Hart"), and then only when at least two words were typed. A
    forename with a surname initial ("Amelia H") is deliberately *not* accepted: it could clear
    a different child, and a consent check must err towards blocking. A year group or class
    after the name ("Amelia Hart (Year 4)", "Amelia Hart (Willow)", "Amelia Hart, 4B",
    "Amelia Hart Y4") narrows the search when two pupils share a name; "4" fits class "4B".
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PureWindowsPath
from typing import Final

from sqlalchemy import delete, insert
from sqlmodel import col, select

from dialogs.services.errors import InvalidRequest
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import AuditedService
from dialogs.services.school.file_names import file_subject, megabytes
from dialogs.services.school.permissions import CONSENT_ADMIN_ROLES
from dialogs.services.school.platforms import LABELS, Platform, platforms_in
from dialogs.services.school.schools import School
from dialogs.services.school.text_files import DamagedText, NotText, decode_text
from storage.models import ConsentImport, PupilConsent

__all__ = [
    "COMMAND_LINE",
    "CONSENT_ADMIN_ROLES",
    "MAX_CONSENT_BYTES",
    "MAX_PUPILS",
    "ConsentCheck",
    "ConsentRegister",
    "ConsentRow",
    "ConsentStatus",
    "ParsedRegister",
    "PupilOutcome",
    "match_key",
    "parse_consent_csv",
    "split_qualifier",
]

COMMAND_LINE: Final = "command-line"

_MEBIBYTE: Final = 1024 * 1024
# A register for the largest all-through school is well under a megabyte.
MAX_CONSENT_BYTES: Final = 5 * _MEBIBYTE
MAX_PUPILS: Final = 20_000
MAX_LISTED_PROBLEMS: Final = 20
# Headings may follow a title line or two ("Photo consent report - printed 01/09/2026").
_HEADER_SEARCH_ROWS: Final = 8
_MAX_NAME_CHARS: Final = 200
_MAX_YEAR_CHARS: Final = 64  # the column's width
_YEAR_SEPARATOR: Final = " / "  # between a year group and a class when a file has both
_DELIMITERS: Final = (",", ";", "\t")
_OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LETTER_RE: Final = re.compile(r"[^\W\d_]")

_SAVE_AS_CSV: Final = (
    "Please open it in Excel, choose File > Save As > CSV UTF-8 (Comma delimited) (*.csv), "
    "and import that file (or export the consent report from your MIS as CSV)."
)


# -- names ---------------------------------------------------------------------------------------

# Letters that NFKD does not take apart into a base letter and an accent.
_FOLD: Final = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
# Apostrophes (straight or curly) vanish rather than split a name: "O'Neill" is "ONeill".
_APOSTROPHES_RE: Final = re.compile("['\u2019\u2018\u02bc\u0060\u00b4\u2032]")


def match_key(name: str) -> str:
    """A name folded for comparison: "Zoë O'Neill", "ZOE O'NEILL" and "zoe oneill" are equal.

    Case and accents are dropped (NFKD), apostrophes removed, and hyphens, dots, commas and
    runs of spaces become single spaces, so "Smith-Jones" matches "Smith Jones".
    """
    text = _APOSTROPHES_RE.sub("", name.casefold())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).translate(_FOLD)
    text = re.sub(r"[\W_]+", " ", text)
    return " ".join(text.split())[:255]


def _year_key(text: str) -> str:
    """A year group or class folded for comparison: "Year 4", "Y4", "yr 4" and "4" are equal."""
    key = match_key(text).replace(" ", "")
    key = re.sub(r"^(?:nc)?(?:year|yr|y)(?=\d)", "", key)
    if key in {"r", "yr", "rec", "reception", "yearr", "yearreception"}:
        return "reception"
    if key in {"n", "nur", "nursery", "yearn"}:
        return "nursery"
    return key


def _year_matches(qualifier: str, year_group: str | None) -> bool:
    """Whether what staff typed after a name ("Year 4", "4B") fits a pupil's year or class.

    A year matches a class in that year and the other way round ("4" fits "4B"), but "1" never
    fits "10".
    """
    if not year_group:
        return False
    wanted = _year_key(qualifier)
    if not wanted:
        return False
    for part in year_group.split(_YEAR_SEPARATOR):
        have = _year_key(part)
        if not have:
            continue
        if have == wanted:
            return True
        shorter, longer = sorted((have, wanted), key=len)
        if shorter.isdigit() and longer.startswith(shorter) and not longer[len(shorter)].isdigit():
            return True
    return False


_YEAR_WORDS: Final = frozenset({"reception", "rec", "nursery", "yr"})
_TRAILING_YEAR_RE: Final = re.compile(r"^(.*?\S)\s+((?:year|yr|y)\s*(?:\d{1,2}|r)\b.*)$", re.I)


def split_qualifier(text: str) -> tuple[str, str | None]:
    """Split a typed name from the year group or class that follows it, if any.

    "Amelia Hart (Year 4)", "Amelia Hart, 4B", "Amelia Hart - Y4" and "Amelia Hart Year 4" all
    give ("Amelia Hart", ...). A comma followed by words without a digit is a surname-first
    name ("Hart, Amelia"), not a class.
    """
    text = " ".join(text.split())
    bracketed = re.fullmatch(r"(.*?)\s*[(\[]([^()\[\]]*)[)\]]", text)
    if bracketed and bracketed.group(1).strip():
        return bracketed.group(1).strip(" ,-"), bracketed.group(2).strip() or None
    for separator in (",", " - ", " \u2013 "):
        if separator in text:
            head, tail = text.rsplit(separator, 1)
            tail = tail.strip()
            if head.strip() and (
                re.search(r"\d", tail) or match_key(tail) in _YEAR_WORDS | {"year r"}
            ):
                return head.strip(" ,-"), tail
    trailing = _TRAILING_YEAR_RE.match(text)
    if trailing:
        return trailing.group(1).strip(" ,-"), trailing.group(2)
    words = text.split(" ")
    if len(words) > 2 and re.search(r"\d", words[-1]):
        return " ".join(words[:-1]).strip(" ,-"), words[-1]
    return text, None


# -- reading a CSV -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRow:
    """One pupil as the register gives them; `line` is the row number a spreadsheet shows."""

    name: str
    year_group: str | None
    consent: dict[Platform, bool]
    never_publish: bool
    line: int


@dataclass(frozen=True)
class ParsedRegister:
    """A whole register, read and checked; nothing is stored until every row is good."""

    pupils: tuple[ConsentRow, ...]
    platforms: tuple[Platform, ...]


_NAME_FILLER: Final = frozenset(
    {"pupil", "pupils", "student", "students", "child", "childs", "children", "learner", "s"}
)
_FULL_NAME: Final = frozenset({"name", "names", "full name", "fullname", "pupil", "student"})
_SURNAME_FIRST: Final = frozenset(
    {"surname forename", "surname forenames", "surname first name", "last name first name"}
)
_FORENAME: Final = frozenset(
    {"forename", "forenames", "first name", "firstname", "first names", "given name", "given names"}
)
_SURNAME: Final = frozenset({"surname", "last name", "lastname", "family name"})
_YEAR: Final = frozenset(
    {
        "year",
        "year group",
        "yeargroup",
        "nc year",
        "national curriculum year",
        "yr",
        "curriculum year",
    }
)
_CLASS: Final = frozenset(
    {
        "class",
        "reg group",
        "registration group",
        "reg",
        "form",
        "form group",
        "tutor group",
        "tutor",
        "registration form",
    }
)
_NEVER_PHRASES: Final = (
    "never publish",
    "never to be published",
    "do not publish",
    "dont publish",
    "not to be published",
    "no photographs",
    "no photograph",
    "no photos",
    "no photo",
    "no images",
    "no media",
    "no publicity",
    "do not photograph",
    "photo opt out",
    "media opt out",
    "opt out",
    "optout",
    "opted out",
    "withdrawn",
)
# Words that make a platform heading read as a refusal ("Instagram opt-out"): its ticks would
# mean the opposite of consent, so such a column is refused rather than guessed at.
_REFUSAL_WORDS: Final = frozenset(
    {"not", "never", "dont", "refused", "refusal", "declined", "without", "withdrawn", "opt"}
)


def _preference(words: list[str]) -> int:
    """Which of several name columns wins: preferred names are what staff know children by."""
    if "preferred" in words or "known" in words:
        return 0
    if "legal" in words or "official" in words:
        return 2
    return 1


@dataclass
class _Columns:
    """What each column of the header row holds, by index (earlier in a list wins)."""

    headings: list[str]
    full_name: list[int]
    forename: list[int]
    surname: list[int]
    year: list[int]
    form: list[int]
    never: list[int]
    platforms: dict[Platform, list[int]]
    refusals: list[str]  # platform headings that read as refusals

    @property
    def has_name(self) -> bool:
        return bool(self.full_name) or bool(self.forename and self.surname)

    @property
    def has_platform(self) -> bool:
        return bool(self.platforms) or bool(self.refusals)

    @property
    def recognised(self) -> int:
        return (
            len(self.full_name)
            + len(self.forename)
            + len(self.surname)
            + len(self.year)
            + len(self.form)
            + len(self.never)
            + sum(len(v) for v in self.platforms.values())
        )


def _classify(record: list[str]) -> _Columns:
    columns = _Columns(
        headings=[" ".join(cell.split()) for cell in record],
        full_name=[],
        forename=[],
        surname=[],
        year=[],
        form=[],
        never=[],
        platforms={},
        refusals=[],
    )
    ranked: dict[str, list[tuple[int, int]]] = {"full": [], "fore": [], "sur": []}
    for index, heading in enumerate(columns.headings):
        words = match_key(heading).split()
        if not words:
            continue
        core_words = [w for w in words if w not in _NAME_FILLER | {"preferred", "legal", "known"}]
        core = " ".join(core_words)
        rank = _preference(words)
        joined = " ".join(words)
        if core in _FULL_NAME or core in _SURNAME_FIRST or (not core_words and len(words) < 3):
            ranked["full"].append((rank, index))
            continue
        if core in _FORENAME or joined == "known as":
            ranked["fore"].append((0 if joined == "known as" else rank, index))
            continue
        if core in _SURNAME:
            ranked["sur"].append((rank, index))
            continue
        if core in _YEAR or joined in _YEAR:
            columns.year.append(index)
            continue
        if core in _CLASS or joined in _CLASS:
            columns.form.append(index)
            continue
        padded = f" {joined} "
        named = platforms_in(heading)
        refusing = any(f" {phrase} " in padded for phrase in _NEVER_PHRASES) or bool(
            _REFUSAL_WORDS & set(words)
        )
        if named and refusing:
            columns.refusals.append(heading)
        elif named:
            for platform in named:
                columns.platforms.setdefault(platform, []).append(index)
        elif any(f" {phrase} " in padded for phrase in _NEVER_PHRASES):
            columns.never.append(index)
    columns.full_name = [i for _, i in sorted(ranked["full"])]
    columns.forename = [i for _, i in sorted(ranked["fore"])]
    columns.surname = [i for _, i in sorted(ranked["sur"])]
    return columns


_BLANK: Final = ""
_CONSENT_VALUES: Final[dict[str, bool]] = {
    **dict.fromkeys(
        [
            "yes",
            "y",
            "true",
            "1",
            "x",
            "consent given",
            "given",
            "granted",
            "consent granted",
            "consented",
            "consent",
            "agreed",
            "agree",
            "tick",
            "ticked",
            "yes consent given",
            "\u2713",  # check mark
            "\u2714",  # heavy check mark
            "\u2611",  # ballot box with check
            "\u2705",  # white heavy check mark
        ],
        True,
    ),
    **dict.fromkeys(
        [
            _BLANK,
            "no",
            "n",
            "false",
            "0",
            "not given",
            "consent not given",
            "refused",
            "consent refused",
            "withdrawn",
            "consent withdrawn",
            "no consent",
            "not consented",
            "declined",
            # No form back means no consent on record; reading these as "no" can only block.
            "not returned",
            "not received",
            "pending",
            "awaiting",
            "unknown",
            "none",
            "n a",
            "na",
            "not applicable",
            "\u2717",  # ballot x
            "\u2718",  # heavy ballot x
            "\u274c",  # cross mark
            "\u2610",  # empty ballot box
        ],
        False,
    ),
}
# In a "never publish" column a tick, or words repeating the heading, mean "never publish";
# "refused" or "given" could mean either, so they are not accepted there.
_NEVER_VALUES: Final[dict[str, bool]] = {
    **dict.fromkeys(
        [
            "yes",
            "y",
            "true",
            "1",
            "x",
            "tick",
            "ticked",
            "withdrawn",
            "opted out",
            "opt out",
            "never publish",
            "do not publish",
            "\u2713",
            "\u2714",
            "\u2611",
            "\u2705",
        ],
        True,
    ),
    **dict.fromkeys(
        [_BLANK, "no", "n", "false", "0", "\u2717", "\u2718", "\u274c", "\u2610"], False
    ),
}


def _value(cell: str, vocabulary: dict[str, bool]) -> bool | None:
    """What a cell says, or None if it is not one of the answers this column can hold."""
    text = " ".join(cell.casefold().split()).rstrip(".!")
    if text in vocabulary:
        return vocabulary[text]
    words = " ".join(re.sub(r"[-_/:;,.()]+", " ", text).split())
    return vocabulary.get(words)


def _shown(value: str, limit: int = 30) -> str:
    value = " ".join(value.split())
    return f'"{value[:limit]}..."' if len(value) > limit else f'"{value}"'


def _decode(data: bytes, subject: str) -> str:
    """The file's text, or a kind refusal naming what the file really is."""
    if not data.strip():
        raise InvalidRequest(
            f"{subject} is empty, so there is no consent register in it. Please check that you "
            "chose the right file."
        )
    if len(data) > MAX_CONSENT_BYTES:
        raise InvalidRequest(
            f"{subject} is larger than {megabytes(MAX_CONSENT_BYTES)} MB, far more than a consent "
            "register needs, so nothing was imported. Please export only the pupils' names, year "
            "groups and consent columns, as CSV."
        )
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", _OLE2_MAGIC)):
        raise InvalidRequest(
            f"{subject} is an Excel workbook (or another packaged file), not a CSV file. "
            + _SAVE_AS_CSV
        )
    if data.startswith(b"%PDF-"):
        raise InvalidRequest(f"{subject} is a PDF, not a CSV file. " + _SAVE_AS_CSV)
    try:
        text = decode_text(data, allowed_controls="\t\r\n")
    except DamagedText as exc:
        raise InvalidRequest(
            f"{subject} starts like Unicode text but is damaged further in, so I can't "
            "read it. " + _SAVE_AS_CSV
        ) from exc
    except NotText as exc:
        raise InvalidRequest(f"{subject} isn't a CSV file I can read. " + _SAVE_AS_CSV) from exc
    return text


def _reader(text: str, delimiter: str) -> Iterable[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


@dataclass(frozen=True)
class _Header:
    delimiter: str
    index: int  # of the header record, from 0
    columns: _Columns


def _find_header(text: str, subject: str) -> tuple[_Header | None, list[str], list[_Columns]]:
    """The delimiter, header row and columns that make sense of the file (None if none do),
    the most headings any first row has, and every candidate row, for saying what is missing.

    Each delimiter is tried on the first rows and the one whose header row is understood best
    wins: a semicolon file read with commas has no name column, so it cannot be mistaken.
    """
    best: tuple[int, _Header] | None = None
    fallback: tuple[int, list[str]] = (0, [])
    candidates: list[_Columns] = []
    for delimiter in _DELIMITERS:
        try:
            rows = _reader(text, delimiter)
            for index, record in enumerate(rows):
                if index >= _HEADER_SEARCH_ROWS:
                    break
                if not any(cell.strip() for cell in record):
                    continue
                columns = _classify(record)
                candidates.append(columns)
                filled = [h for h in columns.headings if h]
                if len(filled) > fallback[0]:
                    fallback = (len(filled), filled)
                if columns.has_name and columns.has_platform:
                    if best is None or columns.recognised > best[0]:
                        best = (columns.recognised, _Header(delimiter, index, columns))
                    break
        except csv.Error as exc:
            raise InvalidRequest(f"{subject} isn't a CSV file I can read. " + _SAVE_AS_CSV) from exc
    return (best[1] if best else None), fallback[1], candidates


def _headings_found(headings: list[str]) -> str:
    shown = [_shown(h, 40) for h in headings[:15]]
    if len(headings) > 15:
        shown.append(f"and {len(headings) - 15} more")
    return ", ".join(shown) if shown else "none"


def _no_header_message(subject: str, headings: list[str], candidates: list[_Columns]) -> str:
    found = _headings_found(headings)
    refusals = [h for c in candidates for h in c.refusals]
    if any(c.has_platform for c in candidates) and not any(c.has_name for c in candidates):
        return (
            f"I couldn't find a column of pupils' names in {_within(subject)} (a heading such as "
            '"Pupil name", or "Forename" and "Surname") in its first rows; headings I found: '
            f"{found}. Nothing was imported."
        )
    if refusals:
        return _refusal_message(subject, refusals)
    return (
        f"I couldn't find any consent columns in {_within(subject)}: consent is given per "
        "platform, so each platform needs a column of its own with the platform in its "
        'heading (such as "Instagram", "Facebook" or "Photo consent - School website"), next '
        f"to a column of pupils' names. Headings I found: {found}. Nothing was imported."
    )


def _within(subject: str) -> str:
    """`file_subject` starts a sentence ("The file ..."); this names the file inside one."""
    return "the" + subject[3:] if subject.startswith("The ") else subject


def _refusal_message(subject: str, refusals: list[str]) -> str:
    named = ", ".join(_shown(h, 40) for h in refusals)
    return (
        f"In {_within(subject)}, I can't tell whether a tick under {named} means consent was "
        "given or refused, so nothing was imported. Please rename the heading to say consent "
        '(such as "Instagram consent"), with yes for consent given, and import the file again.'
    )


def _problems_message(subject: str, problems: list[str], columns: _Columns) -> str:
    listed = problems[:MAX_LISTED_PROBLEMS]
    lines = [
        f"I couldn't import {_within(subject)}: it has {len(problems)} "
        f"problem{'s' if len(problems) != 1 else ''}, so nothing was imported and the consent "
        "register in use has not changed.",
        *(f"- {p}" for p in listed),
    ]
    if len(problems) > len(listed):
        lines.append(f"- and {len(problems) - len(listed)} more.")
    read_as = ", ".join(
        f"{_shown(columns.headings[i], 40)} ({', '.join(LABELS[p] for p in ps)})"
        for i, ps in _platforms_by_column(columns).items()
    )
    lines.append(
        f"I read these headings as consent: {read_as}. Consent cells should say yes or no "
        "(a tick or an x counts as yes; blank counts as no). If one of those columns is not "
        "about consent, delete it from the file. Please correct the file and import it again."
    )
    return "\n".join(lines)


def _platforms_by_column(columns: _Columns) -> dict[int, list[Platform]]:
    found: dict[int, list[Platform]] = {}
    for platform, indexes in columns.platforms.items():
        for index in indexes:
            found.setdefault(index, []).append(platform)
    return dict(sorted(found.items()))


def _cell(record: list[str], index: int) -> str:
    return " ".join(record[index].split()) if index < len(record) else ""


def _first(record: list[str], indexes: list[int]) -> str:
    return next((value for i in indexes if (value := _cell(record, i))), "")


def _name_of(record: list[str], columns: _Columns) -> str:
    """The pupil's name as "Forename Surname", from whichever columns the file has.

    Separate forename and surname columns win over a single name column, since their order
    is certain; within a kind, a preferred-name column wins over a legal one when it is filled.
    """
    if columns.forename and columns.surname:
        parts = [_first(record, columns.forename), _first(record, columns.surname)]
        name = " ".join(p for p in parts if p)
        if name:
            return name
    for index in columns.full_name:
        value = _cell(record, index)
        if not value:
            continue
        if "," in value:  # "Hart, Amelia": surname first, as registers are often sorted
            surname, _, forename = value.partition(",")
            return " ".join(p for p in (forename.strip(), surname.strip()) if p)
        return value
    return ""


def _year_of(record: list[str], columns: _Columns) -> str | None:
    year = _first(record, columns.year)
    if year.isdigit():
        year = f"Year {int(year)}"
    parts = [p for p in (year, _first(record, columns.form)) if p]
    if len(parts) == 2 and _year_key(parts[0]) == _year_key(parts[1]):
        parts = parts[:1]
    return _YEAR_SEPARATOR.join(parts)[:_MAX_YEAR_CHARS] or None


def _rows_label(lines: list[int]) -> str:
    if len(lines) == 1:
        return f"Row {lines[0]}"
    return "Rows " + ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"


def parse_consent_csv(data: bytes, source_name: str) -> ParsedRegister:
    """Read a consent register exported from a school's MIS as CSV, or refuse it whole.

    Raises `InvalidRequest` listing every problem (up to MAX_LISTED_PROBLEMS, then a count),
    with row numbers as a spreadsheet shows them, so the file can be corrected in one go.
    """
    subject = file_subject(source_name)
    text = _decode(data, subject)
    header, headings, candidates = _find_header(text, subject)
    if header is None:
        raise InvalidRequest(_no_header_message(subject, headings, candidates))
    columns = header.columns
    if columns.refusals:
        raise InvalidRequest(_refusal_message(subject, columns.refusals))

    platforms = tuple(columns.platforms)
    problems: list[tuple[int, str]] = []  # (row, problem), so they can be listed in row order
    pupils: list[ConsentRow] = []
    first_seen: dict[tuple[str, str], ConsentRow] = {}
    clashes: dict[tuple[str, str], list[int]] = {}
    try:
        records = list(_reader(text, header.delimiter))
    except csv.Error as exc:
        raise InvalidRequest(f"{subject} isn't a CSV file I can read. " + _SAVE_AS_CSV) from exc
    for line, record in _pupil_records(records, header, subject):
        row, row_problems = _read_row(record, columns, line)
        problems.extend((line, problem) for problem in row_problems)
        if row is None:
            continue
        key = (match_key(row.name), _year_key(row.year_group or ""))
        earlier = first_seen.get(key)
        if earlier is None:
            first_seen[key] = row
            pupils.append(row)
        elif (earlier.consent, earlier.never_publish) != (row.consent, row.never_publish):
            clashes.setdefault(key, [earlier.line]).append(line)
    problems.extend(_clash_problems(clashes))
    if problems:
        ordered = [problem for _, problem in sorted(problems, key=lambda p: p[0])]
        raise InvalidRequest(_problems_message(subject, ordered, columns))
    if not pupils:
        raise InvalidRequest(
            f"{subject} has the headings of a consent register but no pupils under them, so "
            "nothing was imported."
        )
    return ParsedRegister(pupils=tuple(pupils), platforms=platforms)


def _pupil_records(
    records: list[list[str]], header: _Header, subject: str
) -> Iterator[tuple[int, list[str]]]:
    """The pupils' rows under the header (not blank, not the headings again), numbered as
    a spreadsheet numbers them.

    Raises `InvalidRequest` past MAX_PUPILS rows, as no school's register is that long.
    """
    shown = header.columns.headings
    counted = 0
    for line, record in enumerate(records[header.index + 1 :], start=header.index + 2):
        if not any(cell.strip() for cell in record):
            continue
        if [" ".join(c.split()) for c in record[: len(shown)]] == shown:
            continue  # the headings repeated, as some exports do on every printed page
        counted += 1
        if counted > MAX_PUPILS:
            raise InvalidRequest(
                f"{subject} has more than {MAX_PUPILS:,} rows, more than any school's register. "
                "Please export one school's pupils at a time, as CSV. Nothing was imported."
            )
        yield line, record


def _read_row(
    record: list[str], columns: _Columns, line: int
) -> tuple[ConsentRow | None, list[str]]:
    """One pupil's row, or no row and what is wrong with it (each problem once)."""
    name = _name_of(record, columns)
    consent, consent_problems = _consent_of(record, columns, line)
    never, never_problems = _never_publish_of(record, columns, line)
    # Problems from one row are listed once each; a shifted row can fail every column.
    problems = list(
        dict.fromkeys([*_name_problems(name, line), *consent_problems, *never_problems])
    )
    if problems:
        return None, problems
    row = ConsentRow(
        name=name,
        year_group=_year_of(record, columns),
        consent=consent,
        never_publish=never,
        line=line,
    )
    return row, []


def _name_problems(name: str, line: int) -> list[str]:
    """What is wrong with the pupil's name, if anything (at most one thing)."""
    if not name:
        return [f"Row {line}: there is no pupil name."]
    if not _LETTER_RE.search(name):
        return [f"Row {line}: {_shown(name)} doesn't look like a pupil's name."]
    if len(name) > _MAX_NAME_CHARS:
        return [f"Row {line}: the name is longer than {_MAX_NAME_CHARS} letters."]
    return []


def _consent_of(
    record: list[str], columns: _Columns, line: int
) -> tuple[dict[Platform, bool], list[str]]:
    """Whether the row gives consent on each platform, and the cells that say neither."""
    consent: dict[Platform, bool] = {}
    problems: list[str] = []
    for platform, indexes in columns.platforms.items():
        answers: list[bool] = []
        for index in indexes:
            cell = _cell(record, index)
            answer = _value(cell, _CONSENT_VALUES)
            if answer is None:
                problems.append(
                    f"Row {line}: {_shown(cell)} under {_shown(columns.headings[index], 40)} "
                    "isn't yes or no."
                )
            else:
                answers.append(answer)
        # A platform named by two columns ("Instagram", "Facebook/Instagram") needs both:
        # a "no" anywhere is a no.
        consent[platform] = bool(answers) and all(answers)
    return consent, problems


def _never_publish_of(record: list[str], columns: _Columns, line: int) -> tuple[bool, list[str]]:
    """Whether any "never publish" column says yes, and the cells that say neither."""
    never = False
    problems: list[str] = []
    for index in columns.never:
        cell = _cell(record, index)
        answer = _value(cell, _NEVER_VALUES)
        if answer is None:
            problems.append(
                f"Row {line}: {_shown(cell)} under {_shown(columns.headings[index], 40)} isn't "
                "yes or no (yes means the pupil must never be published)."
            )
        else:
            never = never or answer
    return never, problems


def _clash_problems(clashes: dict[tuple[str, str], list[int]]) -> list[tuple[int, str]]:
    """One problem for each pupil given twice with different answers, at its last row."""
    return [
        (
            lines[-1],
            f"{_rows_label(lines)} are the same pupil (same name and year group) with "
            "different answers; please keep only the right one.",
        )
        for lines in clashes.values()
    ]


# -- checking consent ----------------------------------------------------------------------------


class ConsentStatus(StrEnum):
    OK = "ok"
    NO_REGISTER = "no_register"  # the school has never imported one: blocks
    NOT_IN_REGISTER = "not_in_register"  # so no consent on record: blocks
    NEVER_PUBLISH = "never_publish"  # blocks on every platform
    NO_CONSENT = "no_consent"  # blocks; names each platform missing
    AMBIGUOUS = "ambiguous"  # more than one pupil matches: blocks until told which


BLOCKING: Final = frozenset(set(ConsentStatus) - {ConsentStatus.OK})


@dataclass(frozen=True)
class PupilOutcome:
    """What the register says about one name as typed, in words for the person posting."""

    given: str  # the name as typed
    status: ConsentStatus
    message: str
    pupil: str | None = None  # the register's name, when exactly one pupil matched
    year_group: str | None = None
    missing: tuple[Platform, ...] = ()  # platforms without consent (NO_CONSENT)

    @property
    def blocks(self) -> bool:
        return self.status in BLOCKING


@dataclass(frozen=True)
class ConsentCheck:
    """Whether a post may picture these pupils on these platforms, and why not if it may not."""

    blocked: bool
    problems: list[str]
    cleared: list[str]
    outcomes: tuple[PupilOutcome, ...] = ()

    @classmethod
    def of(cls, outcomes: Sequence[PupilOutcome]) -> ConsentCheck:
        return cls(
            blocked=any(o.blocks for o in outcomes),
            problems=[o.message for o in outcomes if o.blocks],
            cleared=[o.message for o in outcomes if not o.blocks],
            outcomes=tuple(outcomes),
        )


def _listed(items: Sequence[str], conjunction: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def _who(row: PupilConsent) -> str:
    return f"{row.name} ({row.year_group})" if row.year_group else row.name


def _example_qualifier(row: PupilConsent) -> str:
    return (row.year_group or "Year 4").split(_YEAR_SEPARATOR)[0]


class ConsentRegister(AuditedService):
    """The school's consent register: imported from its MIS, consulted before every post."""

    async def import_csv(
        self, school: School, data: bytes, *, source_name: str, imported_by: str
    ) -> ConsentImport:
        """Replace the school's register with the file's, in this transaction, or change nothing.

        The previous import's pupils are deleted, not archived: out-of-date consent about
        children is not kept. Its `ConsentImport` record stays, as a note of where consent came
        from. The audit entry carries counts only.
        """
        parsed = parse_consent_csv(data, source_name)
        previous = await self.current(school.id)
        digest = hashlib.sha256(data).hexdigest()
        await self._session.execute(
            delete(PupilConsent).where(col(PupilConsent.school_id) == school.id)
        )
        record = ConsentImport(
            school_id=school.id,
            source_name=PureWindowsPath(source_name).name or source_name,
            sha256=digest,
            imported_at=self._now,
            imported_by=imported_by,
            pupils=len(parsed.pupils),
            platforms=[p.value for p in parsed.platforms],
        )
        self._session.add(record)
        await self._session.flush()
        assert record.id is not None
        await self._session.execute(
            insert(PupilConsent),
            [
                {
                    "school_id": school.id,
                    "import_id": record.id,
                    "name": row.name,
                    "match_key": match_key(row.name),
                    "year_group": row.year_group,
                    "consent": {p.value: given for p, given in row.consent.items()},
                    "never_publish": row.never_publish,
                }
                for row in parsed.pupils
            ],
        )
        never = sum(1 for row in parsed.pupils if row.never_publish)
        self._audit.record(
            school_id=school.id,
            actor_id=imported_by,
            action=AuditAction.CONSENT_IMPORT,
            target_type="consent_import",
            target_id=str(record.id),
            detail=(
                f"{len(parsed.pupils)} pupils, {never} never publish; platforms "
                f"{','.join(p.value for p in parsed.platforms)}; replaced "
                f"{previous.id if previous else 'none'}; sha256 {digest[:12]}"
            ),
        )
        return record

    async def current(self, school_id: str) -> ConsentImport | None:
        """The newest import, whose pupils are the register in use."""
        result = await self._session.execute(
            select(ConsentImport)
            .where(ConsentImport.school_id == school_id)
            .order_by(col(ConsentImport.id).desc())
            .limit(1)
        )
        return result.scalars().first()

    async def pupils(self, school_id: str) -> Sequence[PupilConsent]:
        """Every pupil in the register in use, by name.

        Only the newest import's rows are read, so even rows a concurrent import failed to
        delete can never be consulted.
        """
        latest = await self.current(school_id)
        if latest is None:
            return []
        result = await self._session.execute(
            select(PupilConsent)
            .where(PupilConsent.import_id == latest.id)
            .order_by(col(PupilConsent.match_key), col(PupilConsent.id))
        )
        return result.scalars().all()

    async def find(self, school_id: str, name: str) -> list[PupilConsent]:
        """Every pupil a name as staff type it could mean (see the module's notes on matching).

        A year group or class after the name narrows the result. Two pupils with the same name
        are both returned: which one is meant is for the caller to ask.
        """
        latest = await self.current(school_id)
        return [] if latest is None else await self._find(latest, name)

    async def _find(self, register: ConsentImport, name: str) -> list[PupilConsent]:
        typed, qualifier = split_qualifier(name)
        tokens = match_key(typed).split()
        if not tokens:
            return []
        query = select(PupilConsent).where(PupilConsent.import_id == register.id)
        for token in set(tokens):  # narrows in the database; the rule is applied below
            query = query.where(col(PupilConsent.match_key).contains(token))
        result = await self._session.execute(query.order_by(col(PupilConsent.id)))
        rows = list(result.scalars().all())
        if qualifier is not None:
            rows = [r for r in rows if _year_matches(qualifier, r.year_group)]
        wanted = sorted(tokens)
        exact = [r for r in rows if sorted(r.match_key.split()) == wanted]
        if exact or len(tokens) < 2:
            return exact
        return [r for r in rows if _contains_all(r.match_key.split(), tokens)]

    async def check(
        self, school_id: str, names: Sequence[str], platforms: Sequence[Platform]
    ) -> ConsentCheck:
        """What the register says about picturing these pupils on these platforms.

        Anything short of consent on record for every platform blocks: no register, a name not
        found, a name that could be two pupils, a pupil never to be published, or one without
        consent for a platform (whether the register says no or has no column for it).
        """
        wanted = list(dict.fromkeys(platforms))
        latest = await self.current(school_id)
        outcomes: list[PupilOutcome] = []
        seen: set[str] = set()
        for raw in names:
            given = " ".join(raw.split())
            typed, qualifier = split_qualifier(given)
            # "Zoe O'Neill" and "O'Neill, Zoë" are one pupil named twice: checked once.
            key = " ".join(sorted(match_key(typed).split())) + "|" + _year_key(qualifier or "")
            if not match_key(typed) or key in seen:
                continue
            seen.add(key)
            if latest is None:
                outcomes.append(_no_register(given))
                continue
            matches = await self._find(latest, given)
            if not matches:
                outcomes.append(await self._not_found(latest, given))
            elif len(matches) > 1:
                outcomes.append(_ambiguous(given, matches))
            else:
                outcomes.append(_judge(given, matches[0], wanted))
        return ConsentCheck.of(outcomes)

    async def _not_found(self, register: ConsentImport, given: str) -> PupilOutcome:
        typed, qualifier = split_qualifier(given)
        if qualifier is not None:
            elsewhere = await self._find(register, typed)
            if elsewhere:
                years = _listed(sorted({r.year_group or "no year group" for r in elsewhere}))
                return PupilOutcome(
                    given=given,
                    status=ConsentStatus.NOT_IN_REGISTER,
                    message=(
                        f'The consent register has no "{typed}" in {_shown(qualifier)} (I found '
                        f"{years}), so there is no consent on record for that pupil. Check the "
                        "year group or class, or leave them out of this post."
                    ),
                )
        return PupilOutcome(
            given=given,
            status=ConsentStatus.NOT_IN_REGISTER,
            message=(
                f"I can't find {_shown(given, 60)} in the consent register, so there is no "
                "consent on record for them. Check the spelling (type the full name as it is "
                "in the register), or leave them out of this post."
            ),
        )


def _contains_all(have: list[str], wanted: list[str]) -> bool:
    remaining = list(have)
    for token in wanted:
        if token not in remaining:
            return False
        remaining.remove(token)
    return True


def _no_register(given: str) -> PupilOutcome:
    return PupilOutcome(
        given=given,
        status=ConsentStatus.NO_REGISTER,
        message=(
            f"The school has not imported a consent register, so there is no consent on record "
            f"for {given}. Your headteacher, a senior leader, the safeguarding lead or the IT "
            "administrator can import one from the school's information system (as CSV) with "
            "`policybot consent import`. Until then, leave pupils out of posts."
        ),
    )


def _ambiguous(given: str, matches: list[PupilConsent]) -> PupilOutcome:
    typed, _ = split_qualifier(given)
    who = _listed([_who(r) for r in matches])
    years = [r.year_group for r in matches]
    if all(years) and len(set(years)) == len(years):
        example = f'"{typed} ({_example_qualifier(matches[0])})"'
        how = f"Tell me which one by adding the year group or class, such as {example}."
    else:
        how = "Tell me which one by typing the full name as it is in the register"
        how += ", with the year group or class if it is needed." if all(years) else "."
    return PupilOutcome(
        given=given,
        status=ConsentStatus.AMBIGUOUS,
        message=f"More than one pupil in the consent register matches {_shown(given, 60)}: "
        f"{who}. {how}",
    )


def _judge(given: str, row: PupilConsent, platforms: list[Platform]) -> PupilOutcome:
    who = _who(row)
    if row.never_publish:
        return PupilOutcome(
            given=given,
            pupil=row.name,
            year_group=row.year_group,
            status=ConsentStatus.NEVER_PUBLISH,
            message=(
                f"The consent register says {who} must never be published, on any platform. "
                f"Leave {row.name} out of this post, and out of its photos and videos."
            ),
        )
    absent = [p for p in platforms if p.value not in row.consent]
    # Anything but a stored True is no consent, should the stored value ever be odd.
    refused = [p for p in platforms if p.value in row.consent and row.consent[p.value] is not True]
    if refused or absent:
        reasons = []
        if refused:
            reasons.append(f"{_listed([LABELS[p] for p in refused], 'or')} (the register says no)")
        if absent:
            them = "those platforms" if len(absent) > 1 else "that platform"
            reasons.append(
                f"{_listed([LABELS[p] for p in absent], 'or')} (the register has no column for "
                f"{them})"
            )
        missing = tuple(p for p in platforms if p in refused or p in absent)
        return PupilOutcome(
            given=given,
            pupil=row.name,
            year_group=row.year_group,
            status=ConsentStatus.NO_CONSENT,
            message=(
                f"{who} has no consent for {' or '.join(reasons)}. Remove "
                f"{_listed([LABELS[p] for p in missing])} from this post, or leave {row.name} "
                "out."
            ),
            missing=missing,
        )
    where = _listed([LABELS[p] for p in platforms])
    said = f"consent on record for {where}" if platforms else "in the register"
    return PupilOutcome(
        given=given,
        pupil=row.name,
        year_group=row.year_group,
        status=ConsentStatus.OK,
        message=f"{who}: {said}.",
    )
