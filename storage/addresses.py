"""Remembering where people and channels can be reached on a platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import PlatformAddress


async def remember(
    session: AsyncSession,
    *,
    platform: str,
    kind: str,
    key: str,
    reference: dict[str, Any],
    now: datetime,
) -> None:
    """Insert or refresh in one statement: platforms often send two activities at once (Teams
    sends conversationUpdate and installationUpdate together), and both must succeed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(PlatformAddress).values(
        platform=platform, kind=kind, key=key, reference=reference, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["platform", "kind", "key"],
            set_={"reference": statement.excluded.reference, "updated_at": now},
        )
    )


async def look_up(
    session: AsyncSession, *, platform: str, kind: str, key: str
) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(PlatformAddress).where(
                PlatformAddress.platform == platform,
                PlatformAddress.kind == kind,
                PlatformAddress.key == key,
            )
        )
    ).scalar_one_or_none()
    return row.reference if row else None
