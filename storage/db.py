"""The database: one async engine per process, and the URL rules for SQLite and PostgreSQL.

People give plain URLs (`postgresql://…`, `sqlite:///path`); the drivers are chosen here so the
same URL works for the running bot (async) and for migrations (sync).

With keys, what people wrote is encrypted at rest (storage.types): the keyring is attached to
this engine's dialect, so two databases in one process (a test, a migration) never share keys.
The audit key travels the same way, on the engine: every session on it seals the audit entries
it writes as it commits (storage.audit_sealing).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from storage.audit_sealing import AuditSealing, attach
from storage.crypto import Keyring
from storage.sqlite_driver import one_trip_dbapi
from storage.types import KEYRING_ATTRIBUTE
from storage.urls import async_url as async_url
from storage.urls import sync_url as sync_url

DEFAULT_BUSY_TIMEOUT_MS = 10_000


def prepare_sqlite_connection(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    """Set up one new SQLite connection: its busy timeout, foreign keys, and WAL for the file.

    The busy timeout comes first and is set on every connection (it belongs to the connection):
    anything after it, the switch to WAL included, then waits for another process's writer
    instead of failing at once. Foreign keys are off by default in SQLite and we rely on them.
    WAL lets the chat and a scheduled sweep read while the other writes; it belongs to the
    database file and lasts, so it is switched on once, by the first connection that finds the
    file in another mode (switching needs the file to itself, which a running server's other
    connections would deny). An in-memory database has no WAL and keeps its own mode.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode")
        (mode,) = cursor.fetchone()
        if str(mode).lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _reset_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """A SQLite connection back in the pool is rolled back only if a transaction is open.

    The pool's own reset rolls back every connection returned to it, even one whose unit of
    work has just committed: on aiosqlite that is a trip to the connection's thread, for
    nothing, at the end of every turn. A connection given back with a transaction still open
    (its unit of work failed half way) is rolled back as before."""
    if state.terminate_only or not state.asyncio_safe:
        return  # the pool closes this one rather than reusing it
    driver = getattr(dbapi_connection, "driver_connection", None)
    try:
        open_transaction = driver is None or bool(driver.in_transaction)
    except ValueError:  # aiosqlite's "no active connection": nothing to roll back
        return
    if open_transaction:
        dbapi_connection.rollback()


def sqlite_connections(engine: Engine, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
    """Prepare every connection `engine` opens (prepare_sqlite_connection), when it is SQLite's:
    the server's engine, and the short-lived ones of migrations and schema checks."""
    if engine.dialect.name != "sqlite":
        return

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        prepare_sqlite_connection(dbapi_connection, busy_timeout_ms)

    event.listen(engine, "connect", on_connect)


# A server that does not answer should be noticed in seconds, not after the operating system's
# TCP timeouts (minutes): a new connection gives up after CONNECT_TIMEOUT, and an open one that
# goes silent is found dead by keepalives within about a minute. The turn is then rolled back and
# the person's message waits in the inbound journal (storage.journal) until the server is back.
_POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


# What to do once a unit of work has been rolled back by an error, given the error; it runs
# before the error goes on, and may use a session of its own (see Database.after_rollback).
RollbackHook = Callable[[Exception], Awaitable[None]]
# Given a committed session's `info` (what the unit of work noted about itself).
CommitHook = Callable[[dict[str, Any]], None]

# Whether this task is inside a SQLite session already (see Database.session).
_inside_gate: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "policybot_inside_sqlite_session", default=False
)


class Database:
    """Owns the engine; hands out one session per unit of work (a turn, a command, a job item)."""

    def __init__(
        self,
        url: str | URL,
        *,
        echo: bool = False,
        keys: Sequence[bytes] = (),
        audit: AuditSealing | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        self.url = async_url(url)
        self.audit = audit
        # hide_parameters keeps what people wrote out of error messages and logs.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.url.get_backend_name() == "postgresql":
            connect_args = {
                k: v for k, v in _POSTGRES_CONNECT_ARGS.items() if k not in self.url.query
            }
            kwargs.update(
                pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
            )
        else:
            # One trip to aiosqlite's thread per statement (storage.sqlite_driver), and none
            # to roll back a connection that has no transaction open (_reset_if_open).
            kwargs.update(module=one_trip_dbapi(), pool_reset_on_return=None)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "reset", _reset_if_open)
        sqlite_connections(self.engine.sync_engine, busy_timeout_ms)
        if keys:
            # The first key encrypts, all of them decrypt: the previous keys are kept only so
            # that text written before a rotation can still be read until it is rewritten.
            setattr(self.engine.sync_engine.dialect, KEYRING_ATTRIBUTE, Keyring(keys))
        if audit is not None:
            attach(self.engine.sync_engine, audit)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._gate = asyncio.Lock() if self.is_sqlite else None
        # Set by the composition root: the audit log's record of a refused attempt, whose own
        # unit of work was rolled back with everything else it wrote.
        self.after_rollback: RollbackHook | None = None
        # Told of every unit of work once it has committed, with what its session noted in
        # `session.info` (dialogs.services.notifier marks one that queued outbox rows, so the
        # delivery worker wakes for exactly those, not after every turn).
        self.after_commit: list[CommitHook] = []

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed when the block ends normally, rolled back on any error.

        On SQLite, one at a time in this process. SQLite has one writer: two of this process's
        transactions writing at once would otherwise meet in its busy handler, which waits in
        sleeps of up to 100 ms, so a burst of messages queued up behind each other's sleeps
        (seconds at the 99th percentile). Waiting in order here costs nothing of the sort. A
        session opened inside another by the same task goes straight in, so nesting cannot
        deadlock; other processes are still met by the busy timeout.
        """
        if self._gate is None or _inside_gate.get():
            async with self._unit_of_work() as session:
                yield session
            return
        async with self._gate:
            entered = _inside_gate.set(True)
            try:
                async with self._unit_of_work() as session:
                    yield session
            finally:
                _inside_gate.reset(entered)

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction; once an error has rolled it back, `after_rollback` is given the
        error (on SQLite still inside the gate, so its own session goes straight in); once it
        has committed, each of `after_commit` is told."""
        try:
            async with self._sessions() as session:
                async with session.begin():
                    yield session
                committed = dict(session.info)
        except Exception as exc:
            if self.after_rollback is not None:
                await self.after_rollback(exc)
            raise
        for hook in self.after_commit:
            hook(committed)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not ready"; the caller reports it
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


async def lock_for_writing(session: AsyncSession) -> None:
    """Make the rest of this unit of work one transaction that holds SQLite's write lock.

    Python's SQLite driver begins a transaction only at the first INSERT, UPDATE or DELETE, so
    rows read before that are read outside any transaction (a second process can read the same
    rows and act on them too), and a savepoint opened first is committed by its own release.
    Work that reads rows and then claims them, such as a sweep, calls this first; it waits for
    other writers (busy_timeout) rather than racing them. PostgreSQL needs nothing here: its
    sessions are transactions from the first statement and rows are claimed with FOR UPDATE.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is not None and not driver.in_transaction:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def only_one_at_a_time(session: AsyncSession, key: int) -> bool:
    """True if this unit of work is the only one doing the job named by `key` until it ends.

    On PostgreSQL a transaction-level advisory lock, which another process's attempt fails at
    once (it skips this round rather than waiting); on SQLite the write lock, which other
    writers wait for. Advisory locks belong to the whole database, so the key is taken with the
    schema's name: installations in two schemas of one database (or tests side by side) never
    skip each other's rounds.
    """
    if session.get_bind().dialect.name != "postgresql":
        await lock_for_writing(session)
        return True
    result = await session.execute(
        text(
            "SELECT pg_try_advisory_xact_lock("
            "hashtextextended(current_schema() || ':' || CAST(:key AS text), 0))"
        ),
        {"key": key},
    )
    return bool(result.scalar())


def is_unavailable(error: BaseException) -> bool:
    """Whether a failure means the database (or the disk under it) could not be reached, so the
    same work will succeed later unchanged, rather than that the work itself is at fault."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError
        ):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OSError | TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False
