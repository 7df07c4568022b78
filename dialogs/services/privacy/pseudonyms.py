"""Pseudonyms in the audit log, for what people did when the school may not know it was them.

The audit log is read by the DPO and the Headteacher, and it outlives every report. An entry
naming the person who uploaded a screenshot a minute before an anonymous report arrived would
undo the anonymity, so such entries name a pseudonym instead: a keyed hash (HMAC-SHA256, with a
key derived from POLICYBOT_EVIDENCE_KEY, which the database does not hold) of the school, the
person and the record the entry is about.

Because the record is part of it, a pseudonym is the same on every entry about one record (a
file received, then discarded; a report made, then answered about) and different for every
other record, so pseudonyms never link one person's drafts or reports together. Nobody can
tell whose a pseudonym is without the key; with it, the subject access export checks whether
an entry is the person's (`is_theirs`). Without a key there is nothing to derive one from, and
the pseudonym is random: nobody can ever resolve it.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import Keyring
from storage.models import AuditEntry
from storage.types import keyring_of

PREFIX = "pseudonym-"
_DIGITS = 16  # 64 bits of the HMAC: no collisions in a school's lifetime, and short to read


def _keyring(session: AsyncSession) -> Keyring | None:
    return keyring_of(session.get_bind().dialect)


def _subject(school_id: str, person_id: str, target_type: str, target_id: str) -> str:
    return "\x1f".join((school_id, person_id, target_type, target_id))


def pseudonym(
    session: AsyncSession, *, school_id: str, person_id: str, target_type: str, target_id: str
) -> str:
    """The audit log's name for `person_id` in entries about one record."""
    keyring = _keyring(session)
    if keyring is None:
        return PREFIX + secrets.token_hex(_DIGITS // 2)
    digest = keyring.pseudonym(_subject(school_id, person_id, target_type, target_id))
    return PREFIX + digest[:_DIGITS]


def is_pseudonym(actor_id: str) -> bool:
    return actor_id.startswith(PREFIX)


def is_theirs(session: AsyncSession, entry: AuditEntry, person_id: str) -> bool:
    """Whether an entry's pseudonym stands for `person_id` (under any configured key)."""
    keyring = _keyring(session)
    if keyring is None or not is_pseudonym(entry.actor_id):
        return False
    given = entry.actor_id[len(PREFIX) :]
    subject = _subject(entry.school_id, person_id, entry.target_type, entry.target_id)
    return any(hmac.compare_digest(given, d[:_DIGITS]) for d in keyring.pseudonyms(subject))
