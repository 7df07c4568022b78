"""Evidence uploads with bad input, through the real runner and storage: names that look like
paths, files that lie about their type, bombs, empty and truncated files, and (over Slack and
Teams) files whose address is not the platform's.

tests/dialogs/test_upload_checks.py shows check_upload's verdict on each kind of file; here the
same files arrive in a report, and the tests hold what a person is told and that a refused file
leaves nothing behind: no Evidence row, no audit entry, no file on disk.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.runtime import Runtime
from dialogs.services.messages import IncomingFile, MessageKind
from storage.models import Evidence
from tests.channels.slack.harness import SlackHarness, text_of_calls
from tests.channels.teams.harness import SAM as TEAMS_SAM
from tests.channels.teams.harness import TeamsHarness
from tests.channels.teams.harness import text_of as teams_text
from tests.security.support import (
    blobs,
    changed,
    counts,
    data_changed,
    files_under,
    rows,
    slack_shown,
    teams_shown,
)
from tests.support import HAPPY_PATH, Person, last_prompt, png, text_of

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PICTURE = png("evidence")
BLOB_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}")
NEVER_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def at_the_evidence_question(runtime: Runtime) -> Person:
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    assert "Please send your screenshots" in last_prompt(sam.seen).text
    return sam


async def refused(sam: Person, name: str, data: bytes, *, size: int | None = None) -> str:
    """Send one file that must be refused; returns what the person is told."""
    runtime = sam.runtime
    before, on_disk = await counts(runtime), blobs(runtime)
    started = time.monotonic()
    replies = await sam.say("", IncomingFile(name=name, data=data, size=size))
    assert time.monotonic() - started < 5, f"{name!r} took too long to refuse"
    assert replies[0].kind is MessageKind.HINT, text_of(replies)
    assert "0 files so far" in text_of(replies)  # still waiting for screenshots
    assert data_changed(before, await counts(runtime)) == {}, name
    assert blobs(runtime) == on_disk
    return replies[0].text


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def tiny_huge_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid 1-bit PNG of 900 million pixels that is only a few hundred kilobytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


PIXEL_BOMB = tiny_huge_png()


def zip_bomb() -> bytes:
    """100 MB of zeros in about a hundred kilobytes."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("bomb.bin", "w") as member,
    ):
        chunk = bytes(1024 * 1024)
        for _ in range(100):
            member.write(chunk)
    return buffer.getvalue()


ZIP_BOMB = zip_bomb()


# -- 1. names ---------------------------------------------------------------------------------

PATH_NAMES = [
    ("../../etc/passwd", "../../etc/passwd"),
    ("..\\..\\Windows\\System32\\hosts", "..\\..\\Windows\\System32\\hosts"),
    ("C:\\x\\y.png", "C:\\x\\y.png"),
    ("/etc/shadow", "/etc/shadow"),
    ("shot\x00.png\x00.exe", "shot.png.exe"),
    ("invoice\u202egnp.exe", "invoicegnp.exe"),  # would read "invoiceexe.png"
    ("\x1b]0;pwned\x07shot.png", "]0;pwnedshot.png"),
    ("n" * 5000 + ".png", "n" * 200),
]  # fmt: skip


async def test_files_with_path_like_or_hostile_names_are_kept_under_generated_names_only(
    runtime: Runtime, tmp_path: Path
) -> None:
    sam = await at_the_evidence_question(runtime)
    outside = files_under(tmp_path)

    for name, kept in PATH_NAMES:
        replies = await sam.say("", IncomingFile(name=name, data=PICTURE))
        shown = text_of(replies)
        assert f"Got it: “{kept}”" in shown, (name, shown)
        assert NEVER_SHOWN.search(slack_shown(replies)) is None
        assert NEVER_SHOWN.search(teams_shown(replies)) is None

    evidence = await rows(runtime, Evidence)
    assert sorted(e.original_name for e in evidence) == sorted(kept for _, kept in PATH_NAMES)
    assert {(e.media_type, e.extension) for e in evidence} == {("image/png", ".png")}
    # On disk only the generated names exist, inside the evidence folder; nothing was written
    # where a name pointed.
    assert all(BLOB_NAME.fullmatch(name) for name in blobs(runtime)), blobs(runtime)
    assert len(blobs(runtime)) == len(PATH_NAMES)
    evidence_dir = runtime.settings.evidence_dir.relative_to(tmp_path)
    new = {f for f in files_under(tmp_path) - outside if not f.startswith(str(evidence_dir))}
    # Besides the database, only the audit log's anchor (positions and seals, no names) grows.
    expected = {"policybot.sqlite3-wal", "policybot.sqlite3-shm", "audit-anchor.jsonl"}
    assert {Path(f).name for f in new} <= expected


# -- 2. files that lie about what they are ------------------------------------------------------

HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG_ONLOAD = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
PNG_LIE, PDF_LIE = "named like a PNG picture", "named like a PDF document"
UNKNOWN, DAMAGED = "isn't a kind of file I can keep", "seems to be damaged or incomplete"
LIARS = [
    ("photo.png", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40), PNG_LIE),
    ("photo.png", HTML, PNG_LIE),
    ("photo.png", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120), PNG_LIE),
    ("photo.jpg", b"\x7fELF\x02\x01\x01\x00" + bytes(56), "named like a JPEG photo"),
    ("drawing.svg", SVG, UNKNOWN),
    ("drawing.png", SVG_ONLOAD, PNG_LIE),
    ("report.pdf", b"<html><body>not a pdf</body></html>", PDF_LIE),
    ("animated.gif", b"GIF89a<script>alert(1)</script>", DAMAGED),
    ("evidence.zip", ZIP_BOMB, UNKNOWN),
    ("shot.png", ZIP_BOMB, PNG_LIE),
]


async def test_files_that_lie_about_their_type_are_refused_and_nothing_is_kept(
    runtime: Runtime,
) -> None:
    sam = await at_the_evidence_question(runtime)

    for name, data, reason in LIARS:
        told = await refused(sam, name, data)
        assert f"The file “{name}”" in told, told
        assert reason in told, (name, told)
        assert "PNG, JPEG, GIF, WebP" in told or "damaged" in told

    assert await rows(runtime, Evidence) == []


# -- 3. bombs, empty, truncated and oversized files ---------------------------------------------


async def test_bombs_empty_truncated_and_oversized_files_are_refused_with_a_reason(
    runtime: Runtime,
) -> None:
    sam = await at_the_evidence_question(runtime)
    bomb = PIXEL_BOMB
    assert len(bomb) < 200_000  # tiny on disk...
    cases: list[tuple[str, bytes, int | None, str]] = [
        ("bomb.png", bomb, None, "is a picture so large (more than 40 million pixels)"),
        ("empty.png", b"", None, "is empty, so there is nothing in it I can keep"),
        ("cut.png", PICTURE[: len(PICTURE) // 2], None, "seems to be damaged or incomplete"),
        ("header.png", PICTURE[:40], None, "seems to be damaged or incomplete"),
        # Slack reports the size of a file too big to download; nothing of it is fetched.
        ("video.mov", b"", 60 * 1024 * 1024, "is too big to keep"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024), None, "more than the 10 MB"),
    ]

    for name, data, size, reason in cases:
        told = await refused(sam, name, data, size=size)
        assert reason in told, (name, told)

    # ...and the person can still send a real screenshot and carry on.
    replies = await sam.say("", IncomingFile(name="real.png", data=PICTURE))
    assert "Got it: “real.png”" in text_of(replies)
    [kept] = await rows(runtime, Evidence)
    assert kept.original_name == "real.png"


# -- 4. files that are not where the platform keeps them ----------------------------------------


ASKED = web.AppKey("asked", list[tuple[str, str | None]])


@pytest.fixture
async def elsewhere() -> AsyncIterator[TestServer]:
    """A server that is not Slack's or Teams': the bot must never ask it for anything."""

    async def record(request: web.Request) -> web.Response:
        request.app[ASKED].append((request.path, request.headers.get("Authorization")))
        return web.Response(body=PICTURE, content_type="image/png")

    app = web.Application()
    app[ASKED] = []
    app.router.add_get("/{tail:.*}", record)
    server = TestServer(app)
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@SQLITE_ONLY
async def test_a_slack_file_that_is_not_on_slack_is_not_fetched_and_the_token_never_leaves(
    slack: SlackHarness, elsewhere: TestServer
) -> None:
    await slack.reply_to("U0SAM", slack.say("U0SAM", "report"))
    addresses = [
        str(elsewhere.make_url("/files/F1/shot.png")),
        "https://files.slack.com.evil.example/files/F1/shot.png",
        "https://files.slack.com@evil.example/files/F1/shot.png",
        "file:///etc/passwd",
        "ftp://files.slack.com/shot.png",
    ]
    shared = [
        {"id": f"F{n}", "name": f"shot{n}.png", "mimetype": "image/png", "size": 10,
         "url_private": url, "url_private_download": url}
        for n, url in enumerate(addresses)
    ]  # fmt: skip
    before = await counts(slack.runtime)

    posts = await slack.reply_to("U0SAM", slack.say("U0SAM", "", files=shared))

    told = text_of_calls(posts)
    for n in range(len(addresses)):
        assert f"I couldn't fetch “shot{n}.png” from Slack" in told
    assert elsewhere.app[ASKED] == []
    assert slack.fake.downloads == []
    assert set(changed(before, await counts(slack.runtime))) <= {"processed_event"}
    assert await rows(slack.runtime, Evidence) == []
    assert "Who is being targeted?" in told  # and the report carries on where it was


@SQLITE_ONLY
async def test_a_teams_file_that_is_not_https_is_not_fetched(
    teams: TeamsHarness, elsewhere: TestServer
) -> None:
    await teams.say(TEAMS_SAM, "report")
    plain_http = str(elsewhere.make_url("/shot.png")).replace("127.0.0.1", "evil.localtest.me")
    attachments = [
        {"contentType": "application/vnd.microsoft.teams.file.download.info", "name": name,
         "content": {"downloadUrl": url, "fileType": "png"}}
        for name, url in (("a.png", "file:///etc/passwd"), ("b.png", plain_http),
                          ("c.png", "ftp://evil.example/c.png"), ("d.png", ""))
    ]  # fmt: skip
    before = await counts(teams.runtime)

    replies = await teams.replies(TEAMS_SAM, teams.say(TEAMS_SAM, "", attachments=attachments))

    told = teams_text(replies)
    for name in ("a.png", "b.png", "c.png", "d.png"):
        assert f"I couldn't fetch “{name}” from Teams" in told
    assert elsewhere.app[ASKED] == []
    assert await rows(teams.runtime, Evidence) == []
    assert set(changed(before, await counts(teams.runtime))) <= {"platform_address"}
