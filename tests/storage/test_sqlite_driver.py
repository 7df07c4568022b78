"""SQLite statements make one trip to aiosqlite's thread each, and behave as before.

storage.sqlite_driver runs a whole statement (cursor, execute, rows, close) in one call on
aiosqlite's thread. What SQLAlchemy reads from a cursor must still be there: rows and their
description, rowcount for updates and executemany, lastrowid, errors as SQLAlchemy's own, and
streamed results through the adapter's own server-side cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'driver.sqlite3'}")
    async with db.engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        )
    yield db
    await db.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls queued on aiosqlite's thread, by name."""
    seen: list[str] = []
    original: Any = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_statement_is_one_trip_and_its_rows_and_counts_are_kept(
    database: Database, trips: list[str]
) -> None:
    async with database.session() as session:
        await session.execute(text("SELECT 1"))  # the connection is checked out and ready
        trips.clear()
        inserted = await session.execute(
            text("INSERT INTO item (name) VALUES (:name) RETURNING id"), {"name": "a"}
        )
        assert inserted.scalar_one() == 1
        assert trips == ["_run"]
        many = await session.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        assert many.rowcount == 2  # type: ignore[attr-defined]
        changed = await session.execute(text("UPDATE item SET name = name || '!' WHERE id > 1"))
        assert changed.rowcount == 2  # type: ignore[attr-defined]
        rows = await session.execute(text("SELECT id, name FROM item ORDER BY id"))
        assert list(rows.keys()) == ["id", "name"]
        assert rows.all() == [(1, "a"), (2, "b!"), (3, "c!")]
        assert trips == ["_run"] * 4


async def test_an_error_is_sqlalchemys_and_the_connection_goes_on(database: Database) -> None:
    async def insert_twice() -> None:
        async with database.session() as session:
            await session.execute(text("INSERT INTO item (name) VALUES ('same')"))
            await session.execute(text("INSERT INTO item (name) VALUES ('same')"))

    with pytest.raises(IntegrityError):
        await insert_twice()
    async with database.session() as session:
        await session.execute(text("INSERT INTO item (name) VALUES ('same')"))
    async with database.session() as session:
        count = await session.execute(text("SELECT count(*) FROM item"))
        assert count.scalar_one() == 1


async def test_a_streamed_result_still_comes_a_batch_at_a_time(database: Database) -> None:
    async with database.session() as session:
        await session.execute(
            text("INSERT INTO item (name) VALUES (:name)"),
            [{"name": f"n{i}"} for i in range(250)],
        )
    async with database.engine.connect() as connection:
        streamed = await connection.stream(text("SELECT name FROM item ORDER BY id"))
        names = [row.name async for row in streamed]
    assert names == [f"n{i}" for i in range(250)]


async def test_a_committed_unit_of_work_is_not_rolled_back_again(
    database: Database, trips: list[str]
) -> None:
    async with database.session() as session:
        await session.execute(text("INSERT INTO item (name) VALUES ('kept')"))
    assert "commit" in trips
    assert "rollback" not in trips


async def test_a_connection_given_back_in_a_transaction_is_rolled_back(
    database: Database,
) -> None:
    """A transaction SQLAlchemy did not begin (the driver's own, begun by an insert) is still
    rolled back when the connection goes back to the pool: nothing half-done is left, and the
    write lock is free for the next unit of work."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute("INSERT INTO item (name) VALUES ('half done')")
        assert driver.in_transaction
    async with database.session() as session:
        await session.execute(text("INSERT INTO item (name) VALUES ('next')"))
    async with database.session() as session:
        names = await session.execute(text("SELECT name FROM item"))
        assert names.scalars().all() == ["next"]
