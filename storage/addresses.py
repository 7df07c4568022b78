"""Remembering where people and channels can be reached on a platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    row = (
        await session.execute(
            select(PlatformAddress)
            .where(
                PlatformAddress.platform == platform,
                PlatformAddress.kind == kind,
                PlatformAddress.key == key,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        session.add(
            PlatformAddress(
                platform=platform, kind=kind, key=key, reference=reference, updated_at=now
            )
        )
    elif row.reference != reference:
        row.reference, row.updated_at = reference, now


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
