"""Column types shared by every table.

Times are stored in UTC and always come back timezone-aware, whatever the database: SQLite keeps
no zone, and a naive datetime compared with an aware one is a bug waiting for the clocks to change.

Text people wrote is encrypted when the database has a keyring (storage.db.Database takes the
keys); the keyring travels on the engine's dialect, so each database has its own keys and
nothing is global.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from storage.crypto import KeyMissing, Keyring, is_encrypted

KEYRING_ATTRIBUTE = "policybot_keyring"


def keyring_of(dialect: Dialect) -> Keyring | None:
    found = getattr(dialect, KEYRING_ATTRIBUTE, None)
    return found if isinstance(found, Keyring) else None


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest when the database has a keyring; read either way."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        keyring = keyring_of(dialect)
        return keyring.encrypt(value) if keyring else value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        assert isinstance(value, str)
        if not is_encrypted(value):
            return value
        keyring = keyring_of(dialect)
        if keyring is None:
            raise KeyMissing("this text is encrypted and no key is configured")
        return keyring.decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """JSON kept as text, encrypted at rest when the database has a keyring."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        keyring = keyring_of(dialect)
        return keyring.encrypt(text) if keyring else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            return value  # a driver that decoded JSON itself
        if is_encrypted(value):
            keyring = keyring_of(dialect)
            if keyring is None:
                raise KeyMissing("this text is encrypted and no key is configured")
            value = keyring.decrypt(value)
        return json.loads(value)


def utcnow() -> datetime:
    return datetime.now(UTC)
