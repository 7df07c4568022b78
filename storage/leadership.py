"""Which of several servers on one database runs the scheduled jobs: exactly one at a time.

Two servers behind one address share the work of answering people, but a sweep run by both
would send every reminder twice. So the one that holds a PostgreSQL session-level advisory lock
runs the jobs, and the others wait. The lock lives as long as the connection that took it: a
server that is killed, loses its network or is stopped drops the connection, PostgreSQL releases
the lock, and another server takes it at its next try (every `retry_seconds`).

The holder keeps its connection busy with a small query every `check_seconds` (with TCP
keepalives underneath); a connection that fails means the lock may be gone, so the holder stops
its jobs at once and tries again like any other server. Between a cut connection and the holder
noticing, both may start a job; the jobs claim their rows in their own transactions
(storage.db.only_one_at_a_time, FOR UPDATE), so such an overlap repeats no work.

SQLite belongs to one machine and one server, which is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

SCHEDULER = "policybot:scheduler"
# Keepalives as for the pool (storage.db): a silent network is noticed within about a minute.
_CONNECT: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver name), keeping its query (a schema's
    search_path, say)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Leadership:
    """Whether this process leads, and the loop that keeps it leading or trying to."""

    def __init__(
        self,
        database_url: str,
        *,
        name: str = SCHEDULER,
        retry_seconds: float = 15,
        check_seconds: float | None = None,
    ) -> None:
        self._embedded = make_url(database_url).get_backend_name() == "sqlite"
        self._url = database_url
        self.name = name
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds if check_seconds is not None else retry_seconds
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self.leading = False

    async def try_to_lead(self) -> bool:
        """Take the lock if nobody holds it; False (never an error) when another process does
        or the database cannot be reached."""
        if self.leading:
            return True
        if self._embedded:
            self.leading = True
            return True
        connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        try:
            connection = await psycopg.AsyncConnection.connect(
                _libpq_url(self._url), autocommit=True, **_CONNECT
            )
            # Advisory locks belong to the whole database, so the schema is part of the key:
            # installations in two schemas of one database never wait for each other.
            cursor = await connection.execute(
                "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':' || %s, 0))",
                (self.name,),
            )
            row = await cursor.fetchone()
        except (psycopg.Error, OSError) as exc:
            log.warning("the scheduler's lock cannot be asked for now (%s)", type(exc).__name__)
            if connection is not None:
                await _close(connection)
            return False
        if not (row and row[0]):
            await _close(connection)
            return False
        self._connection = connection
        self.leading = True
        return True

    async def still_leading(self) -> bool:
        """Whether the lock is still held: its connection still answers."""
        if self._embedded:
            return self.leading
        if self._connection is None:
            return False
        try:
            async with asyncio.timeout(10):
                await self._connection.execute("SELECT 1")
        except (psycopg.Error, OSError, TimeoutError) as exc:
            log.warning(
                "the scheduler's lock was lost with its connection (%s)", type(exc).__name__
            )
            await self.step_down()
            return False
        return True

    async def step_down(self) -> None:
        """Give the lock up (closing its connection releases it at once)."""
        self.leading = False
        connection, self._connection = self._connection, None
        if connection is not None:
            await _close(connection)

    async def lead(self, *, gained: Callable[[], None], lost: Callable[[], None]) -> None:
        """Keep trying to lead; `gained` when this process starts leading, `lost` when it stops.
        Runs until cancelled, and then gives the lock up, so a server that stops cleanly hands
        the jobs over at the others' next try."""
        if self._embedded:  # nobody else can take it
            self.leading = True
            gained()
            return
        try:
            while True:
                if not self.leading:
                    if await self.try_to_lead():
                        log.info("this server now runs the scheduled jobs (%s)", self.name)
                        gained()
                elif not await self.still_leading():
                    log.warning("this server no longer runs the scheduled jobs (%s)", self.name)
                    lost()
                await asyncio.sleep(self.check_seconds if self.leading else self.retry_seconds)
        finally:
            await self.step_down()


async def _close(connection: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    with contextlib.suppress(psycopg.Error, OSError):
        await connection.close()
