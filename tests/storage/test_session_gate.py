"""SQLite transactions of one process take turns; PostgreSQL's run side by side.

SQLite has one writer, and its busy handler waits in sleeps of up to 100 ms, so transactions
of the same process that meet there queue behind each other's sleeps. Database.session makes
them wait in order instead, and lets a session opened inside another (by the same task) straight
in, so nesting cannot deadlock.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import Database


async def test_sessions_take_turns_on_sqlite_and_overlap_on_postgresql(database_url: str) -> None:
    db = Database(database_url)
    first_inside, release = asyncio.Event(), asyncio.Event()
    entered: list[str] = []

    async def first() -> None:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            entered.append("first")
            first_inside.set()
            await release.wait()

    async def second() -> None:
        await first_inside.wait()
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            entered.append("second")

    try:
        holder = asyncio.create_task(first())
        other = asyncio.create_task(second())
        await first_inside.wait()
        await asyncio.sleep(0.2)
        if db.is_sqlite:
            assert entered == ["first"]  # the second waits for the first to finish
        else:
            assert entered == ["first", "second"]
        release.set()
        await asyncio.wait_for(asyncio.gather(holder, other), 5)
        assert entered == ["first", "second"]
    finally:
        await db.dispose()


async def test_a_session_opened_inside_another_by_the_same_task_does_not_wait(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:

        async def nested() -> int:
            async with db.session() as outer:
                await outer.execute(text("SELECT 1"))
                async with db.session() as inner:
                    return int((await inner.execute(text("SELECT 2"))).scalar_one())

        assert await asyncio.wait_for(nested(), 5) == 2
    finally:
        await db.dispose()
