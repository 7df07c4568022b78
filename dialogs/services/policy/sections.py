"""Splitting a school's policy document into citable sections and quotable clauses.

Staff ask about a rule and expect the school's own words back, with a reference they can find in
the document. So the parser keeps the document's own numbering and headings instead of inventing
any, and it never throws policy wording away silently: every word ends up in the title, a heading,
a clause, or `ParsedPolicy.dropped`, where an importer can show what was removed and why.

Policies reach us as Markdown or as plain text pulled out of Word and PDF files, so the same
document can arrive with its structure spelt in many ways. Everything here is a heuristic; the
rules below are the decisions, written down so that a surprising split can be explained.

Citations
    A section is cited the way a reader would find it: its heading path joined by SEPARATOR
    (" \u203a "), with a numbered heading keeping its number ("3.2 Official school accounts").
    The path starts at the deepest numbered heading, because a number already locates everything
    above it ("3 Official accounts \u203a Photographs" for an unnumbered sub-heading of 3), unless
    the numbering does not nest. A section formed only by clause numbers, with no heading, is
    cited by its number ("2"). Text before the first heading is "Front matter", or "Whole
    document" when there are no headings at all. A repeated citation gets " (2)", " (3)" in order
    of appearance. `clause_citation` adds the clause number ("3.2 Official school accounts
    \u203a 3.2.1"), or gives the bare number where that is already a full reference ("2.1").

Clause numbers
    Numbered clauses keep their number ("3.1.4"). Lettered and roman items are written "(a)" or
    "(iv)" whatever the source style, prefixed by the numbered clause they continue ("3.1.4(a)",
    "3.1.4(a)(ii)"), so the number alone is a full reference. Bullets under a numbered or
    lettered clause carry its number, since that is what a reader finds them by ("7.3"); other
    bullets and paragraphs have none. A list item introduced by a sentence ending in ":" (or
    ";") carries it as `lead_in`, because "current pupils" means nothing quoted without "Staff
    must not message:"; only the items it governs do. A heading ending in ":" is not a lead-in:
    its words are already in the citation. A list item's line ends it when the next line starts
    at the item's margin and would have fitted on it, so the sentence after a list stays its own.

Headings
    Markdown headings (# to ######, and text underlined with === or ---) are always headings. A
    numbered line is a heading when it reads like a title (short, no closing full stop, no
    must/should/shall/will/may) and something follows it: deeper clause numbers, a list, or text.
    Numbered lines in a run with nothing between them are list items, not headings. In plain
    text, a short title-like line is a heading when it stands on its own: after a blank line or
    a finished sentence, and before a blank line, a list, or a paragraph that could have started
    on its line. ALL CAPS ranks above Title Case, which ranks above a heading ending in ":", and
    a heading straight after another becomes its child. Three or more short lines together are a
    list (names, roles), not headings. A heading with nothing under it before the next heading
    of its rank becomes an ordinary clause, so no section is empty and no heading word is lost.
    Role headings over lists of duties ("Headteacher", "All staff") stay siblings under the
    heading the first of them followed (see `_rank_headings`).

Lines and paragraphs
    Text is "wrapped" (lines joined into paragraphs) unless a tenth of its lines run past 120
    characters, which means one line per paragraph, as Word exports give. In wrapped text a line
    break is kept where the line ends a sentence and the next word would have fitted on it.

Title
    A lone top-level "# " heading at the very top, or in plain text the title-like lines at the
    top up to the one naming the policy ("... Policy"), joined with TITLE_JOINER.

Boilerplate (goes to `dropped`, never into sections)
    Page numbers ("Page 3 of 12", "3 of 12", "- 3 -", and a bare number next to a page break or
    followed by a blank line); running headers and footers (the same short line three or more
    times, on page edges when the text has form feeds; the first line is kept as the title);
    tables of contents (under a "Contents" line, or any dot-leader line ending in a page number);
    signature and approval blocks ("Signed", "Date:", "Approved by", "Review date", "Chair of
    Governors" and the names under them), but only when the whole block is made of such lines.
    They are dropped rather than kept as a section because staff ask about conduct, and an
    approval date quoted as an answer is noise; the importer can still read the review or
    effective date from `dropped`. A paragraph cut by a page break is joined up again. Before
    the first heading, short lines that are not sentences (the cover page: subtitle, version,
    dates, a flattened table of roles and names) are dropped too; a role and a name on one line
    ("Designated Safeguarding Lead: Priya Patel") stays, as front matter.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from dialogs.services.policy.parsed import SEPARATOR as SEPARATOR
from dialogs.services.policy.parsed import Clause as Clause
from dialogs.services.policy.parsed import ParsedPolicy as ParsedPolicy
from dialogs.services.policy.parsed import Section as Section
from dialogs.services.policy.parsed import clause_citation as clause_citation

FRONT_MATTER = "Front matter"
WHOLE_DOCUMENT = "Whole document"
TITLE_JOINER = " \u2014 "


# --- Line shapes -------------------------------------------------------------------------------

_BREAK = "\f"
_BULLETS = "·•-\u2013\u2014*+▪◦●■□➢►✓✔‣\u2043○\uf0b7\uf0a7\uf0d8\uf076\uf0fc"
_BULLET_CLASS = "[" + re.escape(_BULLETS) + "]"
_BULLET_RE = re.compile(rf"(?:{_BULLET_CLASS}|o(?=\s))\s+(?P<text>\S.*)")
_BULLET_ALONE_RE = re.compile(_BULLET_CLASS)
_LETTER_RE = re.compile(
    r"(?:\((?P<p>[ivxIVX]{1,5}|[a-zA-Z]|\d{1,2})\)|(?P<q>[ivx]{1,5}|[a-z])[.)])\s+(?P<text>\S.*)"
)
_NUM_RE = re.compile(
    r"(?P<num>\d{1,3}(?:\.\d{1,3}){0,5})[.)]?(?:(?:\s*[-\u2013\u2014:]\s*|\s+)(?P<text>\S.*))?"
)
_MD_HEAD_RE = re.compile(r"(?P<hashes>#{1,6})(?:\s+(?P<text>.*?))?(?:\s+#+)?\s*")
_RULE_RE = re.compile(r"([-*_])(?:\s*\1){2,}")
_SETEXT1_RE = re.compile(r"=+")
_WHOLE_BOLD_RE = re.compile(r"(\*\*|__)(?P<text>\S(?:.*\S)?)\1")

_PAGE_RE = re.compile(
    r"(?:page\s+\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}\s*(?:of|/)\s*\d{1,4}|[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014])",
    re.IGNORECASE,
)
_BARE_INT_RE = re.compile(r"\d{1,3}")
_TOC_HEAD_RE = re.compile(r"\W*(?:table of contents|contents|index)\W*", re.IGNORECASE)
_TOC_ENTRY_RE = re.compile(
    r"(?P<title>.*?[^\W\d_].*?)(?:\s*(?:\.{2,}|…+|_{2,}|·{2,})\s*|\s+)(?P<page>\d{1,3})"
)
_TOC_LINK_RE = re.compile(r"(?:[-*+]\s+)?\[(?P<title>[^\]]+)\]\(#[^)]*\)(?:\s+\d{1,3})?")
_LEADER_RE = re.compile(r"(?:\.{4,}|…{2,}|(?:\. ){3,}|_{4,})\s*\d{1,3}$")
_SIGN_STRONG_RE = re.compile(
    r"(?:signed|signature|sign-?off|date|dated|approved|approval|ratified|adopted|agreed by"
    r"|review date|reviewed|last reviewed|next review|date of (?:next )?review|review due"
    r"|to be reviewed|effective (?:date|from)|version|policy owner)\b",
    re.IGNORECASE,
)
_SIGN_WEAK_RE = re.compile(
    r"(?:chair|headteacher|head teacher|principal|ceo|chief executive|clerk|governor|trustee"
    r"|print name|name|position|role|on behalf of)\b",
    re.IGNORECASE,
)
_FILL_RE = re.compile(r"[_.…\s]{3,}")
_WORD_RE = re.compile(r"[^\W_]")

_MODALS = frozenset({"must", "should", "shall", "will", "may", "cannot", "mustn't", "shouldn't"})
_LEAD_VERBS = _MODALS | frozenset(
    {"include", "includes", "including", "following", "are", "is", "be", "have", "has", "can"}
)
_FUNCTION_WORDS = frozenset(
    {"that", "to", "about", "of", "for", "as", "by", "with", "from", "on", "in", "the", "these",
     "this", "our", "their", "if", "when", "where", "and", "or", "such", "below", "follows", "a",
     "an", "e.g", "i.e", "eg", "ie"}
)  # fmt: skip
_SMALL_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
     "the", "to", "with", "nor", "per", "via", "vs", "de"}
)  # fmt: skip

# Words a heading naming a role ends with: "Headteacher", "Designated Safeguarding Lead".
_ROLE_WORDS = frozenset(
    {"headteacher", "headteachers", "head", "principal", "deputy", "ceo", "directors", "director",
     "governors", "governor", "trustees", "trustee", "board", "staff", "employees", "teachers",
     "teacher", "lead", "leads", "leader", "leaders", "dsl", "dsls", "dpo", "senco", "officer",
     "officers", "manager", "managers", "coordinator", "co-ordinator", "clerk", "chair", "team",
     "volunteers", "contractors", "stakeholders", "parents", "carers", "pupils", "students",
     "everyone", "administrators", "moderators", "slt"}
)  # fmt: skip

_LineKind = Literal["blank", "md", "num", "bullet", "letter", "text"]


@dataclass
class _Head:
    title: str
    number: str | None
    source: Literal["md", "num", "text"]
    level: int = 0  # Markdown level, number depth, or text style (1 caps, 2 plain, 3 colon)
    rank: float = 0.0
    adjusted: bool = False


@dataclass
class _Line:
    kind: _LineKind
    text: str = ""
    raw: str = ""
    idx: int = -1
    indent: int = 0
    number: str | None = None  # clause number, or letter label for lettered items
    level: int = 0  # Markdown heading level
    bold: bool = False
    head: _Head | None = None


# --- Text clean-up -----------------------------------------------------------------------------


def _normalise(text: str) -> list[str]:
    """One physical line per entry, with page breaks kept as their own entries.

    Form feeds mark pages in text pulled from PDFs, which is what finds running headers, so they
    survive as markers; everything else that differs between Windows, Mac and PDF text goes.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x0b\x85\u2028\u2029]", "\n", text)
    text = text.replace(_BREAK, f"\n{_BREAK}\n").replace("\t", "    ")
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x7f\u00a0\u2000-\u200a\u202f\u3000]", " ", text)
    text = re.sub(r"[\u200b-\u200d\u2060]", "", text)
    return [line if line == _BREAK else line.rstrip() for line in text.split("\n")]


_ESCAPABLE = r"[\\`*_{}\[\]()#+\-.!>|]"
_HIDDEN = 0xF0000  # a private-use plane: escaped characters wait here while emphasis is removed


def _inline(text: str, markdown: bool) -> str:
    """Remove emphasis marks (quoted back in Slack or Teams they would show as literal stars).

    In Markdown a backslash keeps the next character literal, so escaped characters are set
    aside first and put back last: "\\*draft\\*" stays "*draft*" rather than losing its stars.
    """
    if markdown:
        text = re.sub(rf"\\({_ESCAPABLE})", lambda m: chr(_HIDDEN + ord(m.group(1))), text)
    text = re.sub(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])", r"\1", text)
    if markdown:
        text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
        text = re.sub(
            r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)",
            lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})",
            text,
        )
        text = re.sub(r"<((?:https?|mailto):[^>\s]+)>", r"\1", text)
        text = re.sub(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)", r"\1", text)
        text = re.sub(r"(?<!\w)_(?=[^\s_])([^_]+?)(?<=[^\s_])_(?!\w)", r"\1", text)
        text = re.sub(r"`([^`]*)`", r"\1", text)
        text = re.sub("[\U000f0000-\U000f007f]", lambda m: chr(ord(m.group()) - _HIDDEN), text)
    return text


def _clean(text: str, markdown: bool) -> str:
    return " ".join(_inline(text, markdown).split())


def _join(parts: list[str]) -> str:
    """Join wrapped lines, mending words the wrap split at a hyphen ("e-" + "safety")."""
    out = parts[0].strip()
    for part in parts[1:]:
        part = part.strip()
        if re.search(r"[^\W\d_]-$", out) and part[:1].islower():
            out += part
        else:
            out += " " + part
    return out


def _words(text: str) -> list[str]:
    return [w.strip(".,;:!?()'\"\u2018\u2019\u201c\u201d").casefold() for w in text.split()]


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _is_title_case(text: str) -> bool:
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    if not words:
        return False
    for position, word in enumerate(words):
        first = next(c for c in word if c.isalpha())
        if position and word.strip("()'\"\u2018\u2019\u201c\u201d,:").casefold() in _SMALL_WORDS:
            continue
        if not first.isupper():
            return False
    return True


def _is_lead_in(text: str) -> bool:
    """Whether a colon-ended line introduces a list ("Staff must not:") rather than titles it."""
    words = [w for w in _words(text) if w]
    if not words:
        return True
    return any(w in _LEAD_VERBS for w in words) or words[-1] in _FUNCTION_WORDS


def _title_like(text: str) -> bool:
    """Short, unfinished-sentence lines are how headings look once Word formatting is gone."""
    words = text.split()
    if not words or len(words) > 12 or len(text) > 90:
        return False
    first_alpha = next((c for c in text if c.isalpha()), None)
    if first_alpha is None or not first_alpha.isupper():
        return False
    if not (text[0].isalnum() or text[0] in "\"'\u201c\u2018("):
        return False
    if re.search(r"[.!?]\s+\S", text):
        return False
    if any(w in _MODALS for w in _words(text)):
        return False
    if text.endswith((",", ";")):
        return False
    if text.endswith("."):
        return len(words) <= 4 and _is_title_case(text) and not text.endswith("etc.")
    if text.endswith((":", ":-")):
        return len(words) <= 9 and not _is_lead_in(text.rstrip(":-"))
    return True


def _heading_title(text: str) -> str:
    return text.rstrip(" .:-\u2013\u2014").strip() or text


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", ":", ";", ".)", '."', ".\u201d"))


def _is_lead(text: str) -> bool:
    return bool(re.search(r"(?::-?|;|\s[-\u2013\u2014])$", text))


# --- Boilerplate -------------------------------------------------------------------------------


def _find_boilerplate(lines: list[str]) -> set[int]:
    """Line numbers of page furniture, contents lists and signature blocks."""
    stripped = [line if line == _BREAK else line.strip() for line in lines]
    n = len(lines)
    drop: set[int] = set()

    def nonblank(start: int, step: int) -> int | None:
        i = start
        while 0 <= i < n:
            if stripped[i]:
                return i
            i += step
        return None

    for i, s in enumerate(stripped):
        if _PAGE_RE.fullmatch(s):
            drop.add(i)
        elif _BARE_INT_RE.fullmatch(s):
            before, after = nonblank(i - 1, -1), nonblank(i + 1, 1)
            at_edge = (
                before is None or after is None or _BREAK in (stripped[before], stripped[after])
            )
            if at_edge or i + 1 >= n or stripped[i + 1] in ("", _BREAK):
                drop.add(i)

    _find_contents(stripped, drop)
    _find_running_lines(stripped, drop)
    _find_signatures(stripped, drop)
    return drop


def _toc_key(text: str) -> str:
    text = re.sub(r"^[#*\-\s]*(?:\d+(?:\.\d+)*\.?\s*)?", "", text)
    return " ".join(_inline(text, True).split()).casefold()


def _find_contents(stripped: list[str], drop: set[int]) -> None:
    n = len(stripped)
    for i, s in enumerate(stripped):
        if _LEADER_RE.search(s) and re.search(r"[^\W\d_]", _LEADER_RE.sub("", s)):
            drop.add(i)  # "Reporting concerns ......... 7" wherever it is
            continue
        if not _TOC_HEAD_RE.fullmatch(s.lstrip("#").strip()) or i in drop:
            continue
        entries: list[int] = []
        seen: set[str] = set()
        j = i + 1
        while j < n:
            line = stripped[j]
            if line in ("", _BREAK) or j in drop:
                j += 1
                continue
            numbered = line[-1:].isdigit() and len(line) <= 150
            entry = (numbered and _TOC_ENTRY_RE.fullmatch(line)) or _TOC_LINK_RE.fullmatch(line)
            if entry is None:
                break
            key = _toc_key(entry.group("title"))
            if key in seen:
                break
            seen.add(key)
            entries.append(j)
            j += 1
        if entries:
            drop.add(i)
            drop.update(entries)


def _find_running_lines(stripped: list[str], drop: set[int]) -> None:
    """Headers and footers: the same short line again and again, on page edges if pages exist."""
    breaks = [i for i, s in enumerate(stripped) if s == _BREAK]
    edges: set[int] | None = None
    if len(breaks) >= 2:
        edges = set()
        bounds = [-1, *breaks, len(stripped)]
        for start, end in itertools.pairwise(bounds):
            content = [k for k in range(start + 1, end) if stripped[k] and k not in drop]
            edges.update(content[:3])
            edges.update(content[-3:])
    where: dict[str, list[int]] = {}
    for i, s in enumerate(stripped):
        if not s or s == _BREAK or i in drop or (edges is not None and i not in edges):
            continue
        if len(s) > 100 or len(s.split()) > 15 or not any(c.isalpha() for c in s):
            continue
        if s.endswith((".", ";", ":", ",")) or s.startswith("#"):
            continue
        if _BULLET_RE.fullmatch(s) or _LETTER_RE.fullmatch(s) or _NUM_RE.fullmatch(s):
            continue
        key = re.sub(r"\d+", "#", " ".join(s.split()).casefold())
        where.setdefault(key, []).append(i)
    first = next((i for i, s in enumerate(stripped) if s and s != _BREAK), None)
    for found in where.values():
        if len(found) >= 3:
            # The first line of the document is its title even when every page repeats it.
            drop.update(i for i in found if i != first)


def _signature_line(line: str) -> Literal["strong", "role", "name", None]:
    text = _clean(re.sub(rf"^{_BULLET_CLASS}\s+", "", line), True)
    if not text or _FILL_RE.fullmatch(text):
        return "role"
    if len(text) > 100 or len(text.split()) > 14:
        return None
    if _SIGN_STRONG_RE.match(text):
        # "Approved by: ...", "Version 2.1", "Review date September 2026" are labels; a
        # sentence that merely starts with such a word ("Approved apps are listed on the
        # intranet.") is policy text.
        sentence = text.endswith(".") and ":" not in text and not re.search(r"\d|_{3}", text)
        return None if sentence else "strong"
    if re.match(r"chair of (?:the )?(?:governors|governing|trustees|(?:trust )?board)", text, re.I):
        return "strong"
    if _SIGN_WEAK_RE.match(text):
        return "role"
    if len(text.split()) <= 6 and not text.endswith((".", "!", "?", ";")):
        return "name"
    return None


def _find_signatures(stripped: list[str], drop: set[int]) -> None:
    """Drop a block only when every line in it belongs to a signature or approval block."""
    block: list[int] = []
    for i in range(len(stripped) + 1):
        s = stripped[i] if i < len(stripped) else ""
        if s and s != _BREAK and i not in drop:
            block.append(i)
            continue
        if block:
            kinds = [_signature_line(stripped[k]) for k in block]
            if "strong" in kinds and None not in kinds:
                # Names sign under a label; a short line above the first label is more likely
                # the title or a heading, so the block starts at the first label line.
                first = min(k for k, kind in enumerate(kinds) if kind == "strong")
                while first > 0 and kinds[first - 1] == "role":
                    first -= 1
                drop.update(block[first:])
            block = []


def _remove(lines: list[str], drop: set[int]) -> list[tuple[int, str]]:
    """Keep the rest, mending a paragraph that ran across a page break."""
    kept = [(i, line) for i, line in enumerate(lines) if i not in drop]
    out: list[tuple[int, str]] = []
    k = 0
    while k < len(kept):
        i, line = kept[k]
        if line != _BREAK:
            out.append((i, line))
            k += 1
            continue
        after = k + 1
        while after < len(kept) and kept[after][1].strip() in ("", _BREAK):
            after += 1
        before = len(out) - 1
        while before >= 0 and not out[before][1].strip():
            before -= 1
        if before >= 0 and after < len(kept):
            tail, head = out[before][1].strip(), kept[after][1].strip()
            if (
                not _ends_sentence(tail)
                and head[:1].islower()
                and not _BULLET_RE.fullmatch(head)
                and not _LETTER_RE.fullmatch(head)
            ):
                del out[before + 1 :]
                k = after
                continue
        out.append((i, ""))
        k += 1
    return out


# --- Classification ----------------------------------------------------------------------------


def _classify(idx: int, raw: str, markdown: bool) -> _Line:
    s = raw.strip()
    indent = len(raw) - len(raw.lstrip())
    if markdown:
        s = _unquoted(s)
    if not s:
        return _Line("blank", idx=idx, raw=raw)
    md = _MD_HEAD_RE.fullmatch(s)
    if md:
        return _md_heading(md, raw, idx, indent)
    if _RULE_RE.fullmatch(s) or _SETEXT1_RE.fullmatch(s):
        return _Line("blank", s, raw, idx, indent)
    s, bold = _unbolded(s)
    bullet = _BULLET_RE.fullmatch(s)
    if bullet:
        return _bulleted(bullet.group("text"), raw, idx, indent)
    if _BULLET_ALONE_RE.fullmatch(s):
        return _Line("bullet", "", raw, idx, indent)
    if not _WORD_RE.search(s):
        return _Line("blank", "", raw, idx, indent)  # stray punctuation: nothing to quote
    lettered = _lettered(s, raw, idx, indent)
    if lettered is not None:
        return lettered
    return _numbered_or_text(s, raw, idx, indent, bold)


def _unquoted(s: str) -> str:
    """A Markdown line without its block-quote markers ("> > text")."""
    while s.startswith(">"):
        s = s[1:].strip()
    return s


def _unbolded(s: str) -> tuple[str, bool]:
    """A line bold from end to end (as headings often are) without its markers, and whether so."""
    whole = _WHOLE_BOLD_RE.fullmatch(s)
    if whole and "**" not in whole.group("text") and "__" not in whole.group("text"):
        return whole.group("text"), True
    return s, False


def _md_heading(md: re.Match[str], raw: str, idx: int, indent: int) -> _Line:
    """A Markdown heading ("## Scope"); one with no words in it is a blank line."""
    if not md.group("text") or not _WORD_RE.search(md.group("text")):
        return _Line("blank", idx=idx, raw=raw)
    return _Line("md", md.group("text"), raw, idx, indent, level=len(md.group("hashes")))


def _bulleted(inner: str, raw: str, idx: int, indent: int) -> _Line:
    """A bulleted line: a lettered item behind a bullet is still lettered."""
    lettered = _lettered(inner, raw, idx, indent)
    if lettered is not None:
        return lettered
    if not _WORD_RE.search(inner):
        return _Line("blank", "", raw, idx, indent)
    return _Line("bullet", inner, raw, idx, indent)


def _lettered(s: str, raw: str, idx: int, indent: int) -> _Line | None:
    """A lettered item ("(a) ...", "b) ..."), if the line is one with words after its label."""
    letter = _LETTER_RE.fullmatch(s)
    if letter and _WORD_RE.search(letter.group("text")):
        label = letter.group("p") or letter.group("q")
        return _Line("letter", letter.group("text"), raw, idx, indent, label)
    return None


def _numbered_or_text(s: str, raw: str, idx: int, indent: int, bold: bool) -> _Line:
    """A numbered clause ("3.1 Staff must ..."), or else a line of plain text.

    A number followed by words that carry on a sentence ("2 weeks after ...") is text.
    """
    num = _NUM_RE.fullmatch(s)
    if num:
        text = num.group("text")
        if text is not None and not _WORD_RE.search(text):
            text = None  # "3.1 (" is a number whose words are on the next line, if anywhere
        if text is None or text[0].isupper() or text[0] in "\"'\u201c\u2018(":
            return _Line("num", text or "", raw, idx, indent, num.group("num"), bold=bold)
    return _Line("text", s, raw, idx, indent, bold=bold)


def _merge_markers(lines: list[_Line], dropped: dict[int, str]) -> list[_Line]:
    """Numbers and bullets on a line of their own belong to the text on the next line."""
    out: list[_Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.kind in ("num", "bullet") and not line.text:
            j = i + 1
            if j < len(lines) and lines[j].kind == "blank":
                j += 1
            if j < len(lines) and lines[j].kind == "text":
                target = lines[j]
                out.append(
                    _Line(line.kind, target.text, line.raw, line.idx, line.indent, line.number)
                )
                i = j + 1
                continue
            if line.kind == "num":
                dropped[line.idx] = line.raw.strip()
            i += 1
            continue
        out.append(line)
        i += 1
    return out


def _setext(lines: list[_Line], markdown: bool) -> None:
    """Underlined headings ("Scope" over "=====") are common in plain text as well."""
    for i in range(1, len(lines)):
        marker, previous = lines[i].text, lines[i - 1]
        if lines[i].kind != "blank" or not marker or previous.kind != "text":
            continue
        if not (_SETEXT1_RE.fullmatch(marker) or re.fullmatch(r"-{2,}", marker)):
            continue
        if markdown or _title_like(_clean(previous.text, markdown)):
            previous.kind, previous.level = "md", 1 if marker[0] == "=" else 2


# --- Parsing -----------------------------------------------------------------------------------


class _Layout:
    """How the document was typed: wrapped lines, or one line per paragraph."""

    def __init__(self, lines: list[_Line], markdown: bool) -> None:
        lengths = [len(line.raw.rstrip()) for line in lines if line.kind != "blank"]
        long_lines = sum(1 for n in lengths if n > 120)
        self.markdown = markdown
        self.unwrapped = not markdown and long_lines > 0 and long_lines * 10 >= len(lengths)
        short = [n for n in lengths if n <= 120]
        self.width = max(short, default=0)

    def fits(self, line: str, following: str) -> bool:
        """Whether the next line's first word would have fitted: if so, the break was chosen."""
        if self.unwrapped:
            return True
        first = following.split()[0] if following.split() else ""
        return len(line.rstrip()) + 1 + len(first) <= self.width


def _next_content(lines: list[_Line], i: int) -> tuple[int | None, bool]:
    j = i + 1
    while j < len(lines) and lines[j].kind == "blank":
        j += 1
    return (j if j < len(lines) else None), j != i + 1


_RESTATED_RE = re.compile(r"(?P<head>.+?)\s+[\u2013\u2014-]\s+(?P<rest>\S.*[;:])")


def _restated_heading(lines: list[_Line], i: int, text: str, seen: dict[str, int]) -> int | None:
    """The style of an earlier heading this line repeats to open a new part of it.

    "Social Media Use - Member schools are responsible for following these guidelines;"
    after the head's own list under "Social Media Use" starts the rules for someone else: a
    new section, not more items for whoever the previous sub-heading named. Only a line that
    restates a heading already seen, stands after a blank line and introduces a list counts.
    """
    match = _RESTATED_RE.fullmatch(text)
    if match is None or (i > 0 and lines[i - 1].kind != "blank"):
        return None
    j, _ = _next_content(lines, i)
    if j is None or lines[j].kind not in ("bullet", "letter", "num"):
        return None
    return seen.get(match.group("head").strip().casefold())


def _decide_headings(lines: list[_Line], layout: _Layout) -> None:
    markdown = layout.markdown
    item_run: set[int] = set()
    listed = _short_line_blocks(lines, markdown)
    seen: dict[str, int] = {}  # heading titles so far (case-folded) and their text style
    for i, line in enumerate(lines):
        text = _clean(line.text, markdown)
        restated = (
            _restated_heading(lines, i, text, seen)
            if line.kind == "text" and not markdown
            else None
        )
        if restated is not None:
            line.head = _Head(_heading_title(text.rstrip(";")), None, "text", restated)
        elif line.kind == "md":
            line.head = _Head(_heading_title(text), None, "md", line.level)
            numbered = _NUM_RE.fullmatch(line.head.title)
            if numbered and numbered.group("text"):
                line.head.number = numbered.group("num")
                line.head.title = _heading_title(numbered.group("text"))
        elif line.kind == "num":
            if _num_heading(lines, i, layout, item_run):
                assert line.number is not None
                depth = line.number.count(".") + 1
                line.head = _Head(_heading_title(text), line.number, "num", depth)
        elif (
            line.kind == "text"
            and (line.bold or not markdown)
            and i not in listed
            and _text_heading(lines, i, layout)
        ):
            style = 1 if _is_caps(text) else 3 if text.endswith((":", ":-")) else 2
            line.head = _Head(_heading_title(text), None, "text", style)
        if line.head is not None and line.head.source == "text":
            seen.setdefault(line.head.title.casefold(), line.head.level)


def _short_line_blocks(lines: list[_Line], markdown: bool) -> set[int]:
    """Three or more short lines together are a list or a table of names, not nested headings."""
    found: set[int] = set()
    block: list[int] = []
    for i in range(len(lines) + 1):
        if i < len(lines) and lines[i].kind != "blank":
            block.append(i)
            continue
        if len(block) >= 3 and all(
            lines[k].kind == "text" and _title_like(_clean(lines[k].text, markdown)) for k in block
        ):
            found.update(block)
        block = []
    return found


def _num_heading(lines: list[_Line], i: int, layout: _Layout, item_run: set[int]) -> bool:
    line = lines[i]
    assert line.number is not None
    text = _clean(line.text, layout.markdown)
    depth = line.number.count(".") + 1
    j, blank_between = _next_content(lines, i)
    before = i - 1
    while before >= 0 and lines[before].kind == "blank":
        before -= 1
    previous_number = lines[before].number if before in item_run else None
    if previous_number is not None and previous_number.count(".") + 1 == depth:
        item_run.add(i)  # the run of list items goes on: "1. Teachers", "2. Volunteers", ...
        return False
    if not _title_like(text) or j is None:
        return False
    following = lines[j]
    if following.kind == "num":
        assert following.number is not None
        if following.number.startswith(line.number + "."):
            return True
        item_run.add(i)
        return False
    if following.kind in ("bullet", "letter"):
        return True
    if following.kind == "md":
        return False
    return (
        blank_between
        or layout.unwrapped
        or _is_caps(text)
        or (following.text[:1].isupper() and layout.fits(line.raw, following.text))
    )


def _text_heading(lines: list[_Line], i: int, layout: _Layout) -> bool:
    line = lines[i]
    text = _clean(line.text, layout.markdown)
    if not _title_like(text):
        return False
    if i > 0:
        previous = lines[i - 1]
        previous_ok = (
            previous.kind == "blank"
            or previous.head is not None
            or layout.unwrapped
            or (_ends_sentence(previous.text) and layout.fits(previous.raw, line.text))
        )
        if not previous_ok:
            return False
    j, blank_between = _next_content(lines, i)
    if j is None:
        return True
    following = lines[j]
    if following.kind in ("bullet", "letter", "num", "md"):
        return True
    return (
        blank_between
        or layout.unwrapped
        or _is_caps(text)
        or (following.text[:1].isupper() and layout.fits(line.raw, following.text))
    )


def _take_title(lines: list[_Line]) -> str | None:
    """Pull the document title out of the leading headings, so it heads no section."""
    lead: list[_Line] = []
    for line in lines:
        if line.kind == "blank":
            continue
        if line.head is None or line.head.number is not None:
            break
        lead.append(line)
    if not lead:
        return None
    first = lead[0]
    assert first.head is not None
    if first.head.source == "md":
        top_level = [ln for ln in lines if ln.head and ln.head.source == "md" and ln.level == 1]
        if first.level == 1 and len(top_level) == 1:
            first.head = None
            first.kind = "blank"
            return _clean(first.text, True) or None
        return None
    plain = []
    for line in lead:
        if line.head is None or line.head.source != "text":
            break
        plain.append(line)
    naming = [
        k
        for k, line in enumerate(plain)
        if "polic" in line.text.casefold() and not line.text.rstrip().endswith(":")
    ]
    if not naming:
        return None
    title_lines = plain[: naming[-1] + 1]
    parts = []
    for line in title_lines:
        assert line.head is not None
        parts.append(_clean(line.text, False))
        line.head = None
        line.kind = "blank"
    return TITLE_JOINER.join(parts)


def _names_role(title: str) -> bool:
    """Whether a heading names who does something ("Headteacher", "All staff", "The CEO")."""
    words = _words(re.sub(r"\([^)]*\)", " ", title))
    words = [w for w in words if w]
    return 0 < len(words) <= 5 and words[-1] in _ROLE_WORDS


def _rank_headings(lines: list[_Line]) -> None:
    """Rank headings; a text heading straight after another is its child.

    Role headings over lists of duties ("Roles and responsibilities", then "Headteacher", a
    list, "Designated Safeguarding Lead", a list) look alike in plain text: only the first
    follows its parent directly. So a role heading in the style of an earlier role heading that
    became a child is that heading's sibling, under the same parent, until a heading that names
    no role, in the parent's style or above, ends the run.
    """
    structured = any(ln.head and ln.head.source in ("md", "num") for ln in lines)
    previous: _Head | None = None
    role_child: dict[float, float] = {}  # a role heading's own rank -> the rank it was given
    for line in lines:
        if line.kind == "blank":
            continue
        head = line.head
        if head is None:
            previous = None
            continue
        if head.source == "text":
            head.rank = base = (10 if structured else 0) + head.level
            role = _names_role(head.title)
            if previous is not None and not previous.adjusted and head.rank <= previous.rank:
                head.rank, head.adjusted = previous.rank + 0.5, True
                if role:
                    role_child[base] = head.rank
            elif role and base in role_child:
                head.rank, head.adjusted = role_child[base], True
            elif not role:
                role_child = {k: v for k, v in role_child.items() if v < base}
        else:
            head.rank = head.level
            role_child = {}
        previous = head


def _demote_empty_headings(lines: list[_Line]) -> None:
    """A heading with nothing under it is kept as a clause: no empty sections, no lost words."""
    for i, line in enumerate(lines):
        head = line.head
        if head is None:
            continue
        has_content = False
        for later in lines[i + 1 :]:
            if later.kind == "blank":
                continue
            if later.head is None:
                has_content = True
                break
            if later.head.rank <= head.rank:
                break
        if not has_content:
            line.head = None
            if line.kind == "md":
                line.kind = "text"


_ROLE_HOLDER_RE = re.compile(r"(?P<role>[^:]{2,60}):\s+(?P<name>\S.{0,60})")


def _drop_front_matter_labels(lines: list[_Line], markdown: bool, dropped: dict[int, str]) -> None:
    """Before the first heading, short lines that are not sentences are the cover page.

    Subtitles, version lines, dates and the role and name columns of a cover-page table are
    not answers to anything staff ask, so they go to `dropped` with the rest of the furniture.
    A table flattened into text lists its labels, then its names, so which name holds which
    role cannot be read from it, and naming the wrong safeguarding lead is worse than naming
    none. A role and a name on one line ("Designated Safeguarding Lead: Priya Patel") say it
    unambiguously and stay, cited as front matter, for "who is ...?" questions.
    """

    def role_holder(text: str) -> bool:
        holder = _ROLE_HOLDER_RE.fullmatch(text)
        return bool(holder and _names_role(holder.group("role")) and _title_like(holder["name"]))

    first = None
    for i, line in enumerate(lines):
        if line.head is None:
            continue
        if line.head.source == "text" and role_holder(_clean(line.text, markdown)):
            line.head = None  # a cover-page line, not the heading of what follows
            continue
        first = i
        break
    if first is None:
        return
    for line in lines[:first]:
        if line.kind != "text":
            continue
        text = _clean(line.text, markdown)
        if role_holder(text):
            continue
        if _title_like(text):
            dropped[line.idx] = line.raw.strip()
            line.kind, line.text = "blank", ""


@dataclass
class _Unit:
    kind: Literal["num", "bullet", "alpha", "roman", "para"]
    parts: list[str]
    last_raw: str
    indent: int
    number: str | None
    lead_in: str | None


@dataclass
class _Lead:
    text: str
    indent: int
    marker: str | None  # the list marker class it came from; None for a paragraph

    @property
    def colon(self) -> bool:
        return self.text.endswith((":", ":-"))


@dataclass
class _Accumulator:
    entries: tuple[_Head, ...]
    own: bool
    implicit: str | None = None
    clauses: list[Clause] = field(default_factory=list)


class _Builder:
    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        self.stack: list[_Head] = []
        self.done: list[_Accumulator] = []
        self.current = _Accumulator((), own=False)
        self.unit: _Unit | None = None
        self._reset_lists()

    def _reset_lists(self) -> None:
        self.leads: list[_Lead] = []
        self.last_num: str | None = None
        self.last_alpha: str | None = None
        self.alpha_number: str | None = None
        # The last numbered or lettered clause: (number, indent, whether it ends in ":").
        self.item: tuple[str | None, int, bool] | None = None

    def heading(self, head: _Head) -> None:
        self.close_unit()
        self._flush()
        while self.stack and self.stack[-1].rank >= head.rank:
            self.stack.pop()
        self.stack.append(head)
        self.current = _Accumulator(tuple(self.stack), own=True)
        self._reset_lists()

    def _flush(self) -> None:
        if self.current.clauses:
            self.done.append(self.current)

    def content(self, line: _Line) -> None:
        if line.kind == "blank":
            self.close_unit()
            return
        if line.kind in ("text", "md") and self.unit is not None and self._continues(line):
            self.unit.parts.append(line.text)
            self.unit.last_raw = line.raw
            return
        self.close_unit()
        if line.kind == "num":
            self._start_num(line)
        elif line.kind in ("bullet", "letter"):
            self._start_item(line)
        else:
            self._reset_lists()
            self.unit = _Unit("para", [line.text], line.raw, line.indent, None, None)

    def _continues(self, line: _Line) -> bool:
        assert self.unit is not None
        if self.layout.markdown or line.indent > self.unit.indent or line.text[:1].islower():
            return True
        if self.layout.unwrapped:
            return False
        if self.unit.kind != "para" and self.layout.fits(self.unit.last_raw, line.text):
            # A list item is typed on one line and wrapped with a hanging indent; a line at the
            # item's own margin that would have fitted on the one before starts something new,
            # even when the item has no full stop, so the sentence after a list is never quoted
            # as one of its items (under the list's lead-in, words the policy does not say).
            return False
        return not (
            _ends_sentence(self.unit.last_raw) and self.layout.fits(self.unit.last_raw, line.text)
        )

    def _start_num(self, line: _Line) -> None:
        assert line.number is not None
        number = line.number
        if "." in number:
            self.leads = []
            if not self.current.entries:
                self._implicit_section(number.split(".")[0])
            lead_in = None
        else:
            lead_in = self._item_lead(line.indent, "num")
        self.last_num, self.last_alpha, self.alpha_number = number, None, None
        self.unit = _Unit("num", [line.text], line.raw, line.indent, number, lead_in)

    def _implicit_section(self, top: str) -> None:
        """Clause numbers with no headings still group: every "2.x" clause is section 2."""
        if self.current.implicit == top:
            return
        if self.current.clauses or self.current.implicit is not None:
            self._flush()
            self.current = _Accumulator((), own=False, implicit=top)
            self._reset_lists()
        else:
            self.current.implicit = top

    def _item_lead(self, indent: int, marker: str) -> str | None:
        while self.leads and self.leads[-1].marker is not None:
            top = self.leads[-1]
            # A same-level item ending in ":" still introduces its neighbours: nesting is lost
            # when a document goes through plain text.
            sibling = top.indent == indent and top.marker == marker
            if sibling and marker == "bullet" and top.colon:
                sibling = False
            if top.indent > indent or sibling:
                self.leads.pop()
            else:
                break
        return self.leads[-1].text if self.leads else None

    def _start_item(self, line: _Line) -> None:
        if line.kind == "bullet":
            lead_in = self._item_lead(line.indent, "bullet")
            self.last_alpha = None
            # Bullets hang from a clause that introduces them or that they are indented under;
            # after a plain numbered list ("8. Contractors") they are the list's siblings.
            item = self.item
            hangs = item is not None and (item[2] or line.indent > item[1])
            number = item[0] if item is not None and hangs else None
            self.unit = _Unit("bullet", [line.text], line.raw, line.indent, number, lead_in)
            return
        label = line.number or ""
        roman = bool(re.fullmatch(r"[ivx]+", label.casefold())) and not (
            self.last_alpha is not None
            and len(label) == len(self.last_alpha) == 1
            and ord(label.casefold()) == ord(self.last_alpha.casefold()) + 1
        )
        if roman and self.alpha_number is not None:
            number = f"{self.alpha_number}({label})"
        else:
            number = f"{self.last_num or ''}({label})"
            if not roman:
                self.last_alpha, self.alpha_number = label, number
        marker: Literal["roman", "alpha"] = "roman" if roman else "alpha"
        lead_in = self._item_lead(line.indent, marker)
        self.unit = _Unit(marker, [line.text], line.raw, line.indent, number, lead_in)

    def close_unit(self) -> None:
        unit, self.unit = self.unit, None
        if unit is None:
            return
        text = _clean(_join(unit.parts), self.layout.markdown)
        if not _WORD_RE.search(text):
            return  # a stray rule or marker: nothing anyone could quote
        self.current.clauses.append(Clause(unit.number, text, unit.lead_in))
        if unit.kind in ("num", "alpha", "roman"):
            self.item = (unit.number, unit.indent, _is_lead(text))
        if _is_lead(text):
            marker = None if unit.kind == "para" else unit.kind
            self.leads.append(_Lead(text, unit.indent if marker else -1, marker))

    def finish(self) -> list[_Accumulator]:
        self.close_unit()
        self._flush()
        return self.done


def _citation(acc: _Accumulator) -> str:
    entries = list(acc.entries)
    numbered = [k for k, e in enumerate(entries) if e.number]
    start = numbered[-1] if numbered else 0
    deepest = entries[start].number if numbered else None
    for k in numbered:
        number = entries[k].number
        if deepest and number and not deepest.startswith(number + "."):
            start = min(start, k)  # numbering that does not nest says nothing about its parents
    parts = [f"{e.number} {e.title}" if e.number else e.title for e in entries[start:]]
    if acc.implicit is not None:
        parts.append(acc.implicit)
    return SEPARATOR.join(parts)


def parse_policy(text: str, *, kind: str = "text") -> ParsedPolicy:
    """Split a policy into sections people can cite and clauses the bot can quote."""
    if kind not in ("markdown", "text"):
        raise ValueError(f"unknown policy format {kind!r}: expected 'markdown' or 'text'")
    markdown = kind == "markdown"
    raw_lines = _normalise(text)
    drop = _find_boilerplate(raw_lines)
    dropped = {i: raw_lines[i].strip() for i in drop if raw_lines[i].strip() not in ("", _BREAK)}

    lines = [_classify(i, line, markdown) for i, line in _remove(raw_lines, drop)]
    _setext(lines, markdown)
    lines = _merge_markers(lines, dropped)
    layout = _Layout(lines, markdown)
    _decide_headings(lines, layout)
    title = _take_title(lines)
    _rank_headings(lines)
    _demote_empty_headings(lines)
    _drop_front_matter_labels(lines, markdown, dropped)

    builder = _Builder(layout)
    for line in lines:
        if line.head is not None:
            builder.heading(line.head)
        else:
            builder.content(line)
    accumulators = builder.finish()

    any_heading = any(acc.entries or acc.implicit for acc in accumulators)
    bases = [
        _citation(acc) or (FRONT_MATTER if any_heading else WHOLE_DOCUMENT) for acc in accumulators
    ]
    seen: Counter[str] = Counter()
    taken: set[str] = set()
    sections: list[Section] = []
    for acc, base in zip(accumulators, bases, strict=True):
        seen[base] += 1
        citation = base
        if seen[base] > 1 or base in taken:
            n = max(seen[base], 2)
            while f"{base} ({n})" in taken or f"{base} ({n})" in bases:
                n += 1
            citation = f"{base} ({n})"
        taken.add(citation)
        number = acc.entries[-1].number if acc.own and acc.entries else acc.implicit
        sections.append(
            Section(
                citation=citation,
                heading_path=tuple(e.title for e in acc.entries),
                number=number,
                clauses=tuple(acc.clauses),
                text="\n".join(c.text for c in acc.clauses),
            )
        )
    return ParsedPolicy(
        title=title,
        sections=tuple(sections),
        dropped=tuple(dropped[i] for i in sorted(dropped)),
    )
