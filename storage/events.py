"""Recording platform deliveries already acted on, inside the acting transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ProcessedEvent


async def claim(session: AsyncSession, *, source: str, event_id: str, now: datetime) -> bool:
    """True the first time this delivery is seen; False for a retry of one already handled.

    Insert-or-ignore never raises, so the caller's transaction stays usable either way.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(ProcessedEvent)
        .values(source=source, event_id=event_id[:128], received_at=now)
        .on_conflict_do_nothing()
        .returning(col(ProcessedEvent.source))
    )
    return result.first() is not None


# Long after any platform would send a delivery again (Slack retries within minutes, and refuses
# signatures over five minutes old) and after any journaled input could still be taken again.
KEEP_PROCESSED_DAYS = 30


async def forget_before(session: AsyncSession, before: datetime) -> int:
    """Remove the records of deliveries handled before `before`: one is written per turn, so
    without this the table would only grow."""
    result = await session.execute(
        delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
