"""Evidence in an S3-compatible bucket (AWS S3, MinIO, Ceph, …) instead of on the local disk.

Several servers behind one address cannot each keep evidence on a disk of their own: a file
taken by one must be readable by the others. A bucket is shared by all of them, and keeps the
store's promises (storage.blobstore) on its own terms:

- Written once. Every file has a new random name and is put with `If-None-Match: *`, so the
  bucket refuses to replace a file already there, even one put by another server.
- Whole or not at all. One PUT stores the whole body or nothing; a connection lost mid-upload
  leaves no object behind, and botocore sends the whole file again (standard retry mode: 503,
  SlowDown and dropped connections are retried with backoff, up to a limit).
- Encrypted the same way (storage.blobstore.Sealing), so a bucket's operator, or anyone with a
  copy of it, sees only ciphertext when an evidence key is configured.

boto3 blocks, so every call runs in a worker thread; its timeouts and retries bound how long a
turn can wait on the bucket. Credentials come from the standard AWS chain (environment, shared
files, instance or container roles) and are never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from storage.blobstore import Sealing, StorageFull, check_name, new_name

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

log = logging.getLogger(__name__)

# What S3-compatible servers answer when they have no room left (MinIO, Ceph's quotas).
_NO_ROOM_CODES = frozenset({"XMinioStorageFull", "QuotaExceeded", "InsufficientStorage"})
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_TAKEN_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """Evidence as objects named `<prefix><name>` in one bucket."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        keys: Sequence[bytes] = (),
        endpoint_url: str | None = None,
        region: str | None = None,
        max_attempts: int = 5,
        connect_timeout: float = 5,
        read_timeout: float = 30,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._sealing = Sealing(keys)
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            ),
        )
        # The readiness check asks once, briefly: an orchestrator probing every few seconds
        # must hear "not ready" before its own timeout, not after five backed-off attempts.
        self._probe: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                retries={"mode": "standard", "max_attempts": 1},
                connect_timeout=min(connect_timeout, 3),
                read_timeout=min(read_timeout, 3),
            ),
        )

    @property
    def encrypts(self) -> bool:
        return self._sealing.encrypts

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    # -- in the worker thread ------------------------------------------------------------

    def _put_object(self, name: str, payload: bytes) -> None:
        """Store `payload` under `name` unless something is there already (FileExistsError).

        A PUT whose answer was lost can be retried after the bucket kept it; the retry is then
        refused as a second write. Names are random, so an object there with this body's MD5
        (a single PUT's ETag) is that first attempt, and the write succeeded."""
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=self._key(name), Body=payload, IfNoneMatch="*"
            )
        except ClientError as exc:
            code = _code(exc)
            if code in _TAKEN_CODES:
                if self._holds(name, payload):
                    return
                raise FileExistsError(name) from exc
            if code in _NO_ROOM_CODES:
                log.error(
                    "the evidence bucket has no room (%s): nothing of the file was kept", code
                )
                raise StorageFull(code) from exc
            raise

    def _holds(self, name: str, payload: bytes) -> bool:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError:
            return False
        digest = hashlib.md5(payload, usedforsecurity=False).hexdigest()
        return head.get("ETag", "").strip('"') == digest

    def _get_object(self, name: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND_CODES:
                raise FileNotFoundError(name) from exc
            raise
        body: bytes = response["Body"].read()
        return body

    def _write(self, data: bytes) -> str:
        name = new_name()
        self._put_object(name, self._sealing.seal(data))
        return name

    def _read(self, name: str, encrypted: bool) -> bytes:
        return self._sealing.open(name, self._get_object(name), encrypted=encrypted)

    def _key_of(self, name: str, encrypted: bool) -> int | None:
        if not encrypted:
            try:
                self._client.head_object(Bucket=self.bucket, Key=self._key(name))
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND_CODES:
                    raise FileNotFoundError(name) from exc
                raise
            return None
        return self._sealing.key_index(name, self._get_object(name))

    def _rotate(self, name: str, encrypted: bool) -> str | None:
        resealed = self._sealing.resealed(name, self._get_object(name), encrypted=encrypted)
        if resealed is None:
            return None
        copy = new_name()
        self._put_object(copy, resealed)
        return copy

    def _delete(self, name: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def _shortage(self) -> str | None:
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            return f"the evidence bucket answers {_code(exc) or 'an error'}"
        except BotoCoreError as exc:
            return f"the evidence bucket cannot be reached ({type(exc).__name__})"
        return None

    def _stored_names(self) -> list[str]:
        names: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item.get("Key", "")[len(self.prefix) :]
                if name.isalnum() and name.isascii() and len(name) == 32:
                    names.append(name)
        return sorted(names)

    # -- the store -----------------------------------------------------------------------

    async def put(self, data: bytes) -> str:
        """Keep a file and return its name."""
        return await asyncio.to_thread(self._write, data)

    async def get(self, name: str, *, encrypted: bool) -> bytes:
        return await asyncio.to_thread(self._read, name, encrypted)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._delete, name)

    async def key_of(self, name: str, *, encrypted: bool) -> int | None:
        """As LocalBlobStore.key_of."""
        return await asyncio.to_thread(self._key_of, name, encrypted)

    async def rotate(self, name: str, *, encrypted: bool) -> str | None:
        """As LocalBlobStore.rotate: a copy under the current key; the original stays."""
        return await asyncio.to_thread(self._rotate, name, encrypted)

    async def shortage(self, *, reserve: int) -> str | None:
        """Why files cannot be kept now: the bucket does not answer, or refuses us. A bucket
        has no free space to measure, so `reserve` does not apply."""
        return await asyncio.to_thread(self._shortage)

    async def stored_names(self) -> list[str]:
        """Every stored file's name under the prefix, sorted."""
        return await asyncio.to_thread(self._stored_names)

    async def read_stored(self, name: str) -> bytes:
        """A file's bytes exactly as stored: ciphertext when it was encrypted."""
        return await asyncio.to_thread(self._get_object, name)

    async def write_stored(self, name: str, data: bytes) -> None:
        """Keep bytes read with `read_stored` under the same name, as they are; written once
        (FileExistsError when the name holds other bytes), ValueError for an invalid name."""
        await asyncio.to_thread(self._put_object, check_name(name), data)
