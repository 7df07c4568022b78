"""The audit key: what makes a seal on the audit log something only policybot can make.

Each seal is an HMAC-SHA256 under this key, so whoever can write to the database but does not
hold the key (the database's own administrators, anyone with the server's database password, a
restored backup) cannot make a seal that verifies, for a changed entry or for a record that
entries were removed. The key is never stored in the database.

The key is written as `policybot keygen` prints one (URL-safe base64 of 32 random bytes), and
the HMAC is keyed with those 32 bytes. Where no key is configured, the embedded default keeps
one in a file in the data directory, made on first start, so the sample runs with one command.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

_KEY_ID_LABEL: Final = b"policybot audit key id"
KEY_BYTES: Final = 32


class AuditKeyFileError(Exception):
    """The key file cannot be read as a key; the message says why, never what it holds."""


def canonical(payload: Mapping[str, object]) -> bytes:
    """One byte string per content, whatever the platform or library version: JSON with sorted
    keys, no spaces, ASCII only."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


@dataclass(frozen=True)
class AuditKey:
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError("an audit key is 32 bytes")

    @property
    def key_id(self) -> str:
        """A name for the key that can be stored and shown without revealing it: the database
        keeps it, so a process with another key is stopped before it seals anything."""
        return hmac.new(self.secret, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def mac(self, payload: Mapping[str, object]) -> str:
        return hmac.new(self.secret, canonical(payload), hashlib.sha256).hexdigest()

    def made(self, payload: Mapping[str, object], mac: str | None) -> bool:
        """Whether `mac` is this key's seal over `payload` (compared in constant time)."""
        return mac is not None and hmac.compare_digest(self.mac(payload), mac)


def decode_key(text: str) -> bytes:
    """The 32 bytes a key made by `policybot keygen` encodes; ValueError if it is not one."""
    try:
        decoded = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError("not a key made by `policybot keygen`") from exc
    if len(decoded) != KEY_BYTES:
        raise ValueError("not a key made by `policybot keygen`")
    return decoded


def read_key_file(path: Path) -> AuditKey:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise AuditKeyFileError(f"{path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyFileError(f"{path} cannot be read ({type(exc).__name__})") from exc
    try:
        return AuditKey(decode_key(text))
    except ValueError as exc:
        raise AuditKeyFileError(f"{path} does not hold a key made by `policybot keygen`") from exc


def read_or_create_key_file(path: Path) -> AuditKey:
    """The key in `path`, made there first if there is none (readable by this user only).

    The new key is written to a file of its own and linked into place, so two processes
    starting at once cannot both make one: the second finds the first's, whole.
    """
    if path.exists():
        return read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n"
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, made)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return read_key_file(path)
