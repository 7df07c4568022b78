"""The database taken away and brought back, for the tests that prove nothing is lost meanwhile.

On PostgreSQL the bot reaches the server through a proxy that the test cuts (every connection
reset, new ones refused) and restores. SQLite has no server to lose; what takes it away is
another process holding its write lock (a backup, a key rotation, a stuck command), so the test
holds that lock, and the bot is given a short wait for it so the test need not wait ten seconds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.runtime import Runtime
from dialogs.services.privacy.refusals import recorder
from storage.db import Database
from tests.resilience.proxy import CuttableProxy


@dataclass
class Outage:
    """The database as the bot sees it: cut() takes it away, restore() brings it back."""

    kind: str
    proxy: CuttableProxy | None = None
    sqlite_path: Path | None = None
    _holder: sqlite3.Connection | None = None

    async def cut(self) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
            return
        assert self.sqlite_path is not None
        assert self._holder is None
        holder = sqlite3.connect(self.sqlite_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        self._holder = holder

    async def restore(self) -> None:
        if self.proxy is not None:
            await self.proxy.restore()
            return
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None

    async def prepare(self, runtime: Runtime) -> None:
        """Give the bot a short wait for SQLite's lock (the database it started with, which
        loaded the people learned so far, is closed)."""
        if self.kind == "sqlite":
            await runtime.db.dispose()
            runtime.db = Database(
                runtime.settings.database_url,
                keys=runtime.settings.keys,
                audit=runtime.db.audit,
                busy_timeout_ms=200,
            )
            runtime.db.after_rollback = recorder(runtime.db, runtime.clock)
            runtime.__dict__.pop("runner", None)


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        found = Outage(kind="sqlite", sqlite_path=Path(str(url.database)))
        try:
            yield found
        finally:
            await found.restore()
        return
    async with CuttableProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield Outage(kind="postgresql", proxy=proxy)


@pytest.fixture
def settings_through_outage(settings: Settings, outage: Outage) -> Settings:
    """The bot's settings, with PostgreSQL reached through the proxy."""
    if outage.proxy is None:
        return settings
    url = make_url(settings.database_url).set(host="127.0.0.1", port=outage.proxy.port)
    return replace(settings, database_url=url.render_as_string(hide_password=False))
