"""SQLite through aiosqlite with one trip to its thread per statement, not four.

aiosqlite runs every call on the connection in a thread of its own, and SQLAlchemy's adapter
makes four calls for each statement: open a cursor, execute, fetch the rows, close the cursor.
Each call is a round trip between the event loop and that thread (a queue, a wake-up, a
callback back on the loop), and those trips, not SQLite, were most of what a turn's six
statements cost on SQLite: about 26 trips a turn. Here a statement is one function run in that
thread, which opens a cursor, executes, reads the rows and what describes them, and closes it,
so a turn makes about 8. Commit and rollback are one trip each, as before.

Everything else is SQLAlchemy's own aiosqlite dialect: it is given this module as its DBAPI
(`create_async_engine(..., module=one_trip_dbapi())`), the way SQLAlchemy lets an engine use an
alternate DBAPI module. Server-side cursors (results streamed a batch at a time) keep the
adapter's own cursor. The statement runs in aiosqlite's thread by aiosqlite's own queueing
(`Connection._execute`), which SQLAlchemy's adapter also relies on for its isolation level.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# What a statement left: (description, rows, rowcount, lastrowid).
_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In aiosqlite's thread: the whole statement, its rows read, its cursor closed."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds what its statement left, read in the one trip that ran it."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is opened here: that would be a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing is open: the rows and their description are already here."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._take(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        self._take(operation, seq_of_parameters, many=True)

    def _take(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        queued: Any = connection._execute  # aiosqlite's own queueing: see the module docstring
        try:
            outcome: _Outcome = await_(queued(_run, connection, operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, handing out connections with one-trip cursors."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
