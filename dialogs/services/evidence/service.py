"""Receiving evidence: check it by content, keep the original bytes, record its hash on receipt.

Files arrive while something is still a draft, before its author has chosen who may know it was
them (a report may end up anonymous), so the audit log records them under a pseudonym for the
person and the file, never the person's id (see dialogs/services/privacy/pseudonyms.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Unpack

from sqlmodel import col, select

from dialogs.services.errors import NoRoomForFile, UploadRejected
from dialogs.services.evidence.upload_checks import CheckedUpload, UploadLimits, check_upload
from dialogs.services.messages import IncomingFile, StoredFile
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import Audited, AuditedService
from dialogs.services.privacy.pseudonyms import pseudonym
from dialogs.services.school.text import clean_text
from storage.blobstore import BlobCorrupted, BlobStore, StorageFull
from storage.models import Evidence


@dataclass(frozen=True)
class EvidenceContent:
    record: Evidence
    content: bytes

    @property
    def intact(self) -> bool:
        return hashlib.sha256(self.content).hexdigest() == self.record.sha256


class EvidenceService(AuditedService):
    def __init__(self, *, blobs: BlobStore, limits: UploadLimits, **work: Unpack[Audited]) -> None:
        super().__init__(**work)
        self._blobs = blobs
        self._limits = limits

    async def receive(
        self, file: IncomingFile, *, school_id: str, person_id: str, draft_key: str
    ) -> StoredFile:
        """Check a file and keep it for a draft; raises UploadRejected with a kind reason."""
        name = clean_text(file.name)[:200] or "unnamed file"
        size = max(len(file.data), file.size or 0)
        if size > self._limits.largest:
            raise UploadRejected(
                f"“{name[:80]}” is too big to keep ({size / 1_048_576:.1f} MB; the "
                f"limit is {self._limits.largest / 1_048_576:g} MB). Could you send a "
                "smaller file?"
            )
        checked = await asyncio.to_thread(
            check_upload, file.data, original_name=name, limits=self._limits, declared_size=size
        )
        return await self._keep(
            file.data,
            checked,
            name=name,
            school_id=school_id,
            person_id=person_id,
            draft_key=draft_key,
            how="uploaded",
        )

    async def keep_capture(
        self,
        data: bytes,
        *,
        name: str,
        media_type: str,
        extension: str,
        school_id: str,
        person_id: str,
        draft_key: str,
    ) -> StoredFile:
        """Keep something policybot captured itself (e.g. a flagged chat message as JSON).

        It did not come from a person's file, so there is nothing to decode; it is hashed and
        stored exactly like an upload.
        """
        checked = CheckedUpload(
            media_type=media_type,
            extension=extension,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=None,
            height=None,
            pages=None,
        )
        return await self._keep(
            data,
            checked,
            name=name,
            school_id=school_id,
            person_id=person_id,
            draft_key=draft_key,
            how="captured",
        )

    async def _keep(
        self,
        data: bytes,
        checked: CheckedUpload,
        *,
        name: str,
        school_id: str,
        person_id: str,
        draft_key: str,
        how: str,
    ) -> StoredFile:
        """Store the bytes unchanged and record what was known on receipt, with an audit entry."""
        try:
            stored_name = await self._blobs.put(data)
        except StorageFull as exc:
            what = "the message you flagged" if how == "captured" else f"“{name[:80]}”"
            raise NoRoomForFile(what) from exc
        record = Evidence(
            id=uuid.uuid4().hex,
            school_id=school_id,
            draft_key=draft_key,
            uploaded_by=person_id,
            original_name=name,
            stored_name=stored_name,
            media_type=checked.media_type,
            extension=checked.extension,
            size=checked.size,
            sha256=checked.sha256,
            width=checked.width,
            height=checked.height,
            pages=checked.pages,
            encrypted=self._blobs.encrypts,
            received_at=self._now,
        )
        self._session.add(record)
        self._audit.record(
            school_id=school_id,
            actor_id=self._drafter(record),
            action=AuditAction.EVIDENCE_RECEIVE,
            target_type="evidence",
            target_id=record.id,
            detail=f"{how} {checked.media_type}, {checked.size} bytes, "
            f"sha256 {checked.sha256[:16]}…",
        )
        return StoredFile(
            id=record.id,
            name=name,
            size=checked.size,
            media_type=checked.media_type,
            sha256=checked.sha256,
        )

    def _drafter(self, record: Evidence) -> str:
        """Who sent a draft's file, as the audit log names them: the same pseudonym when the
        file is received and if it is discarded, and one that is no other file's."""
        return pseudonym(
            self._session,
            school_id=record.school_id,
            person_id=record.uploaded_by,
            target_type="evidence",
            target_id=record.id,
        )

    async def discard_draft_files(
        self, file_ids: Sequence[str], *, school_id: str, draft_key: str
    ) -> None:
        """Delete files of a draft that will never be sent; submitted evidence is never touched."""
        result = await self._session.execute(
            select(Evidence).where(
                col(Evidence.id).in_(list(file_ids)),
                Evidence.draft_key == draft_key,
                col(Evidence.case_id).is_(None),
                col(Evidence.post_request_id).is_(None),
            )
        )
        for record in result.scalars().all():
            await self._session.delete(record)
            await self._blobs.delete(record.stored_name)
            self._audit.record(
                school_id=school_id,
                actor_id=self._drafter(record),
                action=AuditAction.EVIDENCE_DISCARD,
                target_type="evidence",
                target_id=record.id,
                detail="draft abandoned",
            )

    async def attach_draft_to_case(self, *, draft_key: str, case_id: str) -> list[Evidence]:
        result = await self._session.execute(
            select(Evidence)
            .where(Evidence.draft_key == draft_key, col(Evidence.case_id).is_(None))
            .order_by(col(Evidence.received_at))
        )
        records = list(result.scalars().all())
        for record in records:
            record.case_id = case_id
            record.draft_key = None
        return records

    async def for_case(self, case_id: str) -> list[Evidence]:
        result = await self._session.execute(
            select(Evidence)
            .where(Evidence.case_id == case_id)
            .order_by(col(Evidence.received_at), col(Evidence.id))
        )
        return list(result.scalars().all())

    async def read(self, record: Evidence) -> EvidenceContent:
        """The stored bytes; a file that cannot be decrypted reads as empty and fails `intact`."""
        try:
            content = await self._blobs.get(record.stored_name, encrypted=record.encrypted)
        except (BlobCorrupted, FileNotFoundError):
            content = b""
        return EvidenceContent(record=record, content=content)


@dataclass
class DraftAttachments:
    """The AttachmentSink a dialog uses: files go straight into evidence for this draft."""

    service: EvidenceService
    school_id: str
    person_id: str
    draft_key: str

    async def accept(self, file: IncomingFile) -> StoredFile:
        return await self.service.receive(
            file, school_id=self.school_id, person_id=self.person_id, draft_key=self.draft_key
        )

    async def discard(self, file_ids: Sequence[str]) -> None:
        await self.service.discard_draft_files(
            file_ids, school_id=self.school_id, draft_key=self.draft_key
        )
