"""Recording platform deliveries already acted on, inside the acting transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ProcessedEvent

_events = cast(Table, ProcessedEvent.__table__)  # type: ignore[attr-defined]


def _claiming(insert: Any) -> Any:
    """The claim as one statement built once, on the table rather than the mapped class: it
    is made every turn, and building it anew (and the ORM's bulk insert around it) cost more
    than running it."""
    return (
        insert(_events)
        .values(
            source=bindparam("claim_source"),
            event_id=bindparam("claim_event_id"),
            received_at=bindparam("claim_received_at"),
        )
        .on_conflict_do_nothing()
        .returning(_events.c.source)
    )


_CLAIM = {"postgresql": _claiming(postgresql.insert), "sqlite": _claiming(sqlite.insert)}


async def claim(session: AsyncSession, *, source: str, event_id: str, now: datetime) -> bool:
    """True the first time this delivery is seen; False for a retry of one already handled.

    Insert-or-ignore never raises, so the caller's transaction stays usable either way.
    """
    statement = _CLAIM[session.get_bind().dialect.name]
    result = await session.execute(
        statement,
        {"claim_source": source, "claim_event_id": event_id[:128], "claim_received_at": now},
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
