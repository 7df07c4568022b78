"""Evidence packs must prove evidence is unaltered and be safe to open, whatever people typed."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import stat
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from dialogs.services.cases import evidence_pack
from dialogs.services.cases.evidence_pack import (
    MISMATCH_WARNING,
    PackCase,
    PackEvent,
    PackEvidence,
    write_evidence_pack,
)

REF = "CB-2026-0007"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00fake image data" * 20
PDF = b"%PDF-1.7\n% fake pdf\n" + b"0123456789" * 30
HOSTILE_SCRIPT = "<script>alert(1)</script>.png"
HOSTILE_PATH = "../../etc/passwd"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _evidence(
    number: int, content: bytes, *, name: str, media_type: str, ext: str, recorded: bytes
) -> PackEvidence:
    return PackEvidence(
        evidence_id=f"ev-{number}",
        original_name=name,
        media_type=media_type,
        extension=ext,
        size=len(recorded),
        sha256=_sha(recorded),
        received_at=datetime(2026, 11, 20, 16, number, tzinfo=UTC),
        received_from="Parent <b>Smith</b>",
        content=content,
    )


def make_case(*, tamper_second: bool = False, **changes: Any) -> PackCase:
    png = _evidence(1, PNG, name=HOSTILE_SCRIPT, media_type="image/png", ext=".png", recorded=PNG)
    pdf_content = PDF + b"edited" if tamper_second else PDF
    pdf = _evidence(
        2, pdf_content, name=HOSTILE_PATH, media_type="application/pdf", ext=".pdf", recorded=PDF
    )
    case = PackCase(
        reference=REF,
        school_name="St Example's <Academy> & Sixth Form",
        timezone="Europe/London",
        status="Under review",
        outcome=None,
        urgency="High",
        police_consideration=True,
        reporter="Year 9 pupil",
        assigned_to="Ms Jones (DSL)",
        created_at=datetime(2026, 6, 15, 8, 45, tzinfo=UTC),
        answers=[
            ("What happened?", "line one\nline two <img src=x onerror=alert(1)>"),
            ("Where?", "Group chat"),
        ],
        events=[
            # Deliberately out of order: the pack must sort them.
            PackEvent(
                at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
                actor="Ms Jones (DSL)",
                kind="Note",
                text="Spoke to parent.\n<script>alert('note')</script>",
            ),
            PackEvent(
                at=datetime(2026, 6, 15, 9, 30, tzinfo=UTC),
                actor="Year 9 pupil",
                kind="Report submitted",
                text="Screenshots attached",
            ),
            PackEvent(
                at=datetime(2026, 6, 15, 12, 0, tzinfo=timezone(timedelta(hours=2))),
                actor="Ms Jones (DSL)",
                kind="Acknowledged",
                text="Seen",
            ),
        ],
        evidence=[png, pdf],
        exported_by="Ms Jones (DSL)",
        exported_at=datetime(2026, 11, 21, 10, 15, 30, tzinfo=UTC),
    )
    return dataclasses.replace(case, **changes)


def _read(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _html(zip_path: Path) -> str:
    return _read(zip_path)[f"{REF}/chronology.html"].decode("utf-8")


def _manifest(zip_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_read(zip_path)[f"{REF}/manifest.json"])
    return loaded


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    out = tmp_path / "pack.zip"
    written = write_evidence_pack(make_case(), out)
    assert written.path == out
    assert written.all_evidence_verified is True
    return out


def test_zip_holds_exactly_the_expected_files_under_the_reference(pack: Path) -> None:
    assert sorted(_read(pack)) == [
        f"{REF}/chronology.html",
        f"{REF}/evidence/01.png",
        f"{REF}/evidence/02.pdf",
        f"{REF}/manifest.json",
    ]


def test_evidence_bytes_are_stored_unchanged(pack: Path) -> None:
    files = _read(pack)
    assert files[f"{REF}/evidence/01.png"] == PNG
    assert files[f"{REF}/evidence/02.pdf"] == PDF
    assert _sha(files[f"{REF}/evidence/01.png"]) == _sha(PNG)


def test_returned_digest_is_that_of_the_file_on_disk(tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    written = write_evidence_pack(make_case(), out)
    assert written.sha256 == _sha(out.read_bytes())


def test_same_case_gives_byte_identical_packs(tmp_path: Path) -> None:
    first = write_evidence_pack(make_case(), tmp_path / "a.zip")
    second = write_evidence_pack(make_case(), tmp_path / "b.zip")
    assert first.sha256 == second.sha256


def test_manifest_records_provenance_and_hashes(pack: Path) -> None:
    manifest = _manifest(pack)
    assert manifest["reference"] == REF
    assert manifest["school"] == "St Example's <Academy> & Sixth Form"
    assert manifest["exported_by"] == "Ms Jones (DSL)"
    assert manifest["exported_at"] == "2026-11-21T10:15:30+00:00"
    assert datetime.fromisoformat(manifest["exported_at"]).utcoffset() == timedelta(0)
    assert manifest["generator"] == "policybot"
    assert manifest["all_evidence_verified"] is True
    first, second = manifest["evidence"]
    assert first == {
        "path": f"{REF}/evidence/01.png",
        "original_name": HOSTILE_SCRIPT,
        "media_type": "image/png",
        "size": len(PNG),
        "sha256_recorded": _sha(PNG),
        "sha256_now": _sha(PNG),
        "verified": True,
        "received_at": "2026-11-20T16:01:00+00:00",
        "received_from": "Parent <b>Smith</b>",
    }
    assert second["path"] == f"{REF}/evidence/02.pdf"
    assert second["original_name"] == HOSTILE_PATH
    assert second["verified"] is True


def test_every_path_in_the_manifest_exists_and_matches_its_hash(pack: Path) -> None:
    files = _read(pack)
    for entry in _manifest(pack)["evidence"]:
        assert _sha(files[entry["path"]]) == entry["sha256_now"] == entry["sha256_recorded"]


def test_hostile_original_names_never_become_paths(pack: Path) -> None:
    for name in _read(pack):
        assert name.startswith(f"{REF}/")
        assert ".." not in name
        assert "passwd" not in name
        assert "<" not in name
        assert "script" not in name


def test_hostile_text_is_escaped_in_the_html(pack: Path) -> None:
    html = _html(pack)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>Smith" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.png" in html
    assert "../../etc/passwd" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "St Example&#39;s &lt;Academy&gt; &amp; Sixth Form" in html


def test_html_is_self_contained_and_marked(pack: Path) -> None:
    html = _html(pack)
    lowered = html.lower()
    for forbidden in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert forbidden not in lowered.replace("src=x", ""), forbidden
    assert html.count("OFFICIAL-SENSITIVE") >= 3  # title, top and bottom
    body = html[html.index("<body>") :]
    assert body.index("OFFICIAL-SENSITIVE") < body.index("<h1>")
    assert body.rindex("OFFICIAL-SENSITIVE") > body.index("<footer>")


def test_html_shows_facts_answers_and_evidence(pack: Path) -> None:
    html = _html(pack)
    assert f"Cyberbullying case {REF}" in html
    for text in ("Under review", "Not yet recorded", "High", "Year 9 pupil", "Ms Jones (DSL)"):
        assert text in html
    assert 'Police consideration</th><td class="free">Yes' in html
    assert "What happened?" in html
    assert "evidence/01.png" in html
    assert _sha(PNG) in html
    assert "image/png" in html
    assert f"{len(PNG):,} bytes" in html
    assert "&#10003; Matches" in html
    assert MISMATCH_WARNING not in html


def test_line_breaks_are_kept_as_text_not_markup(pack: Path) -> None:
    html = _html(pack)
    assert "line one\nline two" in html
    assert "<br" not in html
    assert "white-space: pre-wrap" in html


def test_times_are_in_london_time_across_gmt_and_bst(pack: Path) -> None:
    html = _html(pack)
    assert "Fri 20 Nov 2026 16:00 GMT" in html
    assert "Mon 15 Jun 2026 10:30 BST" in html  # 09:30 UTC in summer
    assert "Mon 15 Jun 2026 11:00 BST" in html  # 12:00 at +02:00
    assert "Mon 15 Jun 2026 09:45 BST" in html  # created
    assert 'datetime="2026-11-20T16:00:00+00:00"' in html
    assert 'datetime="2026-06-15T10:30:00+01:00"' in html


def test_chronology_is_in_time_order(pack: Path) -> None:
    html = _html(pack)
    chronology = html[html.index("<h2>Chronology</h2>") :]
    submitted = chronology.index("Report submitted")
    acknowledged = chronology.index("Acknowledged")
    note = chronology.index("Spoke to parent.")
    assert submitted < acknowledged < note


def test_tampered_evidence_is_flagged_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    written = write_evidence_pack(make_case(tamper_second=True), out)
    assert written.all_evidence_verified is False

    manifest = _manifest(out)
    assert manifest["all_evidence_verified"] is False
    first, second = manifest["evidence"]
    assert first["verified"] is True
    assert second["verified"] is False
    assert second["sha256_recorded"] == _sha(PDF)
    assert second["sha256_now"] == _sha(PDF + b"edited")

    # The stored bytes go into the pack as they are, so the difference can be examined.
    assert _read(out)[f"{REF}/evidence/02.pdf"] == PDF + b"edited"

    html = _html(out)
    assert html.count(MISMATCH_WARNING) == 2  # the banner and the file's row
    assert 'class="mismatch">&#9888; ' + MISMATCH_WARNING in html
    assert 'class="alert"' in html
    assert _sha(PDF + b"edited") in html


def test_recorded_hash_in_upper_case_still_verifies(tmp_path: Path) -> None:
    case = make_case()
    shouting = dataclasses.replace(case.evidence[0], sha256=_sha(PNG).upper())
    written = write_evidence_pack(dataclasses.replace(case, evidence=[shouting]), tmp_path / "p")
    assert written.all_evidence_verified is True


def test_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    out.write_bytes(b"earlier pack")
    with pytest.raises(FileExistsError):
        write_evidence_pack(make_case(), out)
    assert out.read_bytes() == b"earlier pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.zip"]


def test_refuses_to_overwrite_a_file_that_appears_while_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "pack.zip"
    real_write_zip = evidence_pack._write_zip

    def racing_write_zip(*args: Any) -> None:
        out.write_bytes(b"someone else's pack")
        real_write_zip(*args)

    monkeypatch.setattr(evidence_pack, "_write_zip", racing_write_zip)
    with pytest.raises(FileExistsError):
        write_evidence_pack(make_case(), out)
    assert out.read_bytes() == b"someone else's pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.zip"]


def test_works_where_hard_links_are_unsupported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "links not supported")

    monkeypatch.setattr(os, "link", no_links)
    out = tmp_path / "pack.zip"
    written = write_evidence_pack(make_case(), out)
    assert written.sha256 == _sha(out.read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.zip"]
    with pytest.raises(FileExistsError):
        write_evidence_pack(make_case(), out)


def test_pack_is_private_to_its_owner(pack: Path) -> None:
    assert stat.S_IMODE(pack.stat().st_mode) == 0o600


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "disk error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk error"):
        write_evidence_pack(make_case(), tmp_path / "pack.zip")
    assert list(tmp_path.iterdir()) == []


def test_unexpected_extension_is_not_trusted_as_a_path(tmp_path: Path) -> None:
    case = make_case()
    odd = dataclasses.replace(case.evidence[0], extension="/../../x.sh")
    out = tmp_path / "pack.zip"
    write_evidence_pack(dataclasses.replace(case, evidence=[odd]), out)
    assert f"{REF}/evidence/01.bin" in _read(out)


def test_invisible_direction_tricks_are_made_visible_in_html_only(tmp_path: Path) -> None:
    case = make_case()
    tricky_name = "holiday\u202egnp.exe"
    tricky = dataclasses.replace(case.evidence[0], original_name=tricky_name)
    out = tmp_path / "pack.zip"
    write_evidence_pack(dataclasses.replace(case, evidence=[tricky]), out)
    assert "holiday[U+202E]gnp.exe" in _html(out)
    assert _manifest(out)["evidence"][0]["original_name"] == tricky_name


@pytest.mark.parametrize("reference", ["../CB-1", "CB/1", "", ".hidden", "CB..1"])
def test_unsafe_reference_is_refused(tmp_path: Path, reference: str) -> None:
    with pytest.raises(ValueError, match="reference"):
        write_evidence_pack(make_case(reference=reference), tmp_path / "pack.zip")
    assert list(tmp_path.iterdir()) == []


def test_naive_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="created_at"):
        write_evidence_pack(make_case(created_at=datetime(2026, 1, 1)), tmp_path / "pack.zip")


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        write_evidence_pack(make_case(timezone="Mars/Olympus"), tmp_path / "pack.zip")


def test_case_without_evidence_or_events_still_exports(tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    written = write_evidence_pack(make_case(evidence=[], events=[], answers=[]), out)
    assert written.all_evidence_verified is True
    assert sorted(_read(out)) == [f"{REF}/chronology.html", f"{REF}/manifest.json"]
    html = _html(out)
    assert "No evidence files were attached." in html
    assert "No events were recorded." in html
