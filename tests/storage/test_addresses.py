"""Platform addresses: kept once per person or channel, whatever the timing."""

from __future__ import annotations


async def test_remembering_the_same_address_twice_at_once_succeeds(database_url: str) -> None:
    import asyncio
    from datetime import UTC, datetime

    from storage import addresses
    from storage.db import Database

    db = Database(database_url)
    now = datetime.now(UTC)

    async def remember(reference: dict[str, str]) -> None:
        async with db.session() as session:
            await addresses.remember(
                session, platform="teams", kind="person", key="u1", reference=reference, now=now
            )

    try:
        await asyncio.gather(remember({"a": "1"}), remember({"a": "2"}))
        async with db.session() as session:
            found = await addresses.look_up(session, platform="teams", kind="person", key="u1")
    finally:
        await db.dispose()
    assert found in ({"a": "1"}, {"a": "2"})
