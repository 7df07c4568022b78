"""What every stateful service of a unit of work is given: its session, the moment the work
happens, the audit log every change it makes is recorded in, and (for those that tell people
things) the notifier.

Written once here so that a service declares only what it needs beyond that, and the container
(dialogs.services.container) hands the same unit of work to every service it builds.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.services.notifier import Notifier
from dialogs.services.privacy.audit import AuditLog


class Audited(TypedDict):
    session: AsyncSession
    audit: AuditLog
    now: datetime


class Notifying(Audited):
    notifier: Notifier


class AuditedService:
    """A service whose changes are made in one unit of work and audited in it."""

    def __init__(self, **work: Unpack[Audited]) -> None:
        self._session = work["session"]
        self._audit = work["audit"]
        self._now = work["now"]


class NotifyingService(AuditedService):
    """An audited service that also tells people what happened (through the outbox)."""

    def __init__(self, **work: Unpack[Notifying]) -> None:
        super().__init__(session=work["session"], audit=work["audit"], now=work["now"])
        self._notifier = work["notifier"]
