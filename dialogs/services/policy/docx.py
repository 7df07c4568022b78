"""Word (.docx) policies as Markdown the policy parser reads with certainty.

Word styles say for certain what the parser would otherwise have to guess: the Title style is
the document's single "# " heading (which the parser takes as the title), "Heading N" is one
level below it, and list paragraphs get the number Word shows on screen. That number is not in
the paragraph's text; Word computes it from numbering.xml, so the same is done here, and "2.1" or
"(a)" reaches the parser as text it knows. A short paragraph that is bold all through is written
as "**...**", which the parser treats as a heading when it reads like one, because many school
policies make headings that way. Every block is followed by a blank line, since in Markdown
consecutive lines are one paragraph. Running headers, footers, footnotes and comments live
outside the body and are never read; tables of contents and unfilled form placeholders are
navigation, not policy, and are skipped. Characters Markdown would read as formatting are
escaped, so Word text is quoted as it was written.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, cast

from docx.document import Document
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.package import Package
from docx.parts.document import DocumentPart

from dialogs.services.errors import UploadRejected
from dialogs.services.policy.reading import FORMATS_IN_WORDS, LETTER_RE, damaged_message

_MEBIBYTE: Final = 1024 * 1024
# A .docx is a ZIP, and python-docx unpacks every part into memory, so the ZIP's own directory is
# checked first. Word documents have a few dozen parts plus one per picture; the sizes below are
# far beyond a real policy and far below what would hurt the server. zipfile stops reading an
# entry at its declared size, so declared sizes bound what is really unpacked.
_MAX_DOCX_ENTRIES: Final = 2_000
_MAX_DOCX_UNPACKED_BYTES: Final = 128 * _MEBIBYTE
# XML is parsed into trees several times its size, so it has a tighter limit of its own.
_MAX_DOCX_XML_BYTES: Final = 32 * _MEBIBYTE


# --- The package -------------------------------------------------------------------------


def read_docx(data: bytes, subject: str) -> str:
    """Open a .docx only after its ZIP directory shows that unpacking it is cheap."""
    _check_package(data, subject)
    damaged = damaged_message(
        subject,
        "a Word file",
        "Please open it in Word, save a fresh copy as .docx and import that.",
    )
    try:
        # What docx.Document does, but asking the content type rather than reading its error.
        part = Package.open(io.BytesIO(data)).main_document_part
        content_type = part.content_type
    except Exception as exc:
        raise UploadRejected(damaged) from exc
    if content_type != CONTENT_TYPE.WML_DOCUMENT_MAIN:
        raise UploadRejected(
            f"{subject} is a Word template or macro-enabled document rather than an ordinary "
            "one; please open it in Word, save it as a Word Document (.docx) and import that."
        )
    try:
        return _DocxWriter(cast(DocumentPart, part).document).markdown()
    except UploadRejected:
        raise
    except Exception as exc:
        raise UploadRejected(damaged) from exc


def _check_package(data: bytes, subject: str) -> None:
    """Decide from the ZIP directory alone whether this is a Word document worth unpacking."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as exc:
        raise UploadRejected(
            f"{subject} looks like a ZIP archive or Word file but seems to be damaged, so I "
            "can't read it. If it is a Word file, please open it in Word, save a fresh copy as "
            ".docx and import that."
        ) from exc
    names = {entry.filename for entry in entries}
    if "word/document.xml" not in names:
        raise UploadRejected(_other_package_message(subject, names))
    unpacked = sum(entry.file_size for entry in entries)
    xml = sum(e.file_size for e in entries if e.filename.casefold().endswith((".xml", ".rels")))
    if (
        len(entries) > _MAX_DOCX_ENTRIES
        or unpacked > _MAX_DOCX_UNPACKED_BYTES
        or xml > _MAX_DOCX_XML_BYTES
    ):
        raise UploadRejected(
            f"{subject} is a Word file that would unpack to far more than any policy needs, so "
            "I haven't opened it. Please open it in Word, save a fresh copy (with large pictures "
            "compressed or removed) and import that."
        )
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise UploadRejected(
            f"{subject} is a password-protected ZIP file, so I can't read it. Please import the "
            "Word document itself, without a password."
        )


def _other_package_message(subject: str, names: set[str]) -> str:
    """Many Office and LibreOffice files are ZIPs too; say which one this is and what to do."""
    if "content.xml" in names and "mimetype" in names:
        return (
            f"{subject} is an OpenDocument file (from LibreOffice or similar); please save it as "
            ".docx or PDF and import that."
        )
    if "xl/workbook.xml" in names:
        return (
            f"{subject} is a spreadsheet, not a policy document. Please import the policy as "
            f"{FORMATS_IN_WORDS}."
        )
    if "ppt/presentation.xml" in names:
        return (
            f"{subject} is a presentation, not a policy document. Please import the policy as "
            f"{FORMATS_IN_WORDS}."
        )
    return (
        f"{subject} is a ZIP archive rather than a document. Please take the policy out of it "
        "and import the Word (.docx) or PDF file itself."
    )


# --- XML helpers -------------------------------------------------------------------------


class _Element(Protocol):
    """The part of lxml's element interface used here (lxml ships no type information)."""

    @property
    def tag(self) -> object: ...  # a str, except for comments and processing instructions

    @property
    def text(self) -> str | None: ...

    def get(self, key: str) -> str | None: ...

    def find(self, path: str) -> _Element | None: ...

    def iter(self, tag: str) -> Iterator[_Element]: ...

    def __iter__(self) -> Iterator[_Element]: ...


_W: Final = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC: Final = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_OFF: Final = frozenset({"0", "false", "off", "none"})


def _w(name: str) -> str:
    return _W + name


def _val(element: _Element | None, name: str = "val") -> str | None:
    return None if element is None else element.get(_w(name))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _on(element: _Element | None) -> bool | None:
    """Word's on/off properties: present means on unless its value says off; absent is unset."""
    if element is None:
        return None
    return (_val(element) or "true").casefold() not in _OFF


def _children(element: _Element) -> Iterator[_Element]:
    """Child elements only: comments and processing instructions have no text to read."""
    return (child for child in element if isinstance(child.tag, str))


# --- styles ------------------------------------------------------------------------------

_HEADING_NAME_RE: Final = re.compile(r"heading\s*([1-9])")
_TOC_NAME_RE: Final = re.compile(r"toc\s*(?:[1-9]|heading)|table of figures")
_LIST_NAME_RE: Final = re.compile(r"list (?:bullet|number|paragraph)(?: [1-9])?")


class _Styles:
    """What a paragraph inherits from its style and the styles that style is based on."""

    def __init__(self, root: _Element) -> None:
        self._by_id: dict[str, _Element] = {}
        self.default_paragraph: str | None = None
        for style in root.iter(_w("style")):
            style_id = _val(style, "styleId")
            if style_id is None:
                continue
            self._by_id.setdefault(style_id, style)
            is_default = (style.get(_w("default")) or "").casefold() in ("1", "true", "on")
            if style.get(_w("type")) == "paragraph" and is_default:
                self.default_paragraph = self.default_paragraph or style_id

    def chain(self, style_id: str | None) -> list[_Element]:
        """The style and its ancestors, nearest first; a cycle in basedOn stops the walk."""
        found: list[_Element] = []
        seen: set[str] = set()
        while style_id is not None and style_id not in seen and len(found) < 20:
            seen.add(style_id)
            style = self._by_id.get(style_id)
            if style is None:
                break
            found.append(style)
            style_id = _val(style.find(_w("basedOn")))
        return found

    def names(self, style_id: str | None) -> list[str]:
        return [(_val(s.find(_w("name"))) or "").casefold() for s in self.chain(style_id)]

    def heading_level(self, style_id: str | None) -> int | None:
        """Custom heading styles are usually based on a built-in one, or set an outline level."""
        for style in self.chain(style_id):
            name = (_val(style.find(_w("name"))) or "").casefold()
            match = _HEADING_NAME_RE.fullmatch(name)
            if match:
                return int(match.group(1))
            outline = _outline_level(style.find(_w("pPr")))
            if outline is not None:
                return outline
        return None

    def role(self, style_id: str | None) -> Literal["title", "subtitle", "toc", None]:
        for name in self.names(style_id):
            if name == "title":
                return "title"
            if name == "subtitle":
                return "subtitle"
            if _TOC_NAME_RE.fullmatch(name):
                return "toc"
        return None

    def is_list_style(self, style_id: str | None) -> bool:
        """Word's list styles mean a list item even where the list itself has gone missing."""
        return any(_LIST_NAME_RE.fullmatch(name) for name in self.names(style_id))

    def num_pr(self, style_id: str | None) -> tuple[str | None, int | None]:
        for style in self.chain(style_id):
            num_pr = _find(style, "pPr", "numPr")
            if num_pr is not None:
                num_id = _val(num_pr.find(_w("numId")))
                ilvl = _val(num_pr.find(_w("ilvl")))
                return num_id, None if ilvl is None else _int(ilvl, 0)
        return None, None

    def bold(self, style_id: str | None) -> bool | None:
        for style in self.chain(style_id):
            bold = _on(_find(style, "rPr", "b"))
            if bold is not None:
                return bold
        return None


def _find(element: _Element, *path: str) -> _Element | None:
    found: _Element | None = element
    for name in path:
        if found is None:
            return None
        found = found.find(_w(name))
    return found


def _outline_level(p_pr: _Element | None) -> int | None:
    """Word's outline level 0-8 marks a heading whatever its style; 9 means body text."""
    level = _val(_find(p_pr, "outlineLvl") if p_pr is not None else None)
    if level is None:
        return None
    number = _int(level, 9)
    return number + 1 if 0 <= number < 9 else None


# --- numbering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    start: int
    fmt: str
    text: str  # Word's lvlText, such as "%1.%2."
    legal: bool  # isLgl: every number shown in decimal, as in "2.1" under "Part II"
    restart: int | None  # lvlRestart: restart after this (1-based) level is used; 0 never
    style: str | None  # pStyle: the paragraph style that uses this level


@dataclass(frozen=True)
class _Label:
    kind: Literal["bullet", "number", "none"]
    text: str  # the number as the parser reads it: "2.1", "(a)", "(iv)"; "" for bullets


_BULLET_FORMATS: Final = frozenset({"bullet"})
_LETTER_FORMATS: Final = frozenset({"lowerLetter", "upperLetter", "lowerRoman", "upperRoman"})
_PLACEHOLDER_RE: Final = re.compile(r"%([1-9])")


class _Numbering:
    """The numbers Word would show beside list paragraphs, computed as Word computes them.

    Counters belong to the abstract definition, because two lists sharing one continue each
    other's numbering unless a list overrides its start, which is how Word restarts a list.
    """

    def __init__(self, root: _Element | None, styles: _Styles) -> None:
        self._styles = styles
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._style_link: dict[str, str] = {}  # abstractNumId -> style whose list it uses
        self._num_abstract: dict[str, str] = {}
        self._overrides: dict[str, dict[int, tuple[int | None, _Level | None]]] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._started: set[str] = set()
        if root is None:
            return
        for abstract in root.iter(_w("abstractNum")):
            abstract_id = _val(abstract, "abstractNumId")
            if abstract_id is None:
                continue
            levels = {}
            for lvl in abstract.iter(_w("lvl")):
                ilvl = _int(_val(lvl, "ilvl"), 0)
                levels[ilvl] = _level(lvl)
            self._abstract[abstract_id] = levels
            link = _val(abstract.find(_w("numStyleLink")))
            if link is not None:
                self._style_link[abstract_id] = link
        for num in root.iter(_w("num")):
            num_id = _val(num, "numId")
            abstract_id = _val(num.find(_w("abstractNumId")))
            if num_id is None or abstract_id is None:
                continue
            self._num_abstract[num_id] = abstract_id
            overrides: dict[int, tuple[int | None, _Level | None]] = {}
            for override in num.iter(_w("lvlOverride")):
                start = _val(override.find(_w("startOverride")))
                replaced = override.find(_w("lvl"))
                overrides[_int(_val(override, "ilvl"), 0)] = (
                    None if start is None else _int(start, 0),
                    None if replaced is None else _level(replaced),
                )
            self._overrides[num_id] = overrides

    def _definition(self, num_id: str) -> str | None:
        """The abstract definition behind a list, following list styles to the real one."""
        abstract_id = self._num_abstract.get(num_id)
        for _ in range(5):
            if abstract_id is None or abstract_id not in self._style_link:
                break
            linked_num = self._styles.num_pr(self._style_link[abstract_id])[0]
            next_id = self._num_abstract.get(linked_num or "")
            if next_id is None or next_id == abstract_id:
                break
            abstract_id = next_id
        return abstract_id

    def _levels(self, num_id: str, abstract_id: str) -> dict[int, _Level]:
        levels = dict(self._abstract.get(abstract_id, {}))
        for ilvl, (_start, lvl) in self._overrides.get(num_id, {}).items():
            if lvl is not None:
                levels[ilvl] = lvl
        return levels

    def level_for_style(self, num_id: str, style_id: str | None) -> int | None:
        abstract_id = self._definition(num_id)
        if abstract_id is None or style_id is None:
            return None
        for ilvl, lvl in self._levels(num_id, abstract_id).items():
            if lvl.style == style_id:
                return ilvl
        return None

    def next_label(self, num_id: str, ilvl: int) -> _Label | None:
        """Advance the list by one paragraph and return the number Word shows for it."""
        abstract_id = self._definition(num_id)
        if abstract_id is None:
            return None
        levels = self._levels(num_id, abstract_id)
        level = levels.get(ilvl)
        if level is None:
            return None
        overrides = self._overrides.get(num_id, {})
        counters = self._counters.setdefault(abstract_id, [None] * 9)
        if num_id not in self._started:
            self._started.add(num_id)
            restarted = [k for k, (start, _lvl) in overrides.items() if start is not None]
            for k in restarted:
                counters[k:] = [None] * (9 - k)

        def start_of(k: int) -> int:
            start = overrides.get(k, (None, None))[0]
            if start is not None:
                return start
            lvl = levels.get(k)
            return lvl.start if lvl is not None else 1

        current = counters[ilvl]
        counters[ilvl] = start_of(ilvl) if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            lvl = levels.get(deeper)
            restart = lvl.restart if lvl is not None and lvl.restart is not None else deeper
            if restart != 0 and ilvl < restart:
                counters[deeper] = None

        if level.fmt in _BULLET_FORMATS:
            return _Label("bullet", "")

        def shown(k: int) -> tuple[str, str]:
            lvl = levels.get(k)
            fmt = "decimal" if level.legal or lvl is None else lvl.fmt
            value = counters[k]
            return _format_number(start_of(k) if value is None else value, fmt), fmt

        return _shown_label(level, ilvl, shown)


def _shown_label(level: _Level, ilvl: int, shown: Callable[[int], tuple[str, str]]) -> _Label:
    """What a reader sees beside a numbered paragraph, in the shapes the text parser knows.

    `shown(k)` is the number of level k as Word writes it, with the format it is written in.
    """
    rendered = _PLACEHOLDER_RE.sub(lambda m: shown(int(m.group(1)) - 1)[0], level.text)
    if not rendered.strip():
        return _Label("none", "")
    placeholders = [int(k) - 1 for k in _PLACEHOLDER_RE.findall(level.text)]
    if not placeholders and len(rendered.strip()) <= 2:
        return _Label("bullet", "")  # a symbol drawn as a number format: a bullet to readers
    literal = _PLACEHOLDER_RE.sub("", level.text)
    if placeholders and placeholders[-1] == ilvl and not level.legal:
        own, fmt = shown(ilvl)
        if fmt in _LETTER_FORMATS:
            return _Label("number", f"({own})")  # the parser's lettered shape
    dotted = rendered.strip().rstrip(".)").strip()
    if (
        placeholders
        and re.fullmatch(r"\d+(?:\.\d+)*", dotted)
        and not re.search(r"[^.)\s]", literal)
    ):
        return _Label("number", dotted)
    return _Label("number", rendered.strip())


def _level(lvl: _Element) -> _Level:
    restart = _val(lvl.find(_w("lvlRestart")))
    return _Level(
        # Word always writes a start; ECMA-376 makes a missing one 0.
        start=_int(_val(lvl.find(_w("start"))), 0),
        fmt=_val(lvl.find(_w("numFmt"))) or "decimal",
        text=_val(lvl.find(_w("lvlText"))) or "",
        legal=bool(_on(lvl.find(_w("isLgl")))),
        restart=None if restart is None else _int(restart, 0),
        style=_val(lvl.find(_w("pStyle"))),
    )


_ROMAN: Final = (
    (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
    (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
)  # fmt: skip


def _format_number(value: int, fmt: str) -> str:
    """Write a counter in a level's number format, the common formats exactly, others in digits."""
    if fmt in ("lowerLetter", "upperLetter") and value > 0:
        # Word goes a..z, then aa..zz, then aaa..zzz.
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman") and 0 < value < 4000:
        out, rest = "", value
        for amount, numeral in _ROMAN:
            while rest >= amount:
                out, rest = out + numeral, rest - amount
        return out.upper() if fmt == "upperRoman" else out
    if fmt == "decimalZero" and 0 <= value < 10:
        return f"0{value}"
    if fmt == "none":
        return ""
    return str(value)


# --- reading the body --------------------------------------------------------------------


@dataclass
class _Para:
    """One paragraph as the writer needs it: its words, its role and the number Word shows."""

    lines: list[str]  # the visible text, split where Word has a manual line break
    role: Literal["title", "subtitle", "heading", "item", "plain"]
    level: int = 0  # the heading level, 1-based, or the list level, 0-based
    label: _Label | None = None
    bold: bool = False  # bold all through: a heading by formatting alone, in many policies
    boxes: list[_Element] = field(default_factory=list)  # text boxes anchored in it

    @property
    def text(self) -> str:
        return " ".join(self.lines)


# A table row, as the phrases in each of its filled cells.
_Row = list[list[str]]
_Block = _Para | _Row

_SKIPPED_INLINE: Final = frozenset(
    {_w(n) for n in ("pPr", "rPr", "del", "moveFrom", "instrText", "delText", "sdtPr", "fldData")}
    | {f"{_MC}Fallback"}  # the older drawing of a shape Word also gives in mc:Choice
)
_TABLE_PROPERTIES: Final = frozenset({_w("tblPr"), _w("tblGrid"), _w("trPr"), _w("tcPr")})
_BREAKS: Final = frozenset({_w("br"), _w("cr")})
_SPACES: Final = frozenset({_w("tab"), _w("ptab")})
# A list-styled paragraph whose text already starts with its own bullet or number, typed by hand.
_OWN_MARKER_RE: Final = re.compile(
    r"(?:[\u2022\u00b7\u25aa\u25e6\u25cf\u25a0\u2013\u2014*+\-\uf0b7\uf0a7\uf0d8]|o(?=\s)"
    r"|\(?(?:\d{1,3}(?:\.\d{1,3})*|[a-zA-Z]|[ivxIVX]{1,5})[.)]|\d{1,3}(?:\.\d{1,3})+)\s"
)


class _DocxWriter:
    """Walks the body in document order and writes Markdown the parser reads as Word showed it."""

    def __init__(self, document: Document) -> None:
        self._body = cast(_Element, document.element.body)
        self._styles = _Styles(cast(_Element, document.styles.element))
        try:
            numbering_part = document.part.part_related_by(RELATIONSHIP_TYPE.NUMBERING)
        except KeyError:
            numbering_root = None
        else:
            numbering_root = cast(_Element, getattr(numbering_part, "element", None))
        self._numbering = _Numbering(numbering_root, self._styles)
        # Headings sit one level below the title, so the title stays the only "# " heading.
        self._heading_offset = int(
            any(self._styles.role(self._style_id(p)) == "title" for p in self._body.iter(_w("p")))
        )
        self._title: list[str] = []
        self._title_state: Literal["waiting", "open", "written"] = "waiting"
        self._blocks: list[str] = []

    def markdown(self) -> str:
        for block in self._walk(self._body):
            self._emit(block)
        self._write_title()
        return "".join(block + "\n\n" for block in self._blocks)

    # Reading

    def _walk(self, container: _Element) -> Iterator[_Block]:
        """Paragraphs, and table rows, in the order Word shows them."""
        for child in _children(container):
            tag = child.tag
            if tag == _w("p"):
                para = self._paragraph(child)
                if para is not None:
                    yield para
                for box in para.boxes if para is not None else ():
                    yield from self._walk(box)
            elif tag == _w("tbl"):
                yield from self._table(child)
            elif tag == _w("sdt"):
                content = child.find(_w("sdtContent"))
                if content is not None and not _is_navigation(child):
                    yield from self._walk(content)
            elif tag in (_w("customXml"), _w("ins"), _w("moveTo")):
                yield from self._walk(child)

    def _table(self, table: _Element) -> Iterator[_Block]:
        """A row with a single filled cell is ordinary content: tables are often only layout."""
        for row in _descendants(table, _w("tr")):
            if _on(_find(row, "trPr", "hidden")):
                continue
            cells = [list(self._walk(cell)) for cell in _descendants(row, _w("tc"))]
            filled = [blocks for blocks in cells if any(_has_text(b) for b in blocks)]
            if len(filled) == 1:
                yield from filled[0]
            elif filled:
                yield [[_phrase(b) for b in blocks if _has_text(b)] for blocks in filled]

    def _style_id(self, p: _Element) -> str | None:
        return _val(_find(p, "pPr", "pStyle")) or self._styles.default_paragraph

    def _paragraph(self, p: _Element) -> _Para | None:
        style_id = self._style_id(p)
        role = self._styles.role(style_id)
        if role == "toc":
            return None  # a table of contents is navigation, and its page numbers are noise
        p_pr = p.find(_w("pPr"))
        num_id, ilvl = self._num_pr(p_pr, style_id)
        # Word numbers every paragraph in a list, empty or not, so the count goes on regardless.
        label = None
        if num_id is not None and num_id != "0":  # numId 0 switches off a style's numbering
            label = self._numbering.next_label(num_id, ilvl)
        parts: list[str] = []
        boxes: list[_Element] = []
        bold_runs: list[bool] = []
        self._inline(p, style_id, parts, boxes, bold_runs)
        lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            return _Para([], "plain", boxes=boxes) if boxes else None
        bold = bool(bold_runs) and all(bold_runs)
        if role is not None:
            return _Para(lines, role, label=label, boxes=boxes)
        heading = _outline_level(p_pr) or self._styles.heading_level(style_id)
        if heading is not None:
            return _Para(lines, "heading", heading, label, bold, boxes)
        if (
            num_id is None  # numId 0 is a list style deliberately unnumbered: plain text
            and self._styles.is_list_style(style_id)
            and not _OWN_MARKER_RE.match(lines[0])
        ):
            label = _Label("bullet", "")  # a list style with no list behind it
        if label is not None:
            return _Para(lines, "item", ilvl, label, bold, boxes)
        return _Para(lines, "plain", 0, None, bold, boxes)

    def _num_pr(self, p_pr: _Element | None, style_id: str | None) -> tuple[str | None, int]:
        """The list and level a paragraph is in, from the paragraph itself or else its style."""
        own = _find(p_pr, "numPr") if p_pr is not None else None
        num_id = _val(_find(own, "numId")) if own is not None else None
        own_ilvl = _val(_find(own, "ilvl")) if own is not None else None
        style_num_id, style_ilvl = self._styles.num_pr(style_id)
        num_id = num_id or style_num_id
        if own_ilvl is not None:
            return num_id, min(max(_int(own_ilvl, 0), 0), 8)
        if style_ilvl is not None:
            return num_id, min(max(style_ilvl, 0), 8)
        if num_id is not None:
            # Numbered heading styles name their level from the list definition (lvl/pStyle).
            linked = self._numbering.level_for_style(num_id, style_id)
            if linked is not None:
                return num_id, linked
        return num_id, 0

    def _inline(
        self,
        element: _Element,
        style_id: str | None,
        parts: list[str],
        boxes: list[_Element],
        bold_runs: list[bool],
    ) -> None:
        """Collect the text Word shows, leaving out deletions, hidden text and field codes."""
        for child in _children(element):
            tag = child.tag
            if tag in _SKIPPED_INLINE:
                continue
            if tag == _w("txbxContent"):
                boxes.append(child)  # a text box is read after its paragraph, as blocks
            elif tag == _w("r"):
                self._run(child, style_id, parts, boxes, bold_runs)
            elif tag == _w("sdt") and _find(child, "sdtPr", "showingPlcHdr") is not None:
                continue  # "Click or tap here to enter text." is Word's prompt, not policy
            else:
                self._inline(child, style_id, parts, boxes, bold_runs)

    def _run(
        self,
        run: _Element,
        style_id: str | None,
        parts: list[str],
        boxes: list[_Element],
        bold_runs: list[bool],
    ) -> None:
        r_pr = run.find(_w("rPr"))
        if r_pr is not None and (_on(r_pr.find(_w("vanish"))) or _on(r_pr.find(_w("specVanish")))):
            return
        before = len(parts)
        for child in _children(run):
            tag = child.tag
            if tag == _w("t"):
                parts.append(child.text or "")
            elif tag in _SPACES:
                parts.append(" ")
            elif tag in _BREAKS:
                parts.append("\n")
            elif tag == _w("noBreakHyphen"):
                parts.append("-")
            elif tag == _w("sym"):
                code = _hex(child.get(_w("char")))
                if code is not None:
                    parts.append(chr(code))
            elif tag not in _SKIPPED_INLINE:
                self._inline(child, style_id, parts, boxes, bold_runs)
        if "".join(parts[before:]).strip():
            bold_runs.append(self._bold(r_pr, style_id))

    def _bold(self, r_pr: _Element | None, style_id: str | None) -> bool:
        """Direct formatting wins, then the run's character style, then the paragraph's style."""
        bold = _on(_find(r_pr, "b")) if r_pr is not None else None
        if bold is None and r_pr is not None:
            bold = self._styles.bold(_val(_find(r_pr, "rStyle")))
        if bold is None:
            bold = self._styles.bold(style_id)
        return bool(bold)

    # Writing

    def _emit(self, block: _Block) -> None:
        if isinstance(block, list):
            self._write_title()
            cells = [self._escape(_join_phrases(phrases)) for phrases in block]
            self._blocks.append(_escape_start(" \u2013 ".join(cells)))
            return
        if not block.lines:
            return
        if block.role == "title" and self._title_state != "written":
            self._title.append(block.text)
            self._title_state = "open"
            return
        if block.role == "subtitle" and self._title_state == "open":
            self._title.append(block.text)
            return
        self._write_title()
        label = block.label
        if block.role in ("title", "heading"):
            # A second Title-styled paragraph (an appendix, say) ranks with Heading 1.
            level = 1 if block.role == "title" else block.level
            text = _heading_text(self._escape(block.text))
            if label is not None and label.kind == "number":
                text = f"{label.text} {text}"
            self._blocks.append(f"{'#' * min(level + self._heading_offset, 6)} {text}")
        elif block.role == "item" and label is not None:
            indent = "  " * block.level
            lines = [_escape_start(self._escape(line)) for line in block.lines]
            if label.kind == "number":
                lines[0] = f"{label.text} {self._escape(block.lines[0])}"
            elif label.kind == "bullet":
                lines[0] = f"- {self._escape(block.lines[0])}"
            rest = [f"{indent}  {line}" for line in lines[1:]]
            self._blocks.append("\n".join([indent + lines[0], *rest]))
        elif block.bold and _reads_like_heading(block.text):
            self._blocks.append(f"**{self._escape(block.text)}**")
        else:
            self._blocks.append("\n".join(_escape_start(self._escape(x)) for x in block.lines))

    def _write_title(self) -> None:
        """The title is written once, as the only "# " heading, when the first other block comes."""
        if self._title_state == "open":
            self._blocks.append("# " + _heading_text(self._escape(" \u2014 ".join(self._title))))
            self._title_state = "written"

    def _escape(self, text: str) -> str:
        """Keep Word's characters literal where the parser would read them as Markdown."""
        text = re.sub(r"\\(?=[!-/:-@\[-`{-~])", r"\\\\", text)
        return re.sub(r"([*_`\[\]])", r"\\\1", text)


def _heading_text(text: str) -> str:
    """A heading ending in " #" would lose it: Markdown reads trailing hashes as decoration."""
    return re.sub(r"(\s)(#+)$", r"\1\\\2", text)


def _hex(value: str | None) -> int | None:
    try:
        return int(value, 16) if value is not None else None
    except ValueError:
        return None


def _descendants(element: _Element, tag: str) -> Iterator[_Element]:
    """A table's rows or a row's cells, looking through wrappers but not into nested tables."""
    for child in _children(element):
        if child.tag == tag:
            yield child
        elif child.tag != _w("tbl") and child.tag not in _TABLE_PROPERTIES:
            yield from _descendants(child, tag)


def _is_navigation(sdt: _Element) -> bool:
    """A table of contents that Word wraps in a content control, or an unfilled form prompt."""
    gallery = _val(_find(sdt, "sdtPr", "docPartObj", "docPartGallery"))
    placeholder = _find(sdt, "sdtPr", "showingPlcHdr") is not None
    return placeholder or (gallery or "").casefold() == "table of contents"


def _has_text(block: _Block) -> bool:
    if isinstance(block, list):
        return bool(block)
    return any(line.strip() for line in block.lines)


def _phrase(block: _Block) -> str:
    """A cell's paragraph as a phrase of its row: numbers kept, bullets dropped."""
    if isinstance(block, list):
        return " \u2013 ".join(_join_phrases(phrases) for phrases in block)
    if block.label is not None and block.label.kind == "number":
        return f"{block.label.text} {block.text}"
    return block.text


def _join_phrases(phrases: list[str]) -> str:
    """Paragraphs of one cell on one line: "Facebook; Instagram", but sentences stay sentences."""
    out = phrases[0]
    for phrase in phrases[1:]:
        out += (" " if out.endswith((".", "!", "?", ":", ";")) else "; ") + phrase
    return out


def _reads_like_heading(text: str) -> bool:
    """Short and unfinished: a bold sentence is emphasis, a bold phrase is a heading."""
    words = text.split()
    return (
        0 < len(words) <= 12
        and len(text) <= 90
        and not text.endswith((".", "!", "?", ";", ","))
        and bool(LETTER_RE.search(text))
        and "**" not in text
        and "__" not in text
    )


def _escape_start(line: str) -> str:
    """Word text that happens to start like Markdown block syntax must stay text.

    A leading "#" or ">" and a line of only "-" or "=" mean nothing in Word but a heading, a
    quotation or an underline in Markdown. Hand-typed "1.1" numbers and "-" bullets are left
    alone: in a Word document they mean what the parser takes them to mean.
    """
    stripped = line.lstrip()
    if stripped.startswith(("#", ">")) or re.fullmatch(r"[-=]+", stripped):
        return line[: len(line) - len(stripped)] + "\\" + stripped
    return line
