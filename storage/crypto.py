"""Encryption at rest for what people wrote: report text, drafts, notifications, file names.

One keyring per database: the first key encrypts, every key decrypts, so a key can be rotated
(a new key first, the old ones after it, then `policybot keys rotate` rewrites what the old
ones wrote). Values are marked, so text written before a key was configured is still read,
and text that is encrypted cannot be mistaken for plain text when no key is configured.
"""

from __future__ import annotations

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


def is_encrypted(stored: str) -> bool:
    return stored.startswith(MARK)
