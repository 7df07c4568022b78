"""The tables.

Report contents live only in `case`, `case_event` and the evidence blobs; the audit log and the
notification outbox carry references and short labels, never what a person wrote, so they can be
shown to an administrator or logged without exposing a report.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import EncryptedJSON, EncryptedText, UTCDateTime, utcnow


def _when(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


class Conversation(SQLModel, table=True):
    """Where a person is in a dialog, one row per (channel, user, conversation).

    `version` makes concurrent turns in one conversation safe: a save only succeeds against the
    version it read, so two deliveries can never interleave half of each other's answers.
    """

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "user_key", "conversation_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    user_key: str = Field(max_length=255)
    conversation_key: str = Field(max_length=255)
    school_id: str = Field(max_length=64)
    person_id: str = Field(max_length=64, index=True)
    dialog: str | None = Field(default=None, max_length=64)
    # A draft in progress holds what the person has written so far: encrypted at rest.
    state: dict[str, Any] | None = Field(
        default=None, sa_column=Column(EncryptedJSON, nullable=True)
    )
    version: int = 0
    created_at: datetime = _when()
    updated_at: datetime = _when(index=True)
    reminded_at: datetime | None = _when(nullable=True)


class Case(SQLModel, table=True):
    """A report of cyberbullying or online abuse, and where its handling has got to."""

    __tablename__ = "case"
    __table_args__ = (UniqueConstraint("school_id", "reference"),)

    id: str = Field(primary_key=True, max_length=32)
    school_id: str = Field(max_length=64, index=True)
    reference: str = Field(max_length=32)
    reporter_id: str = Field(max_length=64, index=True)
    origin_channel: str = Field(max_length=32)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    status: str = Field(max_length=32, index=True)
    outcome: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    urgency: str = Field(max_length=16)
    police_consideration: bool = False
    immediate_danger: bool = False
    assigned_to: str | None = Field(default=None, max_length=64)
    affected: str = Field(max_length=32)
    affected_name: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    platform: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    description: str = Field(sa_column=Column(EncryptedText, nullable=False))
    responsible: str = Field(max_length=32)
    responsible_name: str | None = Field(
        default=None, sa_column=Column(EncryptedText, nullable=True)
    )
    nature: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hate_characteristics: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Who may know who reported it: "named" (the safeguarding team), "lead_only" (the lead
    # handling it), or "anonymous" (nobody; the bot relays questions and answers).
    reporter_visibility: str = Field(default="named", max_length=16)
    # People who must not see or handle it: a conflict of interest (the report names them, or
    # the school's configuration says so).
    excluded: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    closed_at: datetime | None = _when(nullable=True)
    # Kept past its retention period while a hold is on (a claim, an investigation).
    legal_hold: bool = False
    hold_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Set when retention removed what identified people, keeping the bare record.
    anonymised_at: datetime | None = _when(nullable=True)


class CaseEvent(SQLModel, table=True):
    """One entry in a case's chronology: what was decided or done, by whom, and why."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=32)
    at: datetime = _when()
    actor_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    text: str = Field(default="", sa_column=Column(EncryptedText, nullable=False))
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)


class Evidence(SQLModel, table=True):
    """A file kept as evidence, with what was recorded the moment it arrived.

    A file belongs to a draft (`draft_key`) until the report is submitted, then to its case.
    """

    __tablename__ = "evidence"

    id: str = Field(primary_key=True, max_length=32)
    school_id: str = Field(max_length=64)
    case_id: str | None = Field(default=None, foreign_key="case.id", index=True, max_length=32)
    post_request_id: str | None = Field(
        default=None, foreign_key="post_request.id", index=True, max_length=32
    )
    draft_key: str | None = Field(default=None, max_length=64, index=True)
    uploaded_by: str = Field(max_length=64)
    original_name: str = Field(sa_column=Column(EncryptedText, nullable=False))
    stored_name: str = Field(max_length=128)
    media_type: str = Field(max_length=64)
    extension: str = Field(max_length=8)
    size: int
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    encrypted: bool = False
    received_at: datetime = _when()


class AuditEntry(SQLModel, table=True):
    """An append-only record of who did what to which record, and when.

    The database itself refuses updates and deletes of these rows (see the first migration).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    school_id: str = Field(max_length=64, index=True)
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    target_type: str = Field(max_length=32)
    target_id: str = Field(max_length=64)
    detail: str = Field(default="", max_length=255)


class ReferenceCounter(SQLModel, table=True):
    """The last number handed out for a (school, prefix, year), so references never repeat."""

    __tablename__ = "reference_counter"

    school_id: str = Field(primary_key=True, max_length=64)
    prefix: str = Field(primary_key=True, max_length=8)
    year: int = Field(primary_key=True)
    last: int = 0


class Notification(SQLModel, table=True):
    """A message for a person or a school's channel, kept until a channel has delivered it.

    Writing it in the same transaction as the change it announces means no alert is lost if a
    platform is down or the process dies; delivery workers send it and mark it. A message with
    a `subject` replaces the earlier post about the same subject (a case card is updated in
    place rather than posted again).
    """

    __tablename__ = "notification"
    # A row's id is never given again once the row is deleted (SQLite would otherwise reuse the
    # highest): a turn's sent replies are remembered by id until their rows are deleted.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64)
    person_id: str | None = Field(default=None, max_length=64, index=True)
    channel_purpose: str | None = Field(default=None, max_length=32)
    subject: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=32)
    # A turn's reply is for the conversation it came from, on that platform only: its buttons
    # answer that conversation's question. None: any platform that reaches the person.
    platform: str | None = Field(default=None, max_length=16)
    message: dict[str, Any] = Field(sa_column=Column(EncryptedJSON, nullable=False))
    created_at: datetime = _when()
    delivered_at: datetime | None = _when(nullable=True, index=True)
    delivered_via: str | None = Field(default=None, max_length=32)
    attempts: int = 0
    next_attempt_at: datetime | None = _when(nullable=True)
    last_error: str | None = Field(default=None, max_length=255)
    # Who is waiting on this message (the reporter of an urgent alert), to be told honestly if it
    # cannot be delivered.
    on_behalf_of: str | None = Field(default=None, max_length=64)
    # When delivery was given up after its last attempt and escalated; it is not tried again,
    # and `policybot deliveries` lists it.
    escalated_at: datetime | None = _when(nullable=True)
    # A turn's reply that its own turn is sending: the process doing so (host:pid), so that
    # if it stops, another process on that host takes the reply over without waiting.
    sender: str | None = Field(default=None, max_length=80)


class ChannelPost(SQLModel, table=True):
    """Where a message about a subject was posted, so later changes update it in place."""

    __tablename__ = "channel_post"
    __table_args__ = (UniqueConstraint("subject", "platform", "channel_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=64)
    platform: str = Field(max_length=32)
    channel_ref: str = Field(max_length=255)
    message_ref: str = Field(max_length=255)
    updated_at: datetime = _when()


class ProcessedEvent(SQLModel, table=True):
    """A platform delivery already acted on, recorded in the same transaction as the action.

    A retried delivery finds its row and is skipped; a delivery whose processing failed left no
    row (the transaction rolled back), so its retry is processed.
    """

    __tablename__ = "processed_event"

    source: str = Field(primary_key=True, max_length=32)
    event_id: str = Field(primary_key=True, max_length=128)
    received_at: datetime = _when(index=True)


class PlatformAddress(SQLModel, table=True):
    """How to reach a person or a channel on a platform later, unprompted.

    Teams only allows a bot to message someone proactively with the conversation reference it
    received when they last talked to it (or installed it); keeping it here, not in memory,
    means a restart never leaves a reporter unreachable.
    """

    __tablename__ = "platform_address"
    __table_args__ = (UniqueConstraint("platform", "kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    kind: str = Field(max_length=16)  # "person" or "channel"
    key: str = Field(max_length=255)
    reference: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when()


class PolicyVersion(SQLModel, table=True):
    """One imported version of a school's policy, kept for the record after it is replaced.

    An answer cites the version it came from, so "what did the policy say when I asked?" can
    always be answered. `text` is the document's words as extracted (enough to parse it again);
    `sections` is the parse that answers were quoted from.
    """

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("school_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    version: int
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source_name: str = Field(sa_column=Column(Text, nullable=False))
    source_format: str = Field(max_length=16)
    sha256: str = Field(max_length=64)
    size: int
    imported_at: datetime = _when()
    imported_by: str = Field(max_length=64)
    effective_from: date | None = Field(default=None, nullable=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(max_length=16)  # how `text` is parsed: "markdown" or "text"
    sections: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    dropped: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PolicyQuestion(SQLModel, table=True):
    """A question someone asked, what the bot answered, and what happened next.

    Questions the policy did not answer, and answers marked unhelpful, are the policy owner's
    list of gaps; a question passed to them carries their answer back to the person who asked.
    """

    __tablename__ = "policy_question"

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    person_id: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=32)
    asked_at: datetime = _when()
    question: str = Field(sa_column=Column(Text, nullable=False))
    policy_version_id: int | None = Field(default=None, foreign_key="policy_version.id")
    confident: bool = False
    citation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    score: float | None = None
    feedback: str | None = Field(default=None, max_length=16)  # "helpful" or "unhelpful"
    feedback_at: datetime | None = _when(nullable=True)
    referred_at: datetime | None = _when(nullable=True, index=True)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str | None = Field(default=None, max_length=64)
    answered_at: datetime | None = _when(nullable=True)


class ConsentImport(SQLModel, table=True):
    """One import of a school's consent register, kept as a record of where consent came from."""

    __tablename__ = "consent_import"

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    source_name: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)
    imported_at: datetime = _when()
    imported_by: str = Field(max_length=64)
    pupils: int
    platforms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PupilConsent(SQLModel, table=True):
    """A pupil's consent to appear in the school's publications, per platform.

    Only the newest import's rows are kept: older consent is out of date, and this is personal
    data about children, so it is not kept longer than it is useful.
    """

    __tablename__ = "pupil_consent"

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    import_id: int = Field(foreign_key="consent_import.id", index=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    match_key: str = Field(max_length=255, index=True)  # the name folded for matching
    year_group: str | None = Field(default=None, max_length=64)
    consent: dict[str, bool] = Field(sa_column=Column(JSON, nullable=False))
    never_publish: bool = False


class PostRequest(SQLModel, table=True):
    """A request to publish a post on official accounts, and where its approval has got to.

    `revision` counts resubmissions after "request changes"; decisions are per revision, so an
    approval of an earlier version never counts for an edited one.
    """

    __tablename__ = "post_request"
    __table_args__ = (UniqueConstraint("school_id", "reference"),)

    id: str = Field(primary_key=True, max_length=32)
    school_id: str = Field(max_length=64, index=True)
    reference: str = Field(max_length=32)
    author_id: str = Field(max_length=64, index=True)
    origin_channel: str = Field(max_length=32)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    status: str = Field(max_length=32, index=True)
    revision: int = 1
    accounts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    pupils_pictured: bool = False
    pupils: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    planned_at: datetime = Field(sa_type=UTCDateTime)
    checks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    approvals_required: int = 1
    published_at: datetime | None = _when(nullable=True)
    published_link: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    published_by: str | None = Field(default=None, max_length=64)
    reminded_at: datetime | None = _when(nullable=True)


class PostDecision(SQLModel, table=True):
    """Who approved, rejected, asked for changes, resubmitted or published a post, and when."""

    __tablename__ = "post_decision"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="post_request.id", index=True, max_length=32)
    revision: int
    at: datetime = _when()
    actor_id: str = Field(max_length=64)
    action: str = Field(max_length=32)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))


class Comment(SQLModel, table=True):
    """A comment on an official account, and how it is being answered within the deadline.

    `next_nudge_at` is when the sweep must next look at it (a nudge, the deadline, the
    escalation) and is cleared once it is answered or there is nothing left to send, so the
    sweep reads only comments that are due and its cost does not grow with those stored.
    `nudge_stage` counts the nudge points already passed; it is advanced in the same
    transaction that queues the nudge, so a restart never sends one twice or loses one.
    """

    __tablename__ = "comment"
    __table_args__ = (
        UniqueConstraint("school_id", "reference"),
        UniqueConstraint("school_id", "source", "external_id"),
    )

    id: str = Field(primary_key=True, max_length=32)
    school_id: str = Field(max_length=64)
    reference: str = Field(max_length=32)
    account_id: str = Field(max_length=64)
    source: str = Field(max_length=16)
    external_id: str = Field(max_length=200)
    author: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(sa_type=UTCDateTime)
    logged_at: datetime = _when()
    logged_by: str | None = Field(default=None, max_length=64)
    deadline_minutes: int | None = None  # None: this account has no deadline
    clock_start: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = _when(nullable=True)
    status: str = Field(max_length=16, index=True)
    handled_at: datetime | None = _when(nullable=True)
    handled_by: str | None = Field(default=None, max_length=64)
    first_response_at: datetime | None = _when(nullable=True)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reported_by: str | None = Field(default=None, max_length=64)  # reported as abuse by
    nudge_stage: int = 0
    next_nudge_at: datetime | None = _when(nullable=True, index=True)
    breached: bool = False


class SchoolClosure(SQLModel, table=True):
    """Days a school is closed, imported from its term dates (config closures add to these)."""

    __tablename__ = "school_closure"

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    first: date
    last: date
    name: str = Field(default="", max_length=120)
    source: str = Field(default="", max_length=200)
    imported_at: datetime = _when()
    imported_by: str = Field(max_length=64)


class DigestSent(SQLModel, table=True):
    """A periodic summary already sent, so a restart or a second process never sends it again."""

    __tablename__ = "digest_sent"

    school_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=32)
    period: str = Field(primary_key=True, max_length=32)
    sent_at: datetime = _when()


class AccountRequest(SQLModel, table=True):
    """A business case for a new official account, and the senior leaders' decision on it."""

    __tablename__ = "account_request"
    __table_args__ = (UniqueConstraint("school_id", "reference"),)

    id: str = Field(primary_key=True, max_length=32)
    school_id: str = Field(max_length=64, index=True)
    reference: str = Field(max_length=32)
    requester_id: str = Field(max_length=64)
    created_at: datetime = _when()
    status: str = Field(max_length=16, index=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    platform: str = Field(max_length=32)
    aim: str = Field(sa_column=Column(Text, nullable=False))
    audience: str = Field(sa_column=Column(Text, nullable=False))
    promotion: str = Field(sa_column=Column(Text, nullable=False))
    runners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visibility: str = Field(max_length=16)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = _when(nullable=True)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RegisteredAccount(SQLModel, table=True):
    """An official account in the school's register, recorded once it has been set up."""

    __tablename__ = "registered_account"
    __table_args__ = (UniqueConstraint("school_id", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    account_id: str = Field(max_length=64)
    name: str = Field(sa_column=Column(Text, nullable=False))
    platform: str = Field(max_length=32)
    handle: str = Field(max_length=200)
    link: str = Field(sa_column=Column(Text, nullable=False))
    owners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visibility: str = Field(max_length=16)
    request_id: str | None = Field(default=None, max_length=32)
    recorded_at: datetime = _when()
    recorded_by: str = Field(max_length=64)
    # Whether comments there are answered within the school's deadline at all, and, if this
    # account has its own, how many working hours that deadline is.
    comment_deadlines: bool = True
    comment_deadline_hours: float | None = None


class RegisterVersion(SQLModel, table=True):
    """A token that changes whenever a school's register of accounts does, set by the
    database's own triggers on registered_account (migration 0017) whoever writes it (this
    server, another, a command, SQL by hand), never by the code. Read with each turn's
    conversation, it spares the turn reading the register when nothing changed
    (dialogs.services.accounts.register). No row: the school has never had an account recorded."""

    __tablename__ = "register_version"

    school_id: str = Field(max_length=64, primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))


class AccountCheck(SQLModel, table=True):
    """One round of the yearly check on an official account: its owners are asked whether
    they still run it and hold its credentials safely; what was flagged to the senior leaders
    is kept so each concern is raised once a round."""

    __tablename__ = "account_check"
    __table_args__ = (UniqueConstraint("school_id", "account_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    account_id: str = Field(max_length=64)
    started_at: datetime = _when()
    asked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flagged: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    closed_at: datetime | None = _when(nullable=True)


class OwnerAnswer(SQLModel, table=True):
    """An owner's answer in a round of the yearly check; the latest answer a person gave about
    an account decides whether they still count as one of its owners."""

    __tablename__ = "owner_answer"
    __table_args__ = (UniqueConstraint("check_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="account_check.id", index=True)
    school_id: str = Field(max_length=64, index=True)
    account_id: str = Field(max_length=64)
    person_id: str = Field(max_length=64)
    answered_at: datetime = _when()
    still_runs: bool
    credentials_safe: bool


class WebsiteReport(SQLModel, table=True):
    """Inappropriate content seen on school equipment, and IT's answer: blocked, or not and why.

    Kept so the request survives until someone in IT answers it, and the member of staff who
    reported it is told the outcome.
    """

    __tablename__ = "website_report"
    __table_args__ = (UniqueConstraint("school_id", "reference"),)

    id: str = Field(primary_key=True, max_length=32)
    school_id: str = Field(max_length=64, index=True)
    reference: str = Field(max_length=32)
    reporter_id: str = Field(max_length=64)
    created_at: datetime = _when()
    address: str = Field(sa_column=Column(Text, nullable=False))
    seen_at: datetime = Field(sa_type=UTCDateTime)
    equipment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    what: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(max_length=16, index=True)
    handled_by: str | None = Field(default=None, max_length=64)
    handled_at: datetime | None = _when(nullable=True)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuditSeal(SQLModel, table=True):
    """The audit log's chain, one row per sealed entry.

    Each seal's hash is an HMAC, under a key the database does not hold, over its entry's
    content and the hash of the seal before it, so a changed, removed or inserted entry breaks
    the chain from that point on. Entries are sealed in the transaction that writes them, in
    the order those transactions commit (storage.audit_sealing). Seals before the position
    recorded in `audit_keying` were made by earlier versions, as plain SHA-256 hashes.
    """

    __tablename__ = "audit_seal"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    entry_id: int = Field(foreign_key="audit_entry.id", unique=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    sealed_at: datetime = _when()


class AuditAnchor(SQLModel, table=True):
    """Where the chain starts again after entries past their retention period were removed:
    the last removed seal's position and hash, so the rest can still be verified.

    `mac` is the audit key's HMAC over the rest of the row, so a record of a removal cannot be
    made without the key; rows from before the key (see AuditKeying) have none.
    """

    __tablename__ = "audit_anchor"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    removed_through_seq: int
    last_hash: str = Field(max_length=64)
    removed: int
    actor_id: str = Field(max_length=64)
    mac: str | None = Field(default=None, max_length=64)


class AuditKeying(SQLModel, table=True):
    """Where the keyed chain begins: seals from `keyed_from_seq` on are HMACs under the key
    named `key_id`; those before it are the SHA-256 seals of earlier versions, from the chain's
    start as it was then (after `start_through_seq`, whose hash was `start_hash`). Written once,
    by the first transaction that seals with a key, and sealed itself by `mac`."""

    __tablename__ = "audit_keying"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    keyed_from_seq: int
    start_through_seq: int
    start_hash: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    mac: str = Field(max_length=64)


class AuditPruning(SQLModel, table=True):
    """Present only inside the transaction that removes audit entries past retention: the
    append-only triggers on the audit tables let rows go only while a row is here, and no
    other transaction ever sees one. Anyone who may write here can remove entries, so on
    PostgreSQL only the owner may (retention goes through its `audit_prune` function), and
    removals are proven by the key, not by this row (see AuditAnchor)."""

    __tablename__ = "audit_pruning"

    id: int | None = Field(default=None, primary_key=True)


class StaffMember(SQLModel, table=True):
    """A member of staff learned from Slack or Teams when they first wrote to the bot (or by
    `policybot people sync`), so nobody has to copy their platform id into the configuration.

    One row per person, whichever platforms they use: the platforms' verified email joins a
    Slack account and a Teams account into one person, with one history. A person listed in the
    configuration by email gets a row too, which carries their platform ids. A leaver's row
    stays (their records are kept by rule) with `left_at` set, so they are refused and no
    alert is meant for them.
    """

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("school_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: str = Field(max_length=64, index=True)
    person_id: str = Field(max_length=64)
    name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254, index=True)
    # The Slack member id ("U…") and the Microsoft Entra object id: each one person's.
    slack_user_id: str | None = Field(default=None, max_length=32, unique=True)
    teams_user_id: str | None = Field(default=None, max_length=64, unique=True)
    learned_at: datetime = _when()
    # When the platform last said the account is still a member (see staff_directory).
    checked_at: datetime = _when()
    left_at: datetime | None = _when(nullable=True)


class HeldMessage(SQLModel, table=True):
    """A message from someone the bot could not yet take as staff (their email is at no
    school's domain, or their platform could not be asked), kept so that nothing they wrote is
    lost: it is taken, in order, as soon as they are known. Encrypted at rest, like a draft."""

    __tablename__ = "held_message"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    user_id: str = Field(max_length=64, index=True)
    conversation: str = Field(max_length=255)  # where they wrote: the DM to answer in
    # The platform's id for the delivery, so a delivery sent again is held once.
    delivery_id: str | None = Field(default=None, max_length=128, unique=True)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    files: list[Any] | None = Field(default=None, sa_column=Column(EncryptedJSON, nullable=True))
    received_at: datetime = _when()


class HostLease(SQLModel, table=True):
    """A server host saying it is alive, renewed every third of its lease. Several hosts that
    share the inbound journal (storage.journal) leave one another's entries alone while the
    writer's lease runs; once it has run out, the host is gone and another takes them over
    (storage.host_leases). Times are the database's own, so hosts' clocks need not agree."""

    __tablename__ = "host_lease"

    host_id: str = Field(primary_key=True, max_length=100)
    renewed_at: datetime = _when()
    expires_at: datetime = _when(index=True)


class JournalAdoption(SQLModel, table=True):
    """A journal entry of a host whose lease ran out, claimed by the host that takes it over:
    the primary key lets exactly one host claim it, however many look at once."""

    __tablename__ = "journal_adoption"

    entry: str = Field(primary_key=True, max_length=255)
    host_id: str = Field(max_length=100)
    adopted_at: datetime = _when(index=True)
