"""The composition root: builds the database, stores, engine and runner from settings.

Nothing is built at import time, so tests and commands each get exactly the runtime they ask for.
The dialogs, their engine and the conversation runner are imported and built when first used:
the server and the terminal chat use them at once, while a command that only reads the database
(`policybot ask --school ID`) starts without them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from dialogs.services.container import Services
from dialogs.services.errors import ConfigError
from dialogs.services.evidence.upload_limits import UploadLimits
from dialogs.services.observer import Observers
from dialogs.services.people.directory import (
    EmailDirectory,
    PlatformDirectory,
    PlatformName,
    StaffDirectory,
)
from dialogs.services.policy.service import PolicySearches
from dialogs.services.privacy.refusals import recorder
from dialogs.services.school.schools import Directory
from storage import migrate
from storage.audit_anchor_file import AnchorFile
from storage.audit_key import AuditKey, AuditKeyFileError, read_key_file, read_or_create_key_file
from storage.audit_sealing import AuditSealing, OtherAuditKey, refuse_another_key
from storage.blobstore import EvidenceStore, LocalBlobStore
from storage.db import Database, is_unavailable
from storage.host_leases import HostLeases
from storage.journal import Journal

if TYPE_CHECKING:
    from dialogs.case_actions import Outcome, UnitOfWork
    from dialogs.conversations import ConversationRunner
    from dialogs.engine import Engine

log = logging.getLogger(__name__)

# The chat platforms, whose replies cross a network that can refuse them for a while: a turn's
# replies there are kept in the outbox until delivered. The terminal shows its replies itself.
KEPT_REPLIES = frozenset({"slack", "teams"})


def utc_now() -> datetime:
    return datetime.now(UTC)


def prepare_database(settings: Settings) -> None:
    """Make the embedded default ready on first start; refuse an out-of-date shared database,
    or one whose audit log is sealed with another key.

    SQLite belongs to this installation, so it is migrated automatically. A PostgreSQL database
    may be shared by several processes, so its upgrade is a deliberate `policybot db upgrade`.
    """
    if settings.uses_embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not migrate.is_up_to_date(settings.database_url):
            migrate.upgrade(settings.database_url)
    else:
        try:
            current = migrate.is_up_to_date(settings.database_url)
        except Exception as exc:
            raise ConfigError(
                f"Cannot reach the database in DATABASE_URL ({type(exc).__name__})."
            ) from exc
        if not current:
            raise ConfigError(
                "The database schema is out of date: run `policybot db upgrade` first."
            )
    # A second machine that made a key of its own would seal a chain nobody could verify.
    try:
        refuse_another_key(settings.database_url, audit_key(settings))
    except OtherAuditKey as exc:
        raise ConfigError(str(exc)) from exc


def audit_key(settings: Settings) -> AuditKey:
    """The key that seals the audit log: POLICYBOT_AUDIT_KEY, else the file that
    POLICYBOT_AUDIT_KEY_FILE names, else the data directory's own file (made on first start,
    so the embedded default runs with one command)."""
    if settings.audit_key is not None:
        return AuditKey(settings.audit_key)
    try:
        if settings.audit_key_file is not None:
            return read_key_file(settings.audit_key_file)
        return read_or_create_key_file(settings.default_audit_key_file)
    except AuditKeyFileError as exc:
        raise ConfigError(f"The audit key cannot be read: {exc}.") from exc
    except OSError as exc:
        raise ConfigError(
            f"The audit key file {settings.default_audit_key_file} cannot be made "
            f"({type(exc).__name__}); set POLICYBOT_AUDIT_KEY."
        ) from exc


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: EvidenceStore
    clock: Callable[[], datetime] = field(default=utc_now)
    policy_searches: PolicySearches = field(default_factory=PolicySearches)
    _background: set[asyncio.Task[object]] = field(default_factory=set, repr=False)
    # Each chat platform's directory of people, as its channel registers it, for the daily
    # sync (bot.jobs.people); a directory reached only inside a turn (Teams) is not here.
    platform_directories: dict[PlatformName, tuple[PlatformDirectory, EmailDirectory | None]] = (
        field(default_factory=dict)
    )
    # Who is told how turns end and how sure policy answers are: the server adds its metrics
    # (bot.observability); commands add nobody.
    observers: Observers = field(default_factory=Observers)

    @cached_property
    def staff(self) -> StaffDirectory:
        """Who is staff: the configuration's people and those learned from Slack and Teams."""
        return StaffDirectory(self.settings.directory)

    @property
    def directory(self) -> Directory:
        """Every school and its people, as they are now (read it afresh for each piece of
        work: people are learned, and leave, while the process runs)."""
        return self.staff.directory

    async def load_people(self) -> None:
        """The people learned in earlier runs (or by other processes), before any work."""
        async with self.db.session() as session:
            await self.staff.load(session)

    async def load_people_when_possible(self, *, every_seconds: float = 15) -> None:
        """`load_people`, tried again while the database is unavailable (the server starts
        all the same, and anyone writing meanwhile is still found: staff_directory looks up
        an account it does not know in the database before anywhere else)."""
        while True:
            try:
                await self.load_people()
                return
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("the people learned so far will be loaded when the database is back")
            await asyncio.sleep(every_seconds)

    def in_background(self, work: Coroutine[Any, Any, object]) -> None:
        """Work the server starts and does not wait for (kept, so it is not collected)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def services(self, session: AsyncSession, now: datetime) -> Services:
        return Services(
            session=session,
            directory=self.directory,
            blobs=self.blobs,
            limits=UploadLimits(
                max_bytes=int(self.settings.evidence.max_upload_mb * 1024 * 1024),
                max_video_bytes=int(self.settings.evidence.max_video_mb * 1024 * 1024),
                max_pixels=self.settings.evidence.max_image_pixels,
            ),
            now=now,
            policy_searches=self.policy_searches,
            observer=self.observers,
        )

    @cached_property
    def engine(self) -> Engine:
        return dialog_engine()

    @cached_property
    def runner(self) -> ConversationRunner:
        from dialogs.conversations import ConversationRunner

        return ConversationRunner(
            db=self.db,
            engine=self.engine,
            services=self.services,
            clock=self.clock,
            journal=self.journal,
            directory=self.staff,
            kept_replies=KEPT_REPLIES,
            observer=self.observers,
        )

    @cached_property
    def journal(self) -> Journal:
        """Inputs kept on disk until their turn is saved (storage.journal), in a folder of
        this machine's or one several hosts share (POLICYBOT_JOURNAL_DIR)."""
        return Journal(
            self.settings.journal_dir, keys=self.settings.keys, host=self.settings.hosts.host_id
        )

    @cached_property
    def leases(self) -> HostLeases | None:
        """This host's lease, by which hosts sharing the journal know it is alive
        (storage.host_leases); None on SQLite, which belongs to one host."""
        if self.db.is_sqlite:
            return None
        hosts = self.settings.hosts
        return HostLeases(self.db, hosts.host_id, lease_seconds=hosts.lease_seconds)

    @property
    def unit_of_work(self) -> UnitOfWork:
        """What a case action opens its own transaction with (dialogs.case_actions)."""
        from dialogs.case_actions import UnitOfWork

        return UnitOfWork(db=self.db, services=self.services, clock=self.clock)

    @overload
    async def case_action(self, *, delivery_id: str, **action: Any) -> Outcome | None: ...
    @overload
    async def case_action(self, **action: Any) -> Outcome: ...
    async def case_action(
        self, *, delivery_id: str | None = None, source: str = "case_action", **action: Any
    ) -> Outcome | None:
        """Perform a handler's case action in its own transaction (dialogs.case_actions.act).

        With a `delivery_id` (claimed under `source`), a delivery already acted on is None and
        changes nothing; the claim is in the same transaction, so a refused action can be sent
        again.
        """
        from dialogs.case_actions import act

        return await act(self.unit_of_work, delivery_id=delivery_id, source=source, **action)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if "runner" in self.__dict__:  # built: its sent replies are forgotten before stopping
            await self.runner.forget_sent()
        await self.db.dispose()


def evidence_store(settings: Settings) -> EvidenceStore:
    """Where evidence is kept: the bucket POLICYBOT_EVIDENCE_S3_BUCKET names, or the data
    directory's own folder (readable by the service's user only)."""
    bucket = settings.evidence_bucket
    if bucket is not None:
        from storage.objectstore import S3BlobStore  # boto3 loads only when it is used

        return S3BlobStore(
            bucket.bucket,
            prefix=bucket.prefix,
            keys=settings.keys,
            endpoint_url=bucket.endpoint,
            region=bucket.region,
        )
    settings.evidence_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.evidence_dir, 0o700)
    return LocalBlobStore(settings.evidence_dir, keys=settings.keys)


def build_runtime(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Runtime:
    db = Database(
        settings.database_url,
        keys=settings.keys,
        audit=AuditSealing(audit_key(settings), AnchorFile(settings.audit_anchor_file), clock),
    )
    db.after_rollback = recorder(db, clock)  # refused attempts are audited (services.refusals)
    return Runtime(
        settings=settings,
        db=db,
        blobs=evidence_store(settings),
        clock=clock,
    )


def dialog_engine() -> Engine:
    """Every dialog the bot runs, in one engine."""
    from dialogs.account_request import AccountReason, AccountRequestDialog
    from dialogs.comment_dialogs import CommentReason, LogComment
    from dialogs.engine import Engine
    from dialogs.other_processes import MediaEnquiry, WebsiteBlock, WebsiteReason
    from dialogs.policy_question import AnswerPolicyQuestion, AskPolicy
    from dialogs.post_actions import PostLink, PostReason
    from dialogs.post_approval import RequestPost
    from dialogs.report_abuse import ReportAbuse
    from dialogs.reporter_answer import ReporterAnswer

    return Engine(
        [
            ReportAbuse(),
            ReporterAnswer(),
            AskPolicy(),
            AnswerPolicyQuestion(),
            RequestPost(),
            PostReason(),
            PostLink(),
            LogComment(),
            CommentReason(),
            MediaEnquiry(),
            WebsiteBlock(),
            WebsiteReason(),
            AccountRequestDialog(),
            AccountReason(),
        ]
    )
