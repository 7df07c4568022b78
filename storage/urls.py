"""Database URLs: people give plain ones (`postgresql://…`, `sqlite:///path`); the drivers are
chosen here, so the same URL serves the running bot (async) and migrations (sync).

Apart from storage.db so that what storage.db builds on (the audit sealing) can read a URL
without importing the engine that attaches it.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def _normalise(url: str | URL, *, is_async: bool) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite" if is_async else "sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


def async_url(url: str | URL) -> URL:
    return _normalise(url, is_async=True)


def sync_url(url: str | URL) -> URL:
    return _normalise(url, is_async=False)
