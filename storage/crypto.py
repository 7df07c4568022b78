"""Encryption at rest for what people wrote: report text, drafts, notifications, file names.

One keyring per database: the first key encrypts, every key decrypts, so a key can be rotated
(a new key first, the old ones after it, then `policybot keys rotate` rewrites what the old
ones wrote). Values are marked, so text written before a key was configured is still read,
and text that is encrypted cannot be mistaken for plain text when no key is configured.

The same keys give pseudonyms: a keyed one-way digest that names something (a person's part in
a record) without saying whose it is, to anyone but whoever holds the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MARK = "pbenc1:"


class KeyMissing(Exception):
    """Encrypted text was read, and no key that decrypts it is configured."""


class Keyring:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self._pseudonym_keys = tuple(_derived(k, b"policybot pseudonym v1") for k in keys)

    def encrypt(self, text: str) -> str:
        return MARK + self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, stored: str) -> str:
        if not is_encrypted(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(MARK) :].encode("ascii")).decode()
        except InvalidToken as exc:
            raise KeyMissing("encrypted with a key that is not configured") from exc

    def encrypt_bytes(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)

    def rotate(self, stored: str) -> str:
        """The same text under the current key (plain text becomes encrypted)."""
        if not is_encrypted(stored):
            return self.encrypt(stored)
        return MARK + self._fernet.rotate(stored[len(MARK) :].encode("ascii")).decode("ascii")

    def pseudonym(self, subject: str) -> str:
        """HMAC-SHA256 of `subject` (hex) under the current key: the same subject always gets
        the same pseudonym, and without the key nobody can tell what it stands for."""
        return _hmac_hex(self._pseudonym_keys[0], subject)

    def pseudonyms(self, subject: str) -> tuple[str, ...]:
        """`subject`'s pseudonym under every key, the current one first, so one given before a
        rotation is still recognised while its key is kept."""
        return tuple(_hmac_hex(key, subject) for key in self._pseudonym_keys)


def key_id(key: bytes) -> str:
    """A name for a key that can be written down (in a backup's manifest, in a message) without
    revealing it: a keyed digest of a fixed label, from which the key cannot be recovered."""
    return _hmac_hex(_derived(key, b"policybot key id v1"), "key id")[:16]


def key_index(fernets: Sequence[Fernet], token: bytes) -> int | None:
    """Which of `fernets` made `token` (only its authentication tag is checked, nothing is
    decrypted), or None when none of them did."""
    for index, fernet in enumerate(fernets):
        try:
            fernet.extract_timestamp(token)
        except InvalidToken:
            continue
        return index
    return None


def is_encrypted(stored: str) -> bool:
    return stored.startswith(MARK)


def _derived(key: bytes, purpose: bytes) -> bytes:
    """A key of its own for `purpose`, so the encryption key is used only to encrypt."""
    return hmac.new(base64.urlsafe_b64decode(key), purpose, hashlib.sha256).digest()


def _hmac_hex(key: bytes, subject: str) -> str:
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()
