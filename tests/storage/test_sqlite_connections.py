"""SQLite in production: every connection waits for a writer, and the file is in WAL mode.

The busy timeout belongs to a connection, so every connection sets it, first, before anything
that could meet another process's lock. WAL belongs to the file: the first connection that
finds it in another mode switches it, and later ones leave it alone (switching needs the file
to itself, which a busy server would not give).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from storage import migrate
from storage.db import Database, prepare_sqlite_connection


def _traced(path: Path | str) -> tuple[sqlite3.Connection, list[str]]:
    connection = sqlite3.connect(path, isolation_level=None)
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    return connection, statements


def test_the_busy_timeout_is_set_first_and_wal_only_when_the_file_is_not_in_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policybot.sqlite3"
    first, first_statements = _traced(path)
    prepare_sqlite_connection(first, 7_000)
    second, second_statements = _traced(path)
    prepare_sqlite_connection(second, 7_000)
    try:
        assert first_statements[0] == "PRAGMA busy_timeout=7000"
        assert "PRAGMA journal_mode=WAL" in first_statements
        assert second_statements[0] == "PRAGMA busy_timeout=7000"
        assert "PRAGMA journal_mode=WAL" not in second_statements
        for connection in (first, second):
            assert connection.execute("PRAGMA busy_timeout").fetchone() == (7_000,)
            assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        first.close()
        second.close()


def test_an_in_memory_database_keeps_its_own_mode() -> None:
    connection, statements = _traced(":memory:")
    try:
        prepare_sqlite_connection(connection, 1_000)
        assert "PRAGMA journal_mode=WAL" not in statements
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("memory",)
    finally:
        connection.close()


def test_a_new_connection_starts_while_another_process_writes(tmp_path: Path) -> None:
    """A server's connections open (and read) while `policybot` in another process holds the
    write lock: the file is already in WAL, so nothing needs the file to itself."""
    url = f"sqlite:///{tmp_path / 'policybot.sqlite3'}"
    migrate.upgrade(url)  # the migration's connection switched the new file to WAL
    writer = sqlite3.connect(tmp_path / "policybot.sqlite3", isolation_level=None, timeout=0)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM alembic_version WHERE version_num = 'none'")
        assert migrate.is_up_to_date(url)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_every_connection_of_the_server_has_the_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'policybot.sqlite3'}", busy_timeout_ms=4_321)
    try:
        async with db.engine.connect() as one, db.engine.connect() as two:
            for connection in (one, two):
                assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 4_321
                assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
                assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await db.dispose()
