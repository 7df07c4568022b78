"""Reading uploaded policy files, checked by what a person would see once the policy is parsed.

Every file is built here, with invented wording for an invented school (Larkspur Primary), so the
suite shows exactly which shapes are read and how. Word and PDF files are real ones, written with
python-docx and fpdf2; numbering Word computes is written as Word writes it, in numbering.xml.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable

import docx
import pytest
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfWriter

from dialogs.services.errors import UploadRejected
from dialogs.services.policy import documents as policy_documents
from dialogs.services.policy.documents import (
    MAX_POLICY_BYTES,
    PolicyDocument,
    PolicyFormat,
    read_policy_document,
)
from dialogs.services.policy.sections import SEPARATOR, ParsedPolicy, Section, parse_policy

W = nsdecls("w")
WORD = re.compile(r"[^\W_]+")


def path(*parts: str) -> str:
    return SEPARATOR.join(parts)


def parsed(document: PolicyDocument) -> ParsedPolicy:
    return parse_policy(document.text, kind=document.kind)


def outline(policy: ParsedPolicy) -> list[tuple[str, list[str | None]]]:
    return [(s.citation, [c.number for c in s.clauses]) for s in policy.sections]


def texts(section: Section) -> list[str]:
    return [c.text for c in section.clauses]


def all_clause_texts(policy: ParsedPolicy) -> list[str]:
    return [c.text for s in policy.sections for c in s.clauses]


def words_kept(policy: ParsedPolicy) -> set[str]:
    found = [policy.title or "", *policy.dropped]
    for section in policy.sections:
        found += [section.citation, section.text, *section.heading_path]
        found += [c.number or "" for c in section.clauses]
        found += [c.lead_in or "" for c in section.clauses]
    return set(WORD.findall(" ".join(found)))


def rejected(data: bytes, filename: str) -> str:
    with pytest.raises(UploadRejected) as caught:
        read_policy_document(data, filename)
    return caught.value.message


# --- Building Word files -----------------------------------------------------------------------


def build_docx(fill: Callable[[Document], object]) -> bytes:
    document = docx.Document()
    fill(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def add_list(document: Document, abstract_id: int, levels: str, *num_xml: str) -> None:
    """Add a list definition the way Word stores it: abstract levels, then the lists using it."""
    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {W} w:abstractNumId="{abstract_id}">'
        f'<w:multiLevelType w:val="multilevel"/>{levels}</w:abstractNum>'
    )
    numbering.find(qn("w:num")).addprevious(abstract)  # the schema puts definitions first
    for xml in num_xml:
        numbering.append(parse_xml(xml))


def level(ilvl: int, fmt: str, text: str, *, start: int = 1, extra: str = "") -> str:
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/>{extra}</w:lvl>'
    )


def num(num_id: int, abstract_id: int, overrides: str = "") -> str:
    return (
        f'<w:num {W} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'
    )


def numbered(document: Document, text: str, num_id: int, ilvl: int) -> Paragraph:
    paragraph = document.add_paragraph(text)
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {W}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )
    return paragraph


def bold_paragraph(document: Document, text: str) -> None:
    document.add_paragraph().add_run(text).bold = True


def raw_paragraph(document: Document, inner_xml: str) -> None:
    document.element.body.find(qn("w:sectPr")).addprevious(parse_xml(f"<w:p {W}>{inner_xml}</w:p>"))


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def with_entry(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    return zip_bytes({**entries, name: content})


def with_footnote(data: bytes, text: str) -> bytes:
    """Give a Word file a footnotes part, which python-docx cannot write, as Word stores it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    footnotes = (
        f'<w:footnotes {W}><w:footnote w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
        "</w:footnote></w:footnotes>"
    )
    entries["word/footnotes.xml"] = footnotes.encode()
    rels = entries["word/_rels/document.xml.rels"].decode()
    entries["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdNotes" Target="footnotes.xml" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/footnotes"/></Relationships>',
    ).encode()
    types = entries["[Content_Types].xml"].decode()
    entries["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.footnotes+xml"/></Types>',
    ).encode()
    return zip_bytes(entries)


CLAUSES = (
    level(0, "decimal", "%1.")
    + level(1, "decimal", "%1.%2.")
    + level(2, "lowerLetter", "%3)")
    + level(3, "lowerRoman", "(%4)")
)


def larkspur_policy(document: Document) -> None:
    document.sections[0].header.paragraphs[0].text = "LARKSPUR CONFIDENTIAL RUNNING HEADER"
    document.sections[0].footer.paragraphs[0].text = "Footer: printed copies are uncontrolled"
    document.add_paragraph("Larkspur Primary School Staff Online Conduct Policy", style="Title")
    document.add_heading("Purpose", level=1)
    document.add_paragraph(
        "This policy explains how adults at Larkspur use social media, in school and at home."
    )
    document.add_heading("Who this covers", level=2)
    document.add_paragraph("The policy applies to:")
    document.add_paragraph("Teachers", style="List Number")
    document.add_paragraph("Teaching assistants", style="List Number")
    document.add_paragraph("Volunteers and governors", style="List Number")
    document.add_heading("Good habits", level=2)
    document.add_paragraph("Keep personal profiles private.", style="List Bullet")
    document.add_paragraph("Log out of shared computers.", style="List Bullet")
    bold_paragraph(document, "Friend Requests")
    document.add_paragraph("Staff decline friend requests from pupils and their parents.")
    add_list(document, 90, CLAUSES, num(90, 90))
    numbered(document, "Personal Accounts", 90, 0)
    numbered(document, "Staff must not follow current pupils.", 90, 1)
    numbered(document, "Staff must not post about:", 90, 1)
    numbered(document, "pupils or their families;", 90, 2)
    numbered(document, "colleagues, including:", 90, 2)
    numbered(document, "their photographs;", 90, 3)
    numbered(document, "their home addresses.", 90, 3)
    numbered(document, "Reporting", 90, 0)
    numbered(document, "Concerns go to the safeguarding lead on the same day.", 90, 1)
    table = document.add_table(rows=3, cols=3)
    rows = [
        ("Platform", "Allowed", "Notes"),
        ("Class blog", "Yes", "Office staff approve each post"),
        ("Personal messaging", "No", "Never with pupils"),
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


LARKSPUR = build_docx(larkspur_policy)


def test_a_word_policy_keeps_its_title_headings_numbers_lists_and_table() -> None:
    document = read_policy_document(LARKSPUR, "Online conduct.docx")
    policy = parsed(document)

    assert (document.format, document.kind) == (PolicyFormat.DOCX, "markdown")
    assert policy.title == "Larkspur Primary School Staff Online Conduct Policy"
    assert outline(policy) == [
        ("Purpose", [None]),
        (path("Purpose", "Who this covers"), [None, "1", "2", "3"]),
        (path("Purpose", "Good habits"), [None, None]),
        (path("Purpose", "Good habits", "Friend Requests"), [None]),
        ("1 Personal Accounts", ["1.1", "1.2", "1.2(a)", "1.2(b)", "1.2(b)(i)", "1.2(b)(ii)"]),
        ("2 Reporting", ["2.1", None, None, None]),
    ]
    covers, habits, friends, personal, reporting = policy.sections[1:]
    assert [(c.text, c.lead_in) for c in covers.clauses[1:]] == [
        ("Teachers", "The policy applies to:"),
        ("Teaching assistants", "The policy applies to:"),
        ("Volunteers and governors", "The policy applies to:"),
    ]
    assert texts(habits) == ["Keep personal profiles private.", "Log out of shared computers."]
    assert texts(friends) == ["Staff decline friend requests from pupils and their parents."]
    assert personal.clauses[2].text == "pupils or their families;"
    assert personal.clauses[2].lead_in == "Staff must not post about:"
    assert personal.clauses[5].text == "their home addresses."
    assert personal.clauses[5].lead_in == "colleagues, including:"
    assert texts(reporting) == [
        "Concerns go to the safeguarding lead on the same day.",
        "Platform \u2013 Allowed \u2013 Notes",
        "Class blog \u2013 Yes \u2013 Office staff approve each post",
        "Personal messaging \u2013 No \u2013 Never with pupils",
    ]


def test_running_headers_and_footers_of_a_word_file_are_never_read() -> None:
    document = read_policy_document(LARKSPUR, "Online conduct.docx")
    policy = parsed(document)

    assert "RUNNING HEADER" not in document.text
    assert "uncontrolled" not in document.text
    assert policy.dropped == ()
    assert not {"CONFIDENTIAL", "uncontrolled"} & words_kept(policy)


def test_no_word_of_a_word_policy_is_lost() -> None:
    source = docx.Document(io.BytesIO(LARKSPUR))
    body_text = [p.text for p in source.paragraphs]
    body_text += [cell.text for row in source.tables[0].rows for cell in row.cells]

    policy = parsed(read_policy_document(LARKSPUR, "Online conduct.docx"))

    assert set(WORD.findall(" ".join(body_text))) <= words_kept(policy)


def test_a_subtitle_joins_the_title_and_a_later_title_ranks_with_heading_1() -> None:
    def fill(document: Document) -> None:
        document.add_paragraph("Larkspur Primary School", style="Title")
        document.add_paragraph("Staff Online Conduct Policy", style="Subtitle")
        document.add_heading("Scope", level=1)
        document.add_paragraph("All adults working at Larkspur.")
        document.add_paragraph("Appendix: Useful Contacts", style="Title")
        document.add_paragraph("These contacts are checked every term.")
        document.add_heading("Safeguarding", level=1)
        document.add_paragraph("The safeguarding lead is in the main office.")

    document = read_policy_document(build_docx(fill), "policy.docx")
    policy = parsed(document)

    assert document.text.count("\n# ") + document.text.startswith("# ") == 1
    assert policy.title == "Larkspur Primary School \u2014 Staff Online Conduct Policy"
    assert outline(policy) == [
        ("Scope", [None]),
        ("Appendix: Useful Contacts", [None]),
        ("Safeguarding", [None]),
    ]


def test_footnotes_of_a_word_file_are_never_read() -> None:
    def fill(document: Document) -> None:
        document.add_heading("Evidence", level=1)
        raw_paragraph(
            document,
            "<w:r><w:t>Keep screenshots of abuse.</w:t></w:r>"
            '<w:r><w:footnoteReference w:id="1"/></w:r>',
        )
        document.add_heading("Reporting", level=1)
        document.add_paragraph("Tell the safeguarding lead.")

    data = with_footnote(build_docx(fill), "FOOTNOTE-ONLY wording about screenshots.")
    assert b"FOOTNOTE-ONLY" in zipfile.ZipFile(io.BytesIO(data)).read("word/footnotes.xml")

    document = read_policy_document(data, "evidence.docx")

    assert "FOOTNOTE" not in document.text
    assert all_clause_texts(parsed(document)) == [
        "Keep screenshots of abuse.",
        "Tell the safeguarding lead.",
    ]


# --- Word numbering ----------------------------------------------------------------------------


def test_word_numbering_starts_restarts_and_continues_as_word_shows_it() -> None:
    def fill(document: Document) -> None:
        restart_at_five = '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride>'
        add_list(document, 91, CLAUSES, num(91, 91), num(92, 91, restart_at_five))
        add_list(
            document,
            93,
            level(0, "upperLetter", "%1.", start=3) + level(1, "upperRoman", "%2."),
            num(93, 93),
        )
        numbered(document, "Scope", 91, 0)
        numbered(document, "Everyone who works at Larkspur follows this policy.", 91, 1)
        numbered(document, "Accounts", 91, 0)
        numbered(document, "Staff keep accounts private.", 91, 1)
        numbered(document, "Staff do not share passwords.", 91, 1)
        document.add_paragraph("An ordinary paragraph does not interrupt the list.")
        numbered(document, "Shared devices are locked when left.", 91, 1)
        numbered(document, "Breaches", 92, 0)
        numbered(document, "Breaches are investigated by the headteacher.", 92, 1)
        document.add_paragraph("Devices include:")
        numbered(document, "laptops;", 93, 0)
        numbered(document, "tablets.", 93, 0)
        numbered(document, "Tablets stay in school.", 93, 1)

    document = read_policy_document(build_docx(fill), "numbering.docx")
    policy = parsed(document)

    assert "\n\n  2.3 Shared devices are locked when left.\n\n" in document.text
    assert "\n\n(C) laptops;\n\n" in document.text
    assert "\n\n  (I) Tablets stay in school.\n\n" in document.text
    assert outline(policy) == [
        ("1 Scope", ["1.1"]),
        ("2 Accounts", ["2.1", "2.2", None, "2.3"]),
        ("5 Breaches", ["5.1", None, "(C)", "(D)", "(D)(I)"]),
    ]


def test_numbered_heading_styles_get_their_numbers_from_the_style() -> None:
    def fill(document: Document) -> None:
        add_list(
            document,
            94,
            level(0, "decimal", "%1", extra='<w:pStyle w:val="Heading1"/>')
            + level(1, "decimal", "%1.%2", extra='<w:pStyle w:val="Heading2"/>'),
            num(94, 94),
        )
        for style_id in ("Heading1", "Heading2"):  # numbered by style; the level comes from lvl
            style = document.styles.element.get_by_id(style_id)
            style.get_or_add_pPr().append(
                parse_xml(f'<w:numPr {W}><w:numId w:val="94"/></w:numPr>')
            )
        clause = document.styles.add_style("Policy Clause", WD_STYLE_TYPE.PARAGRAPH)
        clause.element.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {W}><w:ilvl w:val="1"/><w:numId w:val="95"/></w:numPr>')
        )
        add_list(document, 95, CLAUSES, num(95, 95))
        document.add_heading("Scope", level=1)
        document.add_heading("Who Is Covered", level=2)
        document.add_paragraph("Every adult working at Larkspur.")
        document.add_heading("Official Accounts", level=1)
        document.add_heading("Posting", level=2)
        document.add_paragraph("Only the office posts on the school page.", style="Policy Clause")
        document.add_paragraph("Posts never name a pupil.", style="Policy Clause")

    policy = parsed(read_policy_document(build_docx(fill), "styles.docx"))

    assert policy.title is None
    assert outline(policy) == [
        ("1.1 Who Is Covered", [None]),
        ("2.1 Posting", ["1.1", "1.2"]),
    ]
    assert policy.sections[1].heading_path == ("Official Accounts", "Posting")


def test_legal_numbering_lists_that_never_restart_and_lists_defined_by_a_list_style() -> None:
    def fill(document: Document) -> None:
        legal = level(0, "upperRoman", "%1.") + level(1, "decimal", "%1.%2", extra="<w:isLgl/>")
        running = level(0, "decimal", "%1.") + level(
            1, "decimal", "Rule %2:", extra='<w:lvlRestart w:val="0"/>'
        )
        add_list(document, 80, legal, num(80, 80))
        add_list(document, 81, running, num(81, 81))
        # A list style: the list used by paragraphs only points at a style, whose list is real.
        add_list(document, 82, '<w:numStyleLink w:val="PolicyList"/>', num(82, 82))
        add_list(document, 83, level(0, "lowerLetter", "%1."), num(83, 83))
        document.styles.element.append(
            parse_xml(
                f'<w:style {W} w:type="numbering" w:styleId="PolicyList"><w:name w:val="Policy '
                'List"/><w:pPr><w:numPr><w:numId w:val="83"/></w:numPr></w:pPr></w:style>'
            )
        )
        numbered(document, "Part heading", 80, 0)
        numbered(document, "First legal clause.", 80, 1)
        numbered(document, "Second part", 80, 0)
        numbered(document, "Next legal clause.", 80, 1)
        numbered(document, "Stage one", 81, 0)
        numbered(document, "Be kind.", 81, 1)
        numbered(document, "Stage two", 81, 0)
        numbered(document, "Be careful.", 81, 1)
        numbered(document, "Styled list item one", 82, 0)
        numbered(document, "Styled list item two", 82, 0)

    blocks = read_policy_document(build_docx(fill), "legal.docx").text.split("\n\n")

    assert blocks[:10] == [
        "(I) Part heading",
        "  1.1 First legal clause.",
        "(II) Second part",
        "  2.1 Next legal clause.",
        "1 Stage one",
        "  Rule 1: Be kind.",
        "2 Stage two",
        "  Rule 2: Be careful.",
        "(a) Styled list item one",
        "(b) Styled list item two",
    ]


def test_a_list_can_switch_off_its_style_numbering_and_bullets_stay_bullets() -> None:
    def fill(document: Document) -> None:
        document.add_paragraph("Checklist before posting:")
        document.add_paragraph("The post names no pupil.", style="List Bullet")
        plain = document.add_paragraph("This line is styled as a list but unnumbered.")
        plain.style = document.styles["List Number"]
        plain._p.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:numId w:val="0"/></w:numPr>'))
        document.add_paragraph("\u2022 A bullet typed by hand.", style="List Paragraph")
        document.add_paragraph("An indented note with no bullet at all.", style="List Paragraph")

    document = read_policy_document(build_docx(fill), "bullets.docx")

    assert document.text.split("\n\n")[:5] == [
        "Checklist before posting:",
        "- The post names no pupil.",
        "This line is styled as a list but unnumbered.",
        "\u2022 A bullet typed by hand.",
        "- An indented note with no bullet at all.",
    ]


# --- Word text that looks like Markdown --------------------------------------------------------


def test_word_text_that_starts_like_markdown_stays_text() -> None:
    def fill(document: Document) -> None:
        document.add_paragraph("Larkspur Hashtag Guidance", style="Title")
        document.add_heading("Hashtags #", level=1)
        document.add_paragraph("#LarkspurLearns is the only hashtag staff use.")
        document.add_paragraph("> Quoted posts keep their author's name.")
        document.add_paragraph("Policies are saved in S:\\Policies\\#Staff and nowhere else.")
        document.add_paragraph("Staff posts\n=====")  # a line break, then an "underline"
        document.add_paragraph("Every post is checked.")

    document = read_policy_document(build_docx(fill), "hashtags.docx")
    policy = parsed(document)

    assert document.text.startswith("# Larkspur Hashtag Guidance\n\n## Hashtags \\#\n\n")
    assert policy.title == "Larkspur Hashtag Guidance"
    assert outline(policy) == [("Hashtags #", [None, None, None, None, None])]
    assert texts(policy.sections[0]) == [
        "#LarkspurLearns is the only hashtag staff use.",
        "> Quoted posts keep their author's name.",
        "Policies are saved in S:\\Policies\\#Staff and nowhere else.",
        "Staff posts",  # the parser drops a line with no words; it is not an underline here
        "Every post is checked.",
    ]


def test_word_text_with_markdown_emphasis_characters_is_quoted_as_written() -> None:
    wording = "Mark *draft* posts, keep file_names_like_this, quote `code` and [links](here)."

    def fill(document: Document) -> None:
        document.add_heading("Drafts", level=1)
        document.add_paragraph(wording)

    policy = parsed(read_policy_document(build_docx(fill), "drafts.docx"))

    assert texts(policy.sections[0]) == [wording]


def test_emphasis_characters_are_escaped_for_the_parser() -> None:
    def fill(document: Document) -> None:
        document.add_paragraph("Mark *draft* posts, file_names and [links](here) \\ paths.")

    document = read_policy_document(build_docx(fill), "drafts.docx")

    assert document.text == (
        "Mark \\*draft\\* posts, file\\_names and \\[links\\](here) \\ paths.\n\n"
    )


# --- Word formatting that makes headings --------------------------------------------------------


def test_short_bold_paragraphs_are_headings_but_bold_sentences_are_not() -> None:
    def fill(document: Document) -> None:
        bold_paragraph(document, "Larkspur Primary School Social Media Policy")
        bold_paragraph(document, "Personal Use")
        document.add_paragraph("Staff keep their accounts private.")
        bold_paragraph(document, "Staff must never share a pupil's photograph.")
        mixed = document.add_paragraph()
        mixed.add_run("Partly bold").bold = True
        mixed.add_run(" heading-like line")
        bold_paragraph(document, "Official Use")
        strong = document.add_paragraph()
        strong.add_run("Only the office posts").style = document.styles.add_style(
            "Emphatic", WD_STYLE_TYPE.CHARACTER
        )
        document.styles["Emphatic"].font.bold = True
        document.add_paragraph("Posts are checked by a second person.")

    policy = parsed(read_policy_document(build_docx(fill), "bold.docx"))

    assert policy.title == "Larkspur Primary School Social Media Policy"
    assert outline(policy) == [
        ("Personal Use", [None, None, None]),
        (path("Official Use", "Only the office posts"), [None]),
    ]
    assert texts(policy.sections[0]) == [
        "Staff keep their accounts private.",
        "Staff must never share a pupil's photograph.",
        "Partly bold heading-like line",
    ]


# --- Word structure that is not plain paragraphs -----------------------------------------------

HIDDEN_AND_TRACKED = """\
<w:r><w:t xml:space="preserve">Staff report </w:t></w:r>
<w:r><w:rPr><w:vanish/></w:rPr><w:t>HIDDEN-NOTE </w:t></w:r>
<w:del w:id="1" w:author="Office"><w:r><w:delText>REMOVED-WORDS </w:delText></w:r></w:del>
<w:ins w:id="2" w:author="Office"><w:r><w:t xml:space="preserve">online </w:t></w:r></w:ins>
<w:r><w:fldChar w:fldCharType="begin"/></w:r>
<w:r><w:instrText xml:space="preserve"> HYPERLINK "https://example.org/FIELD-CODE"</w:instrText>
</w:r>
<w:r><w:fldChar w:fldCharType="separate"/></w:r>
<w:hyperlink><w:r><w:t>abuse</w:t></w:r></w:hyperlink>
<w:r><w:fldChar w:fldCharType="end"/></w:r>
<w:r><w:footnoteReference w:id="1"/></w:r>
<w:r><w:t xml:space="preserve"> the same</w:t><w:tab/><w:t>day.</w:t></w:r>
"""

TEXT_BOX = """\
<w:r><w:t>Key rule:</w:t></w:r>
<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>Think before you post.</w:t>
</w:r></w:p></w:txbxContent></w:drawing></mc:Choice>
<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Think before you post.</w:t></w:r></w:p>
</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>
"""

CONTENTS = f"""\
<w:sdt {W}><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj>
</w:sdtPr><w:sdtContent><w:p><w:r><w:t>CONTENTS-ENTRY Reporting 4</w:t></w:r></w:p></w:sdtContent>
</w:sdt>"""

PLACEHOLDER = f"""\
<w:sdt {W}><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:p><w:r>
<w:t>Click or tap here to enter text.</w:t></w:r></w:p></w:sdtContent></w:sdt>"""

FILLED = f"""\
<w:sdt {W}><w:sdtPr><w:alias w:val="Review"/></w:sdtPr><w:sdtContent><w:p><w:r>
<w:t>Staff read this policy every September.</w:t></w:r></w:p></w:sdtContent></w:sdt>"""


def test_only_the_text_word_shows_is_read() -> None:
    def fill(document: Document) -> None:
        body = document.element.body
        sect_pr = body.find(qn("w:sectPr"))
        document.add_paragraph("Larkspur Reporting Guidance", style="Title")
        document.add_paragraph("CONTENTS-HEADING", style="TOC Heading")
        toc = document.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
        document.add_paragraph("CONTENTS-LINE Reporting\t2", style=toc)
        document.add_heading("Reporting", level=1)
        sect_pr.addprevious(parse_xml(CONTENTS))
        raw_paragraph(document, HIDDEN_AND_TRACKED)
        raw_paragraph(document, TEXT_BOX)
        sect_pr.addprevious(parse_xml(PLACEHOLDER))
        sect_pr.addprevious(parse_xml(FILLED))

    document = read_policy_document(build_docx(fill), "shown.docx")
    policy = parsed(document)

    for hidden in ("HIDDEN", "REMOVED", "FIELD", "CONTENTS", "Click"):
        assert hidden not in document.text
    assert outline(policy) == [("Reporting", [None, None, None, None])]
    assert texts(policy.sections[0]) == [
        "Staff report online abuse the same day.",
        "Key rule:",
        "Think before you post.",
        "Staff read this policy every September.",
    ]


def test_a_layout_table_keeps_its_structure_and_a_nested_table_is_flattened() -> None:
    def fill(document: Document) -> None:
        document.add_paragraph("Larkspur Contacts", style="Title")
        document.add_heading("Contacts", level=1)
        layout = document.add_table(rows=1, cols=2)
        box = layout.cell(0, 0)
        box.paragraphs[0].text = "Staff report concerns to the safeguarding lead."
        box.add_paragraph("Out of hours", style="Heading 2")
        box.add_paragraph("Staff email the on-call lead.")
        grid = document.add_table(rows=1, cols=2)
        grid.cell(0, 0).text = "Who to tell"
        inner = grid.cell(0, 1).add_table(rows=2, cols=2)
        for r, row in enumerate([("Pupil", "Safeguarding lead"), ("Staff", "Headteacher")]):
            for c, value in enumerate(row):
                inner.cell(r, c).text = value

    policy = parsed(read_policy_document(build_docx(fill), "tables.docx"))

    assert outline(policy) == [
        ("Contacts", [None]),
        (path("Contacts", "Out of hours"), [None, None]),
    ]
    assert texts(policy.sections[1]) == [
        "Staff email the on-call lead.",
        "Who to tell \u2013 Pupil \u2013 Safeguarding lead; Staff \u2013 Headteacher",
    ]


def test_a_word_paragraph_starting_with_an_approval_word_is_kept() -> None:
    def fill(document: Document) -> None:
        document.add_heading("Apps", level=1)
        document.add_paragraph("Approved apps are listed on the staff intranet.")
        document.add_paragraph("Staff use no other apps with pupils.")

    policy = parsed(read_policy_document(build_docx(fill), "apps.docx"))

    assert texts(policy.sections[0]) == [
        "Approved apps are listed on the staff intranet.",
        "Staff use no other apps with pupils.",
    ]


# --- PDF ---------------------------------------------------------------------------------------


class PolicyPdf(FPDF):
    def header(self) -> None:
        self.set_font("Helvetica", size=9)
        self.cell(0, 6, "Larkspur Primary School Staff Online Conduct Policy")
        self.ln(10)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 6, f"Page {self.page_no()} of {{nb}}", align="C")


def build_pdf(pages: list[list[str]]) -> bytes:
    pdf = PolicyPdf(format=(148, 210))
    pdf.set_auto_page_break(False)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


PDF_PAGES = [
    [
        "1. Scope",
        "1.1 This policy covers every adult who works or volunteers at Larkspur.",
        "1.2 Staff remain responsible for what they post, even when they use a",
    ],
    [
        "nickname or a private account.",
        "2. Reporting",
        "2.1 Worrying posts are reported to the safeguarding lead.",
    ],
    [
        "2.2 Reports are recorded on the same day.",
        "3. Breaches",
        "3.1 A breach may lead to disciplinary action.",
    ],
]
PAGED_PDF = build_pdf(PDF_PAGES)


def test_a_pdf_is_read_page_by_page_without_its_page_furniture() -> None:
    document = read_policy_document(PAGED_PDF, "policy.pdf")
    policy = parsed(document)

    assert (document.format, document.kind) == (PolicyFormat.PDF, "text")
    assert document.text.count("\f") == 2
    assert policy.title == "Larkspur Primary School Staff Online Conduct Policy"
    assert outline(policy) == [
        ("1 Scope", ["1.1", "1.2"]),
        ("2 Reporting", ["2.1", "2.2"]),
        ("3 Breaches", ["3.1"]),
    ]
    assert policy.sections[0].clauses[1].text == (
        "Staff remain responsible for what they post, even when they use a nickname or a "
        "private account."
    )
    assert policy.dropped == (
        "Page 1 of 3",
        "Larkspur Primary School Staff Online Conduct Policy",
        "Page 2 of 3",
        "Larkspur Primary School Staff Online Conduct Policy",
        "Page 3 of 3",
    )
    for clause in all_clause_texts(policy):
        assert "Page" not in clause
        assert "Conduct Policy" not in clause


def test_no_word_of_a_pdf_policy_is_lost() -> None:
    policy = parsed(read_policy_document(PAGED_PDF, "policy.pdf"))

    assert set(WORD.findall(" ".join(line for page in PDF_PAGES for line in page))) <= (
        words_kept(policy)
    )


def test_a_pdf_with_an_owner_password_only_opens_and_is_read() -> None:
    pdf = PolicyPdf()
    pdf.set_encryption(owner_password="governors-only")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Staff never share login details.")

    document = read_policy_document(bytes(pdf.output()), "locked for editing.pdf")

    assert "Staff never share login details." in document.text


# --- Text and Markdown -------------------------------------------------------------------------

TEXT_POLICY = "Scope\n\nStaff at Larkspur don\u2019t post photos of pupils \u2013 ever.\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(TEXT_POLICY.encode("utf-8"), id="utf-8"),
        pytest.param(b"\xef\xbb\xbf" + TEXT_POLICY.encode("utf-8"), id="utf-8-bom"),
        pytest.param(TEXT_POLICY.encode("utf-16"), id="utf-16-native-bom"),
        pytest.param(b"\xff\xfe" + TEXT_POLICY.encode("utf-16-le"), id="utf-16-le"),
        pytest.param(b"\xfe\xff" + TEXT_POLICY.encode("utf-16-be"), id="utf-16-be"),
        pytest.param(TEXT_POLICY.encode("cp1252"), id="windows-1252"),
        pytest.param(TEXT_POLICY.replace("\n", "\r\n").encode("cp1252"), id="windows-crlf"),
    ],
)
def test_text_is_decoded_whatever_its_encoding(data: bytes) -> None:
    document = read_policy_document(data, "policy.txt")
    policy = parsed(document)

    assert document.format is PolicyFormat.TEXT
    assert not document.text.startswith("\ufeff")
    assert outline(policy) == [("Scope", [None])]
    assert texts(policy.sections[0]) == [
        "Staff at Larkspur don\u2019t post photos of pupils \u2013 ever."
    ]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("policy.md", PolicyFormat.MARKDOWN),
        ("POLICY.MD", PolicyFormat.MARKDOWN),
        ("Staff policy.markdown", PolicyFormat.MARKDOWN),
        ("C:\\Users\\office\\policy.md", PolicyFormat.MARKDOWN),
        ("policy.txt", PolicyFormat.TEXT),
        ("policy.md.txt", PolicyFormat.TEXT),
        ("policy", PolicyFormat.TEXT),
        ("policy.pdf", PolicyFormat.TEXT),
        ("policy.docx", PolicyFormat.TEXT),
    ],
)
def test_text_is_markdown_only_when_named_so(filename: str, expected: PolicyFormat) -> None:
    document = read_policy_document(b"# Larkspur Policy\n\n## Scope\n\nAll staff.\n", filename)

    assert document.format is expected
    assert document.kind == expected.value
    assert document.text == "# Larkspur Policy\n\n## Scope\n\nAll staff.\n"


def test_the_content_decides_the_format_not_the_name() -> None:
    assert read_policy_document(LARKSPUR, "policy.md").format is PolicyFormat.DOCX
    assert read_policy_document(PAGED_PDF, "policy.docx").format is PolicyFormat.PDF
    assert read_policy_document(b"Staff keep accounts private.", "x.pdf").kind == "text"


# --- Refusals ----------------------------------------------------------------------------------


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 250, 250)).save(buffer, format="PNG")
    return buffer.getvalue()


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size the ZIP's central directory claims for one entry."""
    header = data.rindex(b"PK\x01\x02", 0, data.index(name.encode(), data.index(b"PK\x01\x02")))
    at = header + 24
    return data[:at] + struct.pack("<I", size) + data[at + 4 :]


def zip_password_flag(data: bytes) -> bytes:
    """Mark the first entry of a ZIP as encrypted, as a ZIP password would."""
    header = data.index(b"PK\x01\x02")
    flags = struct.unpack_from("<H", data, header + 8)[0] | 0x1
    return data[: header + 8] + struct.pack("<H", flags) + data[header + 10 :]


def encrypted_pdf(user_password: str) -> bytes:
    pdf = FPDF()
    pdf.set_encryption(owner_password="office", user_password=user_password)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Staff never share login details.")
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png_bytes()), x=10, y=10, w=120)
    return bytes(pdf.output())


def long_pdf(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in range(pages):
        pdf.add_page()
        pdf.cell(0, 6, f"Page {page + 1}")
    return bytes(pdf.output())


def pdf_without_pages() -> bytes:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    return buffer.getvalue()


def as_template(data: bytes) -> bytes:
    """The same Word file, declared as a template (.dotx), as Word's "Save as template" does."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    types = entries["[Content_Types].xml"]
    entries["[Content_Types].xml"] = types.replace(b"document.main+xml", b"template.main+xml")
    return zip_bytes(entries)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
WORD_2003_XML = (
    b'<?xml version="1.0"?>\n<?mso-application progid="Word.Document"?>\n'
    b"<w:wordDocument><w:body>Staff policy</w:body></w:wordDocument>"
)


@pytest.mark.parametrize(
    ("data", "filename", "explains"),
    [
        pytest.param(b"", "policy.docx", "is empty", id="empty"),
        pytest.param(OLE2 + b"Word.Document.8", "policy.doc", "old Word .doc file", id="doc"),
        pytest.param(
            OLE2 + "EncryptedPackage".encode("utf-16-le"),
            "policy.docx",
            "password-protected Word document",
            id="password-docx",
        ),
        pytest.param(png_bytes(), "policy.pdf", "is a PNG picture", id="png"),
        pytest.param(b"{\\rtf1\\ansi Staff policy}", "policy.rtf", "Rich Text", id="rtf"),
        pytest.param(
            b"<!DOCTYPE html><html><body>Policy</body></html>", "policy.htm", "web page", id="html"
        ),
        pytest.param(WORD_2003_XML, "policy.xml", "saved as Word XML", id="word-xml"),
        pytest.param(
            b"MZ\x90\x00\x03\x00\x00\x00", "policy.txt", "isn't a document I can read", id="binary"
        ),
        pytest.param(
            b"Staff\x01\x02\x03\x04\x05policy", "policy.txt", "isn't a document", id="controls"
        ),
        pytest.param(
            b"\xff\xfe" + "Staff".encode("utf-16-le") + b"\x00\xd8",
            "policy.txt",
            "starts like Unicode text but is damaged",
            id="bad-utf-16",
        ),
        pytest.param(
            zip_bytes({"minutes.txt": b"Governors met."}), "policy.docx", "ZIP archive", id="zip"
        ),
        pytest.param(
            zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b""}),
            "policy.odt",
            "OpenDocument",
            id="odt",
        ),
        pytest.param(
            zip_bytes({"xl/workbook.xml": b"<workbook/>"}), "policy.xlsx", "spreadsheet", id="xlsx"
        ),
        pytest.param(as_template(LARKSPUR), "policy.dotx", "Word template", id="template"),
        pytest.param(
            zip_password_flag(LARKSPUR), "policy.docx", "password-protected ZIP", id="zip-password"
        ),
        pytest.param(
            zip_bytes({"word/document.xml": b"<not-really-word"}),
            "policy.docx",
            "seems to be damaged",
            id="corrupt-docx",
        ),
        pytest.param(LARKSPUR[: len(LARKSPUR) // 2], "policy.docx", "damaged", id="cut-docx"),
        pytest.param(
            b"%PDF-1.7\n" + b"\x00garbage" * 50, "policy.pdf", "seems to be damaged", id="bad-pdf"
        ),
        pytest.param(PAGED_PDF[:400], "policy.pdf", "seems to be damaged", id="cut-pdf"),
        pytest.param(pdf_without_pages(), "policy.pdf", "seems to be damaged", id="no-pages"),
        pytest.param(
            encrypted_pdf("staffroom"), "policy.pdf", "password-protected PDF", id="locked-pdf"
        ),
        pytest.param(image_only_pdf(), "scan.pdf", "looks like a scanned image", id="scan"),
        pytest.param(b"12\n\n---\n\n3.1\n", "policy.txt", "has no words", id="no-words"),
        pytest.param(build_docx(lambda d: None), "blank.docx", "has no words", id="blank-docx"),
    ],
)
def test_refusals_say_what_to_do_instead(data: bytes, filename: str, explains: str) -> None:
    message = rejected(data, filename)

    assert explains in message
    assert message.startswith(f"The file \u201c{filename}\u201d ")
    assert "Traceback" not in message
    assert "Error" not in message


def test_an_old_word_file_is_refused_with_advice_on_saving_it_again() -> None:
    assert rejected(OLE2, "Staff policy 2019.doc") == (
        "The file \u201cStaff policy 2019.doc\u201d looks like an old Word .doc file; please "
        "save it as .docx or PDF and import that."
    )


def test_a_scanned_pdf_is_refused_with_advice_on_finding_the_original() -> None:
    assert rejected(image_only_pdf(), "scan.pdf") == (
        "The file \u201cscan.pdf\u201d has no text I can read: it looks like a scanned image; "
        "please import the original Word file or a PDF with selectable text."
    )


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    at_the_limit = (b"Staff " * (MAX_POLICY_BYTES // 6 + 1))[:MAX_POLICY_BYTES]
    over_the_limit = b"%PDF-" + at_the_limit[5:] + b" "

    assert MAX_POLICY_BYTES == 20 * 1024 * 1024
    # At the limit the file is read, and only then found to hold too much text.
    assert "more text than any policy needs" in rejected(at_the_limit, "policy.txt")
    assert rejected(over_the_limit, "policy.pdf") == (
        "The file \u201cpolicy.pdf\u201d is 20.1 MB, which is more than the 20 MB a policy "
        "document can be. If it has large pictures in it, please save a copy without them (or "
        "as a PDF) and import that."
    )


def test_a_word_file_declaring_a_huge_unpacked_size_is_not_opened() -> None:
    bomb = declare_size(
        with_entry(LARKSPUR, "word/media/image9.png", b"x" * 100), "image9", 2**32 - 1
    )

    message = rejected(bomb, "policy.docx")

    assert "would unpack to far more than any policy needs" in message


def test_a_word_file_with_too_many_parts_is_not_opened() -> None:
    entries = {f"word/media/image{k}.png": b"" for k in range(2_001)}
    crowded = zip_bytes({"word/document.xml": b"<w:document/>", **entries})

    assert "would unpack to far more" in rejected(crowded, "policy.docx")


def test_a_pdf_with_too_many_pages_is_refused_before_its_text_is_read() -> None:
    read_policy_document(long_pdf(300), "handbook.pdf")

    message = rejected(long_pdf(301), "handbook.pdf")

    assert "has 301 pages, more than the 300 any policy needs" in message


def test_a_policy_with_more_text_than_any_policy_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(policy_documents, "_MAX_POLICY_CHARS", 1_000)
    sentence = "Staff keep accounts private. "
    read_policy_document((sentence * 34).encode(), "policy.txt")
    long_word_file = build_docx(lambda document: document.add_paragraph(sentence * 40))

    assert "more text than any policy needs" in rejected((sentence * 35).encode(), "policy.txt")
    assert "more text than any policy needs" in rejected(long_word_file, "long.docx")


# --- Anything at all is read or explained ------------------------------------------------------

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def read_or_explain(data: bytes, filename: str) -> None:
    """The one promise callers rely on: a policy the parser can read, or a reason in words."""
    try:
        document = read_policy_document(data, filename)
    except UploadRejected as refused:
        message = refused.message
    else:
        parse_policy(document.text, kind=document.kind)
        assert WORD.search(document.text)
        return
    assert message.startswith("The file")
    assert "Error" not in message


@FUZZ
@given(data=st.binary(max_size=2_000), filename=st.sampled_from(["p.docx", "p.md", "p.pdf", ""]))
def test_arbitrary_bytes_are_read_or_explained(data: bytes, filename: str) -> None:
    read_or_explain(data, filename)


def mutated(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        out[position % len(out)] = value
    return bytes(out)


@FUZZ
@given(
    source=st.sampled_from([LARKSPUR, PAGED_PDF]),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_damaged_word_and_pdf_files_are_read_or_explained(
    source: bytes, edits: list[tuple[int, int]]
) -> None:
    read_or_explain(mutated(source, edits), "policy")
