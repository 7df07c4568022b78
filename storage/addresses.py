"""Remembering where people and channels can be reached on a platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

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


async def any_reference(session: AsyncSession, *, platform: str) -> dict[str, Any] | None:
    """Some saved address on `platform`, for its service URL, tenant and bot: a channel's
    first (where the app is installed for everyone in a team), else anyone's chat; the longest
    unchanged of them."""
    row = (
        await session.execute(
            select(PlatformAddress)
            .where(PlatformAddress.platform == platform)
            .order_by(col(PlatformAddress.kind) != "channel", col(PlatformAddress.updated_at))
            .limit(1)
        )
    ).scalar_one_or_none()
    return dict(row.reference) if row is not None else None


async def channel_references(session: AsyncSession, *, platform: str) -> list[dict[str, Any]]:
    """Every saved channel address on `platform`, the most recently refreshed first."""
    rows = (
        await session.execute(
            select(PlatformAddress)
            .where(PlatformAddress.platform == platform, PlatformAddress.kind == "channel")
            .order_by(col(PlatformAddress.updated_at).desc())
        )
    ).scalars()
    return [dict(row.reference) for row in rows]
