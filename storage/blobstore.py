"""Evidence files on disk, under generated names, outside anything a web server serves.

The original bytes are what matter in court, so they are written once and never changed:
a file is written to a temporary name, flushed to disk and then renamed into place. With keys
configured, files are encrypted at rest (Fernet: AES with an authentication tag, so tampering
with a stored file is detected when it is read back). The first key encrypts and every key
decrypts, so a key can be replaced: `rotate` copies a file under the current key to a new name,
and the old file is deleted only once the database points at the copy.

A disk (or the service user's quota) can fill up. A file that does not fit raises StorageFull,
and nothing of it stays behind: a half-written temporary file is removed whatever stopped the
write. The store then says it is short of room (`shortage`, which the readiness check asks)
until a test file of its own fits again, because a full quota does not show as a full disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
_MB = 1024 * 1024
# The size of the file `shortage` writes to see whether there is room again: small enough to
# write on every readiness check while short, random so no filesystem can store it compressed.
_ROOM_CHECK_BYTES = _MB


class BlobCorrupted(Exception):
    """A stored file could not be read back as it was written."""


class StorageFull(Exception):
    """There was no room on the disk, or in the service user's quota, for a file; nothing of it
    was kept."""


def free_bytes(path: Path) -> int:
    """How much an unprivileged process can still write under `path` (the blocks a filesystem
    keeps for root do not count: the service does not run as root)."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


class BlobStore(Protocol):
    @property
    def encrypts(self) -> bool: ...

    async def put(self, data: bytes) -> str: ...

    async def get(self, name: str, *, encrypted: bool) -> bytes: ...

    async def delete(self, name: str) -> None: ...


class RotatingBlobStore(BlobStore, Protocol):
    """A store whose files can be moved from an older key (or from plain) to the current key."""

    async def key_of(self, name: str, *, encrypted: bool) -> int | None: ...

    async def rotate(self, name: str, *, encrypted: bool) -> str | None: ...


class ArchivableBlobStore(BlobStore, Protocol):
    """A store whose files can be copied out and back in exactly as stored (ciphertext stays
    ciphertext), for `policybot backup` and `policybot restore` (storage.backup)."""

    async def stored_names(self) -> list[str]: ...

    async def read_stored(self, name: str) -> bytes: ...

    async def write_stored(self, name: str, data: bytes) -> None: ...


# Written a piece at a time, so a disk that fills up part-way fails where it fills.
_WRITE_CHUNK = 1024 * 1024

Write = Callable[[int, memoryview], int]


class LocalBlobStore:
    def __init__(
        self,
        root: Path,
        *,
        keys: Sequence[bytes] = (),
        key: bytes | None = None,
        write: Write = os.write,
    ) -> None:
        """`write` is the system call that puts bytes on the disk (os.write), given so that a
        test can have the disk fill up part-way through a file."""
        if key is not None and keys:
            raise TypeError("give either key= (one key) or keys= (current first), not both")
        all_keys = tuple(keys) if keys else ((key,) if key else ())
        self.root = root
        self._os_write = write
        self._out_of_room = False
        self._fernets = [Fernet(k) for k in all_keys]
        self._multi = MultiFernet(self._fernets) if self._fernets else None

    @property
    def encrypts(self) -> bool:
        return self._multi is not None

    def _path(self, name: str) -> Path:
        if not name.isalnum() or len(name) != 32:
            raise ValueError("not a blob name")
        return self.root / name[:2] / name

    def _write(self, data: bytes) -> str:
        name = secrets.token_hex(16)
        path = self._path(name)
        payload = self._multi.encrypt(data) if self._multi else data
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._write_file(path, payload)
        except OSError as exc:
            if exc.errno not in _NO_SPACE:
                raise
            self._out_of_room = True
            log.error(
                "evidence storage has no space (%s) for a file of %.1f MB: nothing of it was "
                "kept, and /readyz reports not ready until there is room",
                errno.errorcode[exc.errno],
                len(payload) / _MB,
            )
            raise StorageFull(errno.errorcode[exc.errno]) from exc
        self._out_of_room = False
        return name

    def _write_file(self, path: Path, payload: bytes) -> None:
        """Write to a temporary name, flush to disk and rename into place; if anything fails
        on the way, the temporary file is removed."""
        temporary = path.with_suffix(".part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                remaining = memoryview(payload)
                while remaining:
                    remaining = remaining[self._os_write(descriptor, remaining[:_WRITE_CHUNK]) :]
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def _shortage(self, reserve: int) -> str | None:
        free = free_bytes(self.root)
        if free < reserve:
            return f"{free // _MB} MB free, {reserve // _MB} MB needed"
        if self._out_of_room and not self._room_again():
            return "a file could not be written for lack of space, and a test file still cannot"
        return None

    def _room_again(self) -> bool:
        check = self.root / f".room-check-{secrets.token_hex(8)}"
        try:
            self._write_file(check, secrets.token_bytes(_ROOM_CHECK_BYTES))
        except OSError:
            return False
        check.unlink(missing_ok=True)
        self._out_of_room = False
        return True

    def _decrypt(self, name: str, payload: bytes, encrypted: bool) -> bytes:
        if not encrypted:
            return payload
        if self._multi is None:
            raise BlobCorrupted(f"{name} is encrypted and no evidence key is configured")
        try:
            return self._multi.decrypt(payload)
        except InvalidToken as exc:
            raise BlobCorrupted(name) from exc

    def _read(self, name: str, encrypted: bool) -> bytes:
        return self._decrypt(name, self._path(name).read_bytes(), encrypted)

    def _key_of(self, name: str, encrypted: bool) -> int | None:
        path = self._path(name)
        if not encrypted:
            path.stat()  # only whether it is there
            return None
        payload = path.read_bytes()
        for index, fernet in enumerate(self._fernets):
            try:
                # Checks the authentication tag only: enough to know the key, without decrypting.
                fernet.extract_timestamp(payload)
            except InvalidToken:
                continue
            return index
        raise BlobCorrupted(f"{name} is not readable with any configured key")

    def _rotate(self, name: str, encrypted: bool) -> str | None:
        if self._multi is None:
            raise BlobCorrupted("no evidence key is configured, so nothing can be encrypted")
        payload = self._path(name).read_bytes()
        if encrypted:
            try:
                self._fernets[0].extract_timestamp(payload)
            except InvalidToken:
                pass
            else:
                return None  # already under the current key: nothing to write
        return self._write(self._decrypt(name, payload, encrypted))

    def _delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    async def put(self, data: bytes) -> str:
        """Keep a file and return its name; StorageFull when there is no room for it."""
        return await asyncio.to_thread(self._write, data)

    async def shortage(self, *, reserve: int) -> str | None:
        """Why the store cannot be counted on to keep more files, or None when it can: less
        than `reserve` bytes free, or a file failed for lack of room and a small test file
        still does not fit (a full quota leaves the disk looking free)."""
        return await asyncio.to_thread(self._shortage, reserve)

    async def get(self, name: str, *, encrypted: bool) -> bytes:
        return await asyncio.to_thread(self._read, name, encrypted)

    async def key_of(self, name: str, *, encrypted: bool) -> int | None:
        """Which configured key a file is under (0 is the current one; None: stored plain), so
        an administrator can tell when an older key is no longer needed. Raises BlobCorrupted
        when no configured key reads it, FileNotFoundError when it is gone."""
        return await asyncio.to_thread(self._key_of, name, encrypted)

    async def rotate(self, name: str, *, encrypted: bool) -> str | None:
        """Write the file again under the current key and return the copy's name, or None when
        it already is under the current key. The original is left in place: files are never
        changed, and the caller deletes it once the database points at the copy."""
        return await asyncio.to_thread(self._rotate, name, encrypted)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._delete, name)

    # -- copied out and back in as stored (ArchivableBlobStore) --------------------------------

    def _stored_names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.name
            for path in self.root.glob("??/*")
            if path.is_file() and _is_name(path.name) and path.parent.name == path.name[:2]
        )

    def _write_stored(self, name: str, data: bytes) -> None:
        path = self._path(name)
        if path.exists():
            raise FileExistsError(f"{name} is already stored")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_file(path, data)

    async def stored_names(self) -> list[str]:
        """Every file kept, sorted; temporary files (a write under way, a room check) are not."""
        return await asyncio.to_thread(self._stored_names)

    async def read_stored(self, name: str) -> bytes:
        """The file's bytes exactly as stored (encrypted ones stay encrypted)."""
        return await asyncio.to_thread(self._path(name).read_bytes)

    async def write_stored(self, name: str, data: bytes) -> None:
        """Keep `data` as the stored bytes of `name`; files are written once, so a name already
        there raises FileExistsError, and a name the store would never make, ValueError."""
        await asyncio.to_thread(self._write_stored, name, data)


def _is_name(name: str) -> bool:
    return name.isalnum() and len(name) == 32
