"""Evidence in an S3-compatible bucket: moto's S3 server as the bucket, over real HTTP.

Where a bucket misbehaves as real ones do (503 and SlowDown in runs, connections dropped part-way
through an upload, large answers arriving slowly in chunks), a proxy of our own stands between
the store and the server, so what is shown is botocore's retrying against a real socket.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import boto3
import pytest
from aiohttp import web
from botocore.exceptions import ClientError
from cryptography.fernet import Fernet

from bot.config import SAMPLE_CONFIG, Settings, load_settings
from bot.runtime import evidence_store
from dialogs.services.errors import ConfigError
from storage.blobstore import ArchivableBlobStore, BlobCorrupted, EvidenceStore, LocalBlobStore
from storage.objectstore import S3BlobStore
from tests.serving import free_port
from tests.storage.s3 import REGION, aws_environment, new_bucket, s3_server

KEY, OLD_KEY = Fernet.generate_key(), Fernet.generate_key()
SECRET_TEXT = b"the words that were said about the teacher"


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in aws_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str, _aws_credentials: None) -> str:
    return new_bucket(s3_endpoint)


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Everything in the bucket, read straight from the server."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    found: dict[str, bytes] = {}
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        key = item.get("Key", "")
        found[key] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return found


def store(endpoint: str, bucket: str, **options: object) -> S3BlobStore:
    return S3BlobStore(bucket, endpoint_url=endpoint, region=REGION, **options)  # type: ignore[arg-type]


async def test_a_file_goes_in_and_comes_back_under_its_prefix(
    s3_endpoint: str, bucket: str
) -> None:
    blobs = store(s3_endpoint, bucket, prefix="/school-a/evidence/")
    name = await blobs.put(SECRET_TEXT)
    assert await blobs.get(name, encrypted=False) == SECRET_TEXT
    assert set(objects(s3_endpoint, bucket)) == {f"school-a/evidence/{name}"}
    assert not blobs.encrypts
    assert await blobs.key_of(name, encrypted=False) is None
    with pytest.raises(FileNotFoundError):
        await blobs.get("0" * 32, encrypted=False)
    with pytest.raises(ValueError, match="not a blob name"):
        await blobs.get("../../other-bucket-key", encrypted=False)


async def test_what_is_stored_is_ciphertext_and_a_changed_file_is_refused(
    s3_endpoint: str, bucket: str
) -> None:
    blobs = store(s3_endpoint, bucket, keys=[KEY])
    assert blobs.encrypts
    name = await blobs.put(SECRET_TEXT)
    [stored] = objects(s3_endpoint, bucket).values()
    assert SECRET_TEXT not in stored
    assert await blobs.get(name, encrypted=True) == SECRET_TEXT
    # Tampered with in the bucket, by someone with write access to it.
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    client.put_object(Bucket=bucket, Key=name, Body=stored[:-5] + b"AAAAA")
    with pytest.raises(BlobCorrupted):
        await blobs.get(name, encrypted=True)
    # Without the key, nothing is readable.
    with pytest.raises(BlobCorrupted):
        await store(s3_endpoint, bucket).get(name, encrypted=True)


async def test_rotation_copies_under_the_new_key_and_leaves_the_original(
    s3_endpoint: str, bucket: str
) -> None:
    old = store(s3_endpoint, bucket, keys=[OLD_KEY])
    plain = await store(s3_endpoint, bucket).put(b"kept before any key")
    name = await old.put(SECRET_TEXT)
    rotating = store(s3_endpoint, bucket, keys=[KEY, OLD_KEY])
    assert await rotating.key_of(name, encrypted=True) == 1
    copy = await rotating.rotate(name, encrypted=True)
    assert copy is not None
    assert copy != name
    assert await rotating.key_of(copy, encrypted=True) == 0
    assert await store(s3_endpoint, bucket, keys=[KEY]).get(copy, encrypted=True) == SECRET_TEXT
    assert await rotating.rotate(copy, encrypted=True) is None  # already current
    assert await old.get(name, encrypted=True) == SECRET_TEXT  # the original is untouched
    from_plain = await rotating.rotate(plain, encrypted=False)
    assert from_plain is not None
    assert await rotating.get(from_plain, encrypted=True) == b"kept before any key"
    await rotating.delete(name)
    await rotating.delete(name)  # deleting twice is no error
    with pytest.raises(FileNotFoundError):
        await rotating.key_of(name, encrypted=True)
    with pytest.raises(FileNotFoundError):
        await rotating.key_of("f" * 32, encrypted=False)


@pytest.mark.parametrize("kind", ["s3", "local"])
async def test_files_are_copied_out_and_back_exactly_as_stored(
    s3_endpoint: str, bucket: str, tmp_path: Path, kind: str
) -> None:
    def make(where: str) -> EvidenceStore:
        if kind == "local":
            return LocalBlobStore(tmp_path / where, keys=[KEY])
        return store(s3_endpoint, bucket, prefix=where, keys=[KEY])

    source, target = make("source"), make("target")
    names = sorted([await source.put(b"first file"), await source.put(SECRET_TEXT)])
    archivable: ArchivableBlobStore = source
    assert await archivable.stored_names() == names
    copied = {name: await source.read_stored(name) for name in names}
    assert all(SECRET_TEXT not in data for data in copied.values())  # ciphertext, as stored
    for name, data in copied.items():
        await target.write_stored(name, data)
    assert await target.stored_names() == names
    assert [await target.get(name, encrypted=True) for name in names] == [
        await source.get(name, encrypted=True) for name in names
    ]
    with pytest.raises(FileExistsError):  # written once
        await target.write_stored(names[0], copied[names[1]])
    await target.write_stored(names[0], copied[names[0]])  # the same again changes nothing
    assert await target.read_stored(names[0]) == copied[names[0]]
    for bad in ("../escape", "a" * 31, "é" * 32, ""):
        with pytest.raises(ValueError, match="not a blob name"):
            await target.write_stored(bad, b"x")
    assert await target.stored_names() == names


async def test_an_unreachable_bucket_makes_the_store_short(s3_endpoint: str, bucket: str) -> None:
    assert await store(s3_endpoint, bucket).shortage(reserve=10**12) is None
    missing = await store(s3_endpoint, "no-such-bucket-here").shortage(reserve=0)
    assert missing is not None
    assert "answers" in missing
    nowhere = store(f"http://127.0.0.1:{free_port()}", bucket, max_attempts=1)
    short = await nowhere.shortage(reserve=0)
    assert short is not None
    assert "cannot be reached" in short


# -- a bucket that misbehaves ----------------------------------------------------------------

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "expect"}
)
_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
_UNAVAILABLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code>'
    b"<Message>Service is unable to handle request.</Message></Error>"
)


@dataclass
class Faults:
    """What the proxy does to the next requests of one method, in order: "slowdown" and "503"
    answer without passing the request on; "drop" reads part of the body and cuts the
    connection. Answers that get through come back in small chunks, slowly."""

    upstream: str
    pending: dict[str, list[str]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    piece: int = 256 * 1024

    def next(self, method: str, *faults: str) -> None:
        self.pending.setdefault(method, []).extend(faults)


async def _forward(request: web.Request) -> web.StreamResponse:
    faults: Faults = request.app[FAULTS]
    queued = faults.pending.get(request.method) or []
    fault = queued.pop(0) if queued else None
    faults.seen.append((request.method, fault or "passed"))
    if fault == "drop":
        await request.content.read(64 * 1024)
        assert request.transport is not None
        request.transport.abort()  # a cut connection, mid-upload
        return web.Response(status=500)
    body = await request.read()
    if fault == "answer-lost":
        # The bucket keeps the file, and its answer never reaches the store.
        await _pass_on(request, faults, body)
        return web.Response(status=503, body=_UNAVAILABLE, content_type="application/xml")
    if fault in ("slowdown", "503"):
        return web.Response(
            status=503,
            body=_SLOW_DOWN if fault == "slowdown" else _UNAVAILABLE,
            content_type="application/xml",
        )
    return await _pass_on(request, faults, body)


async def _pass_on(request: web.Request, faults: Faults, body: bytes) -> web.StreamResponse:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    session: aiohttp.ClientSession = request.app[SESSION]
    async with session.request(
        request.method,
        faults.upstream + request.path_qs,
        headers=headers,
        data=io.BytesIO(body),
        auto_decompress=False,
    ) as answer:
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        if request.method == "HEAD" or request.method == "PUT":
            return web.Response(status=answer.status, headers=kept, body=await answer.read())
        response = web.StreamResponse(status=answer.status, headers=kept)
        response.enable_chunked_encoding()
        await response.prepare(request)
        async for chunk in answer.content.iter_chunked(faults.piece):
            await response.write(chunk)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response


FAULTS = web.AppKey("faults", Faults)
SESSION = web.AppKey("session", aiohttp.ClientSession)


@pytest.fixture
async def faulty(s3_endpoint: str) -> AsyncIterator[tuple[str, Faults]]:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    faults = Faults(upstream=s3_endpoint)
    app[FAULTS] = faults
    app.router.add_route("*", "/{tail:.*}", _forward)
    async with aiohttp.ClientSession() as session:
        app[SESSION] = session
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        try:
            yield f"http://127.0.0.1:{port}", faults
        finally:
            await runner.cleanup()


async def test_runs_of_503_and_slowdown_are_retried(
    s3_endpoint: str, bucket: str, faulty: tuple[str, Faults]
) -> None:
    endpoint, faults = faulty
    blobs = store(endpoint, bucket, keys=[KEY], max_attempts=5)
    faults.next("PUT", "slowdown", "503", "slowdown")
    name = await blobs.put(SECRET_TEXT)
    faults.next("GET", "503", "slowdown")
    assert await blobs.get(name, encrypted=True) == SECRET_TEXT
    assert faults.seen.count(("PUT", "passed")) == 1
    assert len(objects(s3_endpoint, bucket)) == 1


async def test_a_large_file_survives_cut_uploads_and_slow_chunked_answers(
    s3_endpoint: str, bucket: str, faulty: tuple[str, Faults]
) -> None:
    endpoint, faults = faulty
    blobs = store(endpoint, bucket, keys=[KEY], max_attempts=5)
    video = secrets.token_bytes(6 * 1024 * 1024)
    faults.next("PUT", "drop", "slowdown", "drop")
    name = await blobs.put(video)
    assert [fault for method, fault in faults.seen if method == "PUT"] == [
        "drop",
        "slowdown",
        "drop",
        "passed",
    ]
    assert list(objects(s3_endpoint, bucket)) == [name]  # one object, whole
    assert await blobs.get(name, encrypted=True) == video  # back through slow chunks
    assert await blobs.read_stored(name) == objects(s3_endpoint, bucket)[name]


async def test_an_upload_that_never_gets_through_leaves_nothing(
    s3_endpoint: str, bucket: str, faulty: tuple[str, Faults]
) -> None:
    endpoint, faults = faulty
    blobs = store(endpoint, bucket, keys=[KEY], max_attempts=3)
    faults.next("PUT", *["drop", "slowdown"] * 5)
    with pytest.raises(ClientError, match=r"SlowDown|ServiceUnavailable"):
        await blobs.put(secrets.token_bytes(3 * 1024 * 1024))
    assert faults.pending["PUT"], "the attempts are bounded"
    assert objects(s3_endpoint, bucket) == {}
    assert await blobs.stored_names() == []


# -- chosen by configuration -----------------------------------------------------------------


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings(
        {"POLICYBOT_CONFIG": str(SAMPLE_CONFIG), "POLICYBOT_DATA_DIR": str(tmp_path), **env}
    )


async def test_a_bucket_named_in_the_environment_holds_the_evidence(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    settings = _settings(
        tmp_path,
        POLICYBOT_EVIDENCE_S3_BUCKET=bucket,
        POLICYBOT_EVIDENCE_S3_ENDPOINT=s3_endpoint,
        POLICYBOT_EVIDENCE_S3_PREFIX="trust/",
        POLICYBOT_EVIDENCE_S3_REGION=REGION,
    )
    blobs = evidence_store(settings)
    assert isinstance(blobs, S3BlobStore)
    name = await blobs.put(b"kept in the bucket")
    assert list(objects(s3_endpoint, bucket)) == [f"trust/{name}"]
    assert not (tmp_path / "evidence").exists()
    assert isinstance(evidence_store(_settings(tmp_path)), LocalBlobStore)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POLICYBOT_EVIDENCE_S3_BUCKET", "Not_A_Bucket"),
        ("POLICYBOT_EVIDENCE_S3_ENDPOINT", "ftp://minio.school.internal"),
        ("POLICYBOT_EVIDENCE_S3_PREFIX", "../other"),
    ],
)
def test_a_bad_bucket_setting_is_named(tmp_path: Path, variable: str, value: str) -> None:
    env = {"POLICYBOT_EVIDENCE_S3_BUCKET": "school-evidence", variable: value}
    with pytest.raises(ConfigError, match=variable):
        _settings(tmp_path, **env)


async def test_a_put_whose_answer_was_lost_is_not_refused_as_a_second_write(
    s3_endpoint: str, bucket: str, faulty: tuple[str, Faults]
) -> None:
    """The bucket kept the file but its answer was lost: the retry is refused (If-None-Match),
    and the store sees that what is there is its own file, whole."""
    endpoint, faults = faulty
    blobs = store(endpoint, bucket, keys=[KEY], max_attempts=3)
    faults.next("PUT", "answer-lost")
    name = await blobs.put(SECRET_TEXT)
    assert [fault for method, fault in faults.seen if method == "PUT"] == ["answer-lost", "passed"]
    assert list(objects(s3_endpoint, bucket)) == [name]
    assert await blobs.get(name, encrypted=True) == SECRET_TEXT
    # Other bytes under a name that is taken are refused, whatever the retries.
    with pytest.raises(FileExistsError):
        await blobs.write_stored(name, b"something else")
