"""Evidence files on disk, under generated names, outside anything a web server serves.

The original bytes are what matter in court, so they are written once and never changed:
a file is written to a temporary name, flushed to disk and then renamed into place. With a key
configured, files are encrypted at rest (Fernet: AES with an authentication tag, so tampering
with a stored file is detected when it is read back).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken


class BlobCorrupted(Exception):
    """A stored file could not be read back as it was written."""


class BlobStore(Protocol):
    @property
    def encrypts(self) -> bool: ...

    async def put(self, data: bytes) -> str: ...

    async def get(self, name: str, *, encrypted: bool) -> bytes: ...

    async def delete(self, name: str) -> None: ...


class LocalBlobStore:
    def __init__(self, root: Path, *, key: bytes | None = None) -> None:
        self.root = root
        self._fernet = Fernet(key) if key else None

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def _path(self, name: str) -> Path:
        if not name.isalnum() or len(name) != 32:
            raise ValueError("not a blob name")
        return self.root / name[:2] / name

    def _write(self, data: bytes) -> str:
        name = secrets.token_hex(16)
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = self._fernet.encrypt(data) if self._fernet else data
        temporary = path.with_suffix(".part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return name

    def _read(self, name: str, encrypted: bool) -> bytes:
        payload = self._path(name).read_bytes()
        if not encrypted:
            return payload
        if self._fernet is None:
            raise BlobCorrupted(f"{name} is encrypted and no evidence key is configured")
        try:
            return self._fernet.decrypt(payload)
        except InvalidToken as exc:
            raise BlobCorrupted(name) from exc

    def _delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._write, data)

    async def get(self, name: str, *, encrypted: bool) -> bytes:
        return await asyncio.to_thread(self._read, name, encrypted)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._delete, name)
