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

The encryption is `Sealing`, shared with the bucket store (storage.objectstore) that several
servers use instead of a disk. Both can also hand their files out and take them back exactly as
stored (ArchivableBlobStore), for a backup that never holds anything decrypted.
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


def check_name(name: str) -> str:
    """A stored file's name as this store generates it (32 letters and digits), or ValueError:
    a name read back from the database or an archive never reaches a path or a key unchecked."""
    if not name.isalnum() or len(name) != 32 or not name.isascii():
        raise ValueError("not a blob name")
    return name


def new_name() -> str:
    return secrets.token_hex(16)


class Sealing:
    """Encryption at rest, the same wherever the files are kept (storage.blobstore on disk,
    storage.objectstore in a bucket): the first key encrypts, every key decrypts, and a stored
    file that was changed fails its authentication tag (BlobCorrupted)."""

    def __init__(self, keys: Sequence[bytes] = ()) -> None:
        self._fernets = [Fernet(k) for k in keys]
        self._multi = MultiFernet(self._fernets) if self._fernets else None

    @property
    def encrypts(self) -> bool:
        return self._multi is not None

    def seal(self, data: bytes) -> bytes:
        """What is stored for `data`: encrypted under the current key, or as it is."""
        return self._multi.encrypt(data) if self._multi else data

    def open(self, name: str, payload: bytes, *, encrypted: bool) -> bytes:
        """The original bytes of a stored file."""
        if not encrypted:
            return payload
        if self._multi is None:
            raise BlobCorrupted(f"{name} is encrypted and no evidence key is configured")
        try:
            return self._multi.decrypt(payload)
        except InvalidToken as exc:
            raise BlobCorrupted(name) from exc

    def key_index(self, name: str, payload: bytes) -> int:
        """Which configured key a stored file is under (0 is the current one)."""
        for index, fernet in enumerate(self._fernets):
            try:
                # Checks the authentication tag only: enough to know the key, without decrypting.
                fernet.extract_timestamp(payload)
            except InvalidToken:
                continue
            return index
        raise BlobCorrupted(f"{name} is not readable with any configured key")

    def resealed(self, name: str, payload: bytes, *, encrypted: bool) -> bytes | None:
        """A stored file sealed again under the current key, or None when it already is."""
        if self._multi is None:
            raise BlobCorrupted("no evidence key is configured, so nothing can be encrypted")
        if encrypted:
            try:
                self._fernets[0].extract_timestamp(payload)
            except InvalidToken:
                pass
            else:
                return None  # already under the current key: nothing to write
        return self._multi.encrypt(self.open(name, payload, encrypted=encrypted))


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
    """A store whose files can be copied out and back exactly as stored (a backup and its
    restore): ciphertext stays ciphertext, so an archive holds nothing readable without the
    evidence key."""

    async def stored_names(self) -> list[str]: ...

    async def read_stored(self, name: str) -> bytes: ...

    async def write_stored(self, name: str, data: bytes) -> None:
        """Written once: FileExistsError when `name` holds other bytes; the same bytes again
        change nothing (a restore may be run twice). ValueError for an invalid name."""
        ...


class EvidenceStore(RotatingBlobStore, ArchivableBlobStore, Protocol):
    """Everything the server asks of where evidence is kept (on disk, or in a bucket)."""

    async def shortage(self, *, reserve: int) -> str | None: ...


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
        self.root = root
        self._os_write = write
        self._out_of_room = False
        self._sealing = Sealing(tuple(keys) if keys else ((key,) if key else ()))

    @property
    def encrypts(self) -> bool:
        return self._sealing.encrypts

    def _path(self, name: str) -> Path:
        check_name(name)
        return self.root / name[:2] / name

    def _write(self, data: bytes) -> str:
        name = new_name()
        self._keep(self._path(name), self._sealing.seal(data))
        return name

    def _keep(self, path: Path, payload: bytes, *, replace: bool = True) -> None:
        """Write a file in full or not at all; StorageFull when it does not fit. Without
        `replace`, a file already under that name is left as it is (FileExistsError)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._write_file(path, payload, replace=replace)
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

    def _write_file(self, path: Path, payload: bytes, *, replace: bool = True) -> None:
        """Write to a temporary name, flush to disk and rename into place; if anything fails
        on the way, the temporary file is removed. Without `replace` the file is linked into
        place, which fails rather than overwrite a file already there."""
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
            if replace:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)
                os.unlink(temporary)
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

    def _read(self, name: str, encrypted: bool) -> bytes:
        return self._sealing.open(name, self._path(name).read_bytes(), encrypted=encrypted)

    def _key_of(self, name: str, encrypted: bool) -> int | None:
        path = self._path(name)
        if not encrypted:
            path.stat()  # only whether it is there
            return None
        return self._sealing.key_index(name, path.read_bytes())

    def _rotate(self, name: str, encrypted: bool) -> str | None:
        payload = self._path(name).read_bytes()
        resealed = self._sealing.resealed(name, payload, encrypted=encrypted)
        if resealed is None:
            return None
        copy = new_name()
        self._keep(self._path(copy), resealed)
        return copy

    def _delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def _stored_names(self) -> list[str]:
        names: list[str] = []
        if not self.root.is_dir():
            return names
        for folder in self.root.iterdir():
            if len(folder.name) != 2 or not folder.is_dir():
                continue
            for path in folder.iterdir():
                # Temporaries (.part) and room checks are never evidence.
                if path.name.isalnum() and len(path.name) == 32 and path.name[:2] == folder.name:
                    names.append(path.name)
        return sorted(names)

    def _write_stored(self, name: str, data: bytes) -> None:
        path = self._path(name)
        try:
            self._keep(path, data, replace=False)
        except FileExistsError:
            if path.read_bytes() != data:
                raise
            # The same bytes already there (a restore run again): nothing is changed.

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

    async def stored_names(self) -> list[str]:
        """Every stored file's name, sorted (temporaries left by a failed write excluded)."""
        return await asyncio.to_thread(self._stored_names)

    async def read_stored(self, name: str) -> bytes:
        """A file's bytes exactly as stored: ciphertext when it was encrypted."""
        return await asyncio.to_thread(lambda: self._path(name).read_bytes())

    async def write_stored(self, name: str, data: bytes) -> None:
        """Keep bytes read with `read_stored` under the same name, as they are. Files are
        written once: FileExistsError when the name holds other bytes (the same bytes again
        change nothing), ValueError for a name this store would never have made."""
        await asyncio.to_thread(self._write_stored, name, data)
