"""Case references such as CB-2026-0007: short enough to say aloud, unique per school and year."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ReferenceCounter

if TYPE_CHECKING:
    from dialogs.services.school.schools import School


async def next_reference(session: AsyncSession, *, school_id: str, prefix: str, year: int) -> str:
    """Hand out the next number atomically, even with several processes on one database."""
    values = {"school_id": school_id, "prefix": prefix, "year": year, "last": 0}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(ReferenceCounter).values(**values).on_conflict_do_nothing())
    result = await session.execute(
        update(ReferenceCounter)
        .where(
            col(ReferenceCounter.school_id) == school_id,
            col(ReferenceCounter.prefix) == prefix,
            col(ReferenceCounter.year) == year,
        )
        .values(last=col(ReferenceCounter.last) + 1)
        .returning(col(ReferenceCounter.last))
    )
    number = result.scalar_one()
    return f"{prefix}-{year}-{number:04d}"


async def school_reference(
    session: AsyncSession, school: School, prefix: str, when: datetime
) -> str:
    """The next reference for a record made at `when`, numbered within the school's own year
    (a comment received late on 31 December in London belongs to that year, whatever UTC says)."""
    year = when.astimezone(school.tz).year
    return await next_reference(session, school_id=school.id, prefix=prefix, year=year)
