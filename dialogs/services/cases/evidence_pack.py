"""Evidence packs: a cyberbullying case exported so that police, or the school's own records, can
rely on it later.

The pack has to stand on its own long after the chatbot is gone, so it carries the evidence bytes
exactly as stored, a machine-readable manifest that lets anyone re-check every SHA-256 against
the one recorded when the file was received, and a printable chronology a person can read. It
also has to be safe to open: names, answers and notes come from pupils, parents and staff and are
treated as hostile, so they never become paths in the ZIP and are always escaped in the HTML.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

__all__ = [
    "MISMATCH_WARNING",
    "PackCase",
    "PackEvent",
    "PackEvidence",
    "WrittenPack",
    "write_evidence_pack",
]

GENERATOR = "policybot"
MISMATCH_WARNING = "DOES NOT MATCH the hash recorded on receipt"
TEMPLATE_NAME = "chronology.html.j2"

# A reference becomes the top folder of the ZIP, so it must be a plain name that can never climb
# out of the folder someone extracts the pack into.
_SAFE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Extensions are chosen by us from the media type, but they still end up in a path, so anything
# unexpected is replaced rather than trusted.
_SAFE_EXTENSION = re.compile(r"\.[a-z0-9]{1,10}")
_FALLBACK_EXTENSION = ".bin"

# Characters that are invisible on the page but change what a reader sees: C0/C1 controls and the
# Unicode bidirectional overrides (which can make "gnp.exe" read as "exe.png"). They are shown as
# visible markers in the HTML; the manifest keeps the exact text.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Members of the ZIP are private to whoever extracts them on a Unix system, like the pack itself.
_MEMBER_MODE = 0o100600  # regular file, rw-------
_PACK_MODE = 0o600


@dataclass(frozen=True)
class PackEvidence:
    """One uploaded file as it is stored, with what was recorded when it arrived."""

    evidence_id: str
    original_name: str
    media_type: str
    extension: str
    size: int
    sha256: str
    received_at: datetime
    received_from: str
    content: bytes


@dataclass(frozen=True)
class PackEvent:
    """One line of the chronology."""

    at: datetime
    actor: str
    kind: str
    text: str


@dataclass(frozen=True)
class PackCase:
    """Everything the pack shows, gathered by the caller so this module never touches storage."""

    reference: str
    school_name: str
    timezone: str
    status: str
    outcome: str | None
    urgency: str
    police_consideration: bool
    reporter: str
    assigned_to: str | None
    created_at: datetime
    answers: list[tuple[str, str]]
    events: list[PackEvent]
    evidence: list[PackEvidence]
    exported_by: str
    exported_at: datetime


@dataclass(frozen=True)
class WrittenPack:
    """What the caller needs to log the export: the ZIP cannot contain its own digest."""

    path: Path
    sha256: str
    all_evidence_verified: bool


@dataclass(frozen=True)
class _CheckedEvidence:
    """An evidence file after its hash has been re-checked, ready for both manifest and HTML."""

    item: PackEvidence
    zip_path: str
    sha256_recorded: str
    sha256_now: str

    @property
    def verified(self) -> bool:
        return self.sha256_now == self.sha256_recorded


def write_evidence_pack(case: PackCase, out: Path) -> WrittenPack:
    """Write the pack for `case` to `out`, never replacing an existing file.

    The ZIP is built in a private temporary file next to `out` and only appears under its final
    name once complete and flushed to disk, so a crash leaves either no pack or a whole one.
    Packs are deterministic: the same case (and zlib) gives byte-identical ZIPs, so a digest can be
    re-derived later.
    """
    out = Path(out)
    zone = _validate(case)
    if os.path.lexists(out):
        raise _already_exists(out)

    top = case.reference
    checked = _check_evidence(case.evidence, top)
    all_verified = all(c.verified for c in checked)
    manifest = _manifest(case, checked, top, all_verified)
    html = _render_chronology(case, checked, zone, all_verified)

    members: list[tuple[str, bytes]] = [
        (f"{top}/manifest.json", manifest),
        (f"{top}/chronology.html", html.encode("utf-8")),
    ]
    members.extend((c.zip_path, c.item.content) for c in checked)

    digest = _write_new_file_atomically(out, members, _zip_timestamp(case.exported_at))
    return WrittenPack(path=out, sha256=digest, all_evidence_verified=all_verified)


def _validate(case: PackCase) -> ZoneInfo:
    """Reject inputs that would make the pack ambiguous or unsafe rather than guess."""
    if not _SAFE_REFERENCE.fullmatch(case.reference) or ".." in case.reference:
        raise ValueError(f"Case reference {case.reference!r} is not safe to use as a folder name")
    try:
        zone = ZoneInfo(case.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown timezone {case.timezone!r}") from exc

    # A naive time could be UTC or local; in evidence that ambiguity is not acceptable.
    stamps: list[tuple[str, datetime]] = [
        ("created_at", case.created_at),
        ("exported_at", case.exported_at),
    ]
    stamps.extend((f"events[{i}].at", e.at) for i, e in enumerate(case.events))
    stamps.extend(
        (f"evidence[{i}].received_at", e.received_at) for i, e in enumerate(case.evidence)
    )
    for name, value in stamps:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    return zone


def _check_evidence(items: Iterable[PackEvidence], top: str) -> list[_CheckedEvidence]:
    """Re-hash every file now, because the pack's value is showing nothing changed since receipt."""
    items = list(items)
    width = max(2, len(str(len(items))))
    checked: list[_CheckedEvidence] = []
    for number, item in enumerate(items, start=1):
        extension = item.extension.lower()
        if not _SAFE_EXTENSION.fullmatch(extension):
            extension = _FALLBACK_EXTENSION
        checked.append(
            _CheckedEvidence(
                item=item,
                zip_path=f"{top}/evidence/{number:0{width}d}{extension}",
                sha256_recorded=item.sha256.strip().lower(),
                sha256_now=hashlib.sha256(item.content).hexdigest(),
            )
        )
    return checked


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _manifest(
    case: PackCase, checked: list[_CheckedEvidence], top: str, all_verified: bool
) -> bytes:
    """The machine-readable record, so a pack can be re-verified without this software."""
    document: dict[str, Any] = {
        "reference": case.reference,
        "school": case.school_name,
        "exported_by": case.exported_by,
        "exported_at": _iso_utc(case.exported_at),
        "generator": GENERATOR,
        "all_evidence_verified": all_verified,
        "evidence": [
            {
                "path": c.zip_path,
                "original_name": c.item.original_name,
                "media_type": c.item.media_type,
                "size": c.item.size,
                "sha256_recorded": c.sha256_recorded,
                "sha256_now": c.sha256_now,
                "verified": c.verified,
                "received_at": _iso_utc(c.item.received_at),
                "received_from": c.item.received_from,
            }
            for c in checked
        ],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --- HTML -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stamp:
    """A moment as people read it (school's local time) and as machines read it (ISO, UTC)."""

    text: str
    iso: str


@dataclass(frozen=True)
class _EvidenceRow:
    file: str
    original_name: str
    media_type: str
    size: str
    sha256_recorded: str
    sha256_now: str
    received: _Stamp
    received_from: str
    verified: bool


@dataclass(frozen=True)
class _EventRow:
    at: _Stamp
    actor: str
    kind: str
    text: str


@functools.cache
def _environment() -> jinja2.Environment:
    """One environment for the process; autoescape is forced on because every field is hostile.

    `select_autoescape` is deliberately not used: it decides by file extension, and the template
    ends in `.j2`, so it would silently turn escaping off.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dialogs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _visible(text: str) -> str:
    """Make invisible, meaning-changing characters visible, so the page cannot mislead a reader."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def _local_time(value: datetime, zone: ZoneInfo) -> _Stamp:
    """Format without the C library's locale, so a server setting cannot change the record."""
    local = value.astimezone(zone)
    name = local.tzname() or local.strftime("UTC%z")
    text = (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year} "
        f"{local.hour:02d}:{local.minute:02d} {name}"
    )
    return _Stamp(text=text, iso=local.isoformat())


def _size(size: int) -> str:
    return "1 byte" if size == 1 else f"{size:,} bytes"


def _render_chronology(
    case: PackCase, checked: list[_CheckedEvidence], zone: ZoneInfo, all_verified: bool
) -> str:
    """Turn the case into plain strings first, so the template only lays out escaped text."""
    evidence = [
        _EvidenceRow(
            file=c.zip_path.split("/", 1)[1],
            original_name=_visible(c.item.original_name),
            media_type=_visible(c.item.media_type),
            size=_size(c.item.size),
            sha256_recorded=_visible(c.sha256_recorded),
            sha256_now=c.sha256_now,
            received=_local_time(c.item.received_at, zone),
            received_from=_visible(c.item.received_from),
            verified=c.verified,
        )
        for c in checked
    ]
    # sorted() is stable, so events recorded at the same instant keep the order they were given.
    events = [
        _EventRow(
            at=_local_time(e.at, zone),
            actor=_visible(e.actor),
            kind=_visible(e.kind),
            text=_visible(e.text),
        )
        for e in sorted(case.events, key=lambda e: e.at)
    ]
    facts = [
        ("Status", case.status),
        ("Outcome", case.outcome if case.outcome is not None else "Not yet recorded"),
        ("Urgency", case.urgency),
        ("Police consideration", "Yes" if case.police_consideration else "No"),
        ("Reporter", case.reporter),
        ("Assigned to", case.assigned_to if case.assigned_to is not None else "Unassigned"),
    ]
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(
        reference=_visible(case.reference),
        school=_visible(case.school_name),
        timezone=case.timezone,
        facts=[(label, _visible(value)) for label, value in facts],
        created=_local_time(case.created_at, zone),
        answers=[(_visible(q), _visible(a)) for q, a in case.answers],
        evidence=evidence,
        all_verified=all_verified,
        events=events,
        exported_by=_visible(case.exported_by),
        exported=_local_time(case.exported_at, zone),
        generator=GENERATOR,
        mismatch_warning=MISMATCH_WARNING,
    )


# --- Writing --------------------------------------------------------------------------------


def _zip_timestamp(exported_at: datetime) -> tuple[int, int, int, int, int, int]:
    """Stamp every member with the export time, not the wall clock, so packs are reproducible.

    ZIP times carry no zone; UTC is used and the manifest states the exact moment.
    """
    t = exported_at.astimezone(UTC)
    if t.year < 1980:  # the earliest time a ZIP can hold
        return (1980, 1, 1, 0, 0, 0)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _write_zip(
    stream: BinaryIO,
    members: list[tuple[str, bytes]],
    stamp: tuple[int, int, int, int, int, int],
) -> None:
    with zipfile.ZipFile(stream, mode="w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are honoured
            info.external_attr = _MEMBER_MODE << 16
            archive.writestr(info, data)


def _already_exists(out: Path) -> FileExistsError:
    """Evidence already written is a record in its own right; it is never silently replaced."""
    return FileExistsError(errno.EEXIST, "An evidence pack already exists at this path", str(out))


def _sha256_of(path: Path) -> str:
    """Hash what actually reached the disk, not what we meant to write."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_directory(directory: Path) -> None:
    """Make the new name durable too; not every platform lets a directory be opened for this."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_new_file_atomically(
    out: Path,
    members: list[tuple[str, bytes]],
    stamp: tuple[int, int, int, int, int, int],
) -> str:
    """Write the ZIP beside `out` and move it into place without ever clobbering a file.

    A hard link fails atomically if `out` has appeared since we checked, which `os.replace` alone
    cannot promise; where links are unsupported we fall back to check-then-replace.
    """
    directory = out.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _PACK_MODE)  # mkstemp uses 0600; say so, don't rely on it
            _write_zip(handle, members, stamp)
            handle.flush()
            os.fsync(handle.fileno())
        digest = _sha256_of(tmp)
        try:
            os.link(tmp, out)
        except FileExistsError:
            raise _already_exists(out) from None
        except OSError:
            if os.path.lexists(out):
                raise _already_exists(out) from None
            os.replace(tmp, out)
        _fsync_directory(directory)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return digest
