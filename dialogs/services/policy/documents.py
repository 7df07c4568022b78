"""Turning an uploaded policy file into text that `policy_sections.parse_policy` can split.

Schools keep their policies in Word or as PDFs, sometimes as Markdown or plain text, and the parser
reads only Markdown and plain text. Each format is converted into the shape that keeps most of its
structure:

Word (.docx)
    Becomes Markdown, because Word styles say for certain what the parser would otherwise have to
    guess: the Title style is the document's single "# " heading (which the parser takes as the
    title), "Heading N" is one level below it, and list paragraphs get the number Word shows on
    screen. That number is not in the paragraph's text; Word computes it from numbering.xml, so
    the same is done here, and "2.1" or "(a)" reaches the parser as text it knows. A short
    paragraph that is bold all through is written as "**...**", which the parser treats as a
    heading when it reads like one, because many school policies make headings that way. Every
    block is followed by a blank line, since in Markdown consecutive lines are one paragraph.
    Running headers, footers, footnotes and comments live outside the body and are never read;
    tables of contents and unfilled form placeholders are navigation, not policy, and are skipped.

PDF
    Becomes plain text, page by page, with a form feed between pages: a PDF has no structure left
    to keep, and the page breaks are what let the parser recognise running headers, footers and
    page numbers and mend a paragraph that runs across a page.

Markdown and plain text
    Are decoded (UTF-8 with or without a byte order mark, UTF-16 with one, otherwise Windows-1252,
    which is what older Windows editors wrote) and passed on as they are.

What a file is comes from its content, never from its name or the type the browser claimed, so a
renamed file is read for what it is. Only Markdown and plain text cannot be told apart by content,
so for text alone the name's extension decides. Every refusal is an `UploadRejected` whose message
is read by whoever imports the policy, usually a school's IT admin: it names the file and says what
to do instead, and it never carries a library's error text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PureWindowsPath
from typing import Final, Literal

from dialogs.services.errors import UploadRejected
from dialogs.services.policy.reading import FORMATS_IN_WORDS, LETTER_RE, damaged_message
from dialogs.services.school.file_names import file_subject, megabytes
from dialogs.services.school.text_files import DamagedText, NotText, decode_text

__all__ = ["MAX_POLICY_BYTES", "PolicyDocument", "PolicyFormat", "read_policy_document"]


class PolicyFormat(StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    DOCX = "docx"
    PDF = "pdf"


@dataclass(frozen=True)
class PolicyDocument:
    """What an import needs to parse the policy, and what the file turned out to be."""

    format: PolicyFormat  # decided from the content, whatever the file was called
    text: str  # ready for parse_policy
    kind: Literal["markdown", "text"]  # the kind= to pass to parse_policy


_MEBIBYTE: Final = 1024 * 1024
# A long trust handbook with pictures is a few megabytes; anything far beyond is not a policy.
MAX_POLICY_BYTES: Final = 20 * _MEBIBYTE
# About a thousand pages of prose: more than any policy, yet parsed in a few seconds.
_MAX_POLICY_CHARS: Final = 2_000_000
_MAX_PDF_PAGES: Final = 300

_MARKDOWN_SUFFIXES: Final = frozenset({".md", ".markdown"})


def read_policy_document(data: bytes, filename: str) -> PolicyDocument:
    """Read a policy file of any supported kind into text for the parser, or say kindly why not.

    ``filename`` is used to word refusals and, for text files only, to tell Markdown from plain
    text. Raises ``UploadRejected`` for every problem; no library's exception escapes.
    """
    subject = file_subject(filename)
    if not data:
        raise UploadRejected(
            f"{subject} is empty, so there is no policy in it to import. Please check that you "
            "chose the right file and try again."
        )
    if len(data) > MAX_POLICY_BYTES:
        raise UploadRejected(
            f"{subject} is {megabytes(len(data), round_up=True)} MB, which is more than the "
            f"{megabytes(MAX_POLICY_BYTES)} MB a policy document can be. If it has large "
            "pictures in it, please save a copy without them (or as a PDF) and import that."
        )

    if data.startswith(b"%PDF-"):
        document = PolicyDocument(PolicyFormat.PDF, _read_pdf(data, subject), "text")
    elif data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        # Imported here, not at the top: python-docx is only needed by a Word import, and
        # every other command would otherwise pay for loading it.
        from dialogs.services.policy.docx import read_docx

        document = PolicyDocument(PolicyFormat.DOCX, read_docx(data, subject), "markdown")
    else:
        text = _read_text(data, subject)
        suffix = PureWindowsPath(filename.strip().casefold()).suffix
        if suffix in _MARKDOWN_SUFFIXES:
            document = PolicyDocument(PolicyFormat.MARKDOWN, text, "markdown")
        else:
            document = PolicyDocument(PolicyFormat.TEXT, text, "text")

    if not LETTER_RE.search(document.text):
        if document.format is PolicyFormat.PDF:
            raise UploadRejected(_scanned_message(subject))
        raise UploadRejected(
            f"{subject} has no words in it, so there is no policy to import. Please check that "
            "you chose the right file, and that the policy is typed rather than pasted in as "
            "pictures."
        )
    _require_policy_length(document.text, subject)
    return document


def _require_policy_length(text: str, subject: str) -> None:
    if len(text) > _MAX_POLICY_CHARS:
        raise UploadRejected(
            f"{subject} holds more text than any policy needs (over {_MAX_POLICY_CHARS:,} "
            "characters), so I haven't imported it. Please import the policy on its own rather "
            "than a collection of documents."
        )


# --- Naming things in messages -----------------------------------------------------------------


def _scanned_message(subject: str) -> str:
    return (
        f"{subject} has no text I can read: it looks like a scanned image; please import the "
        "original Word file or a PDF with selectable text."
    )


# --- Plain text and Markdown -------------------------------------------------------------------

_OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Office stores a password-protected .docx inside an OLE2 file, under this stream name.
_ENCRYPTED_PACKAGE: Final = "EncryptedPackage".encode("utf-16-le")
_PICTURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG photo"),
    (b"GIF87a", "a GIF picture"),
    (b"GIF89a", "a GIF picture"),
    (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
)
_TEXT_CONTROLS: Final = frozenset("\t\n\r\f\v")


def _read_text(data: bytes, subject: str) -> str:
    """Decode a text file, refusing the formats that only pretend to be text."""
    _refuse_known_binaries(data, subject)
    try:
        text = decode_text(data, allowed_controls="".join(_TEXT_CONTROLS))
    except DamagedText as exc:
        raise UploadRejected(
            f"{subject} starts like Unicode text but is damaged further in, so I can't "
            "read it. Please save it again as UTF-8 text and import that copy."
        ) from exc
    except NotText as exc:
        raise UploadRejected(_not_a_document_message(subject)) from exc
    _require_policy_length(text, subject)
    _refuse_markup(text, subject)
    return text


def _refuse_known_binaries(data: bytes, subject: str) -> None:
    """Name the common wrong files, so the admin is told what to do instead of just "no"."""
    if data.startswith(_OLE2_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise UploadRejected(
                f"{subject} is a password-protected Word document, so I can't read it. Please "
                "remove the password in Word (File \u203a Info \u203a Protect Document), save it "
                "and import that copy."
            )
        raise UploadRejected(
            f"{subject} looks like an old Word .doc file; please save it as .docx or PDF and "
            "import that."
        )
    if data.startswith(b"{\\rtf"):
        raise UploadRejected(
            f"{subject} is a Rich Text (.rtf) file; please open it in Word, save it as .docx or "
            "PDF and import that."
        )
    for magic, described in _PICTURES:
        if data.startswith(magic):
            raise UploadRejected(
                f"{subject} is {described}, not a document. Please import the policy as "
                f"{FORMATS_IN_WORDS}; if you only have a scan, please find the original Word "
                "file or a PDF with selectable text."
            )
    if (data.startswith(b"RIFF") and data[8:12] == b"WEBP") or data[4:8] == b"ftyp":
        raise UploadRejected(
            f"{subject} is a picture or video, not a document. Please import the policy as "
            f"{FORMATS_IN_WORDS}."
        )


def _refuse_markup(text: str, subject: str) -> None:
    """Web pages and Word's old XML format decode as text but would import as a soup of tags."""
    start = text.lstrip("\ufeff \t\r\n")[:400].casefold()
    if start.startswith(("<!doctype html", "<html")):
        raise UploadRejected(
            f"{subject} is a web page (HTML). Please open the original policy in Word and save it "
            "as .docx or PDF, or copy its text into a plain text file, and import that."
        )
    if start.startswith("<?xml") and ("word.document" in start or "<w:worddocument" in start):
        raise UploadRejected(
            f"{subject} is saved as Word XML; please open it in Word, save it as .docx or PDF "
            "and import that."
        )


def _not_a_document_message(subject: str) -> str:
    return f"{subject} isn't a document I can read. Please import the policy as {FORMATS_IN_WORDS}."


# --- PDF ---------------------------------------------------------------------------------------

# pypdf gives ligatures as the single characters the font drew; people search for "fi".
_LIGATURES: Final = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb06": "st",
    }
)


def _read_pdf(data: bytes, subject: str) -> str:
    """Pages joined by form feeds, so the parser can find what repeats at every page's edge."""
    # Imported here, not at the top, as python-docx is: reading a Markdown or text policy
    # (`policybot ask --policy FILE`) has no use for pypdf, which takes a tenth of a second.
    from pypdf import PasswordType, PdfReader

    damaged = damaged_message(
        subject,
        "a PDF",
        "Please export or print it to PDF again from the original document and import that copy.",
    )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise UploadRejected(damaged) from exc
    try:
        # Many PDFs are "encrypted" only to stop editing, and open with an empty password.
        locked = encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception:
        locked = True  # a scheme pypdf cannot open is, for the admin, a password problem
    if locked:
        raise UploadRejected(
            f"{subject} is a password-protected PDF, so I can't read the policy in it. Please "
            "save or export it again without a password and import that copy."
        )
    try:
        pages = len(reader.pages)
    except Exception as exc:
        raise UploadRejected(damaged) from exc
    if pages > _MAX_PDF_PAGES:
        raise UploadRejected(
            f"{subject} has {pages} pages, more than the {_MAX_PDF_PAGES} any policy needs, so "
            "I haven't imported it. Please import the policy on its own."
        )
    if pages == 0:
        raise UploadRejected(damaged)
    texts: list[str] = []
    total = 0
    try:
        for page in reader.pages:
            text = page.extract_text().translate(_LIGATURES).replace("\f", "\n")
            texts.append(text)
            total += len(text)
            if total > _MAX_POLICY_CHARS:
                break  # the caller refuses it; reading on would only cost time
    except Exception as exc:
        raise UploadRejected(damaged) from exc
    if not any(LETTER_RE.search(text) for text in texts):
        raise UploadRejected(_scanned_message(subject))
    return "\f".join(texts)
