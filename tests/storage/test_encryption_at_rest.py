"""Encryption at rest, as a data protection officer would check it.

What people wrote (a report's description, the names in it, a lead's notes, a draft still being
written, the messages waiting for delivery, the names of evidence files) must not be readable by
anyone who reads the database itself, yet must read back exactly through the bot; a key must be
replaceable without losing a word or a byte of evidence, and without a key the bot must refuse
to show encrypted text rather than show something wrong. Every test runs on SQLite and on
PostgreSQL, and the database is read with plain SQL, as a person with a copy of it would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from dialogs.services.cases.card import CaseVerb
from dialogs.services.errors import ConfigError
from dialogs.services.messages import MessageKind
from dialogs.services.privacy.key_rotation import KeyStatus, RotationResult, rotate, status
from dialogs.services.school.schools import Person as Staff
from dialogs.services.school.schools import School
from storage.blobstore import BlobCorrupted, LocalBlobStore, RotatingBlobStore
from storage.crypto import MARK, KeyMissing, Keyring
from storage.db import sync_url
from storage.models import AuditEntry, Conversation, Evidence, Notification
from tests.conftest import Clock
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, png, text_of

SHOTS = (png("Pat Jones's post"), png("the comments under it"))
FILE_NAMES = ("pat-jones-post.png", "pat-jones-comments.png")
DESCRIPTION = HAPPY_PATH[6]
LINK = HAPPY_PATH[4]
NOTE = "Phoned the Wexford family; they will speak to their son tonight."
DRAFT = "Quentin Blackwood keeps posting my home address on a neighbourhood group."
# Words that appear only in what people wrote (or in a message about it): none of them may be
# found anywhere in the database when a key is configured.
SECRET_WORDS = (
    "useless",  # the description
    "Pat Jones",  # the name of who is responsible
    "facebook.com/groups/123",  # the link
    "Wexford",  # the lead's note
    "Blackwood",  # the draft in progress
    "pat-jones-post",  # an evidence file's name
    "New report of online abuse",  # the alert waiting for the leads
)
# The columns that hold them: with a key, every value in them is marked as encrypted.
ENCRYPTED = {
    "case": ("description", "link", "responsible_name"),
    "case_event": ("text",),
    "conversation": ("state",),
    "evidence": ("original_name",),
    "notification": ("message",),
}
TABLES = (*ENCRYPTED, "audit_entry")


def with_keys(settings: Settings, *keys: bytes) -> Settings:
    """The settings with these keys, the current one first (none: no encryption)."""
    return dataclasses.replace(
        settings, evidence_key=keys[0] if keys else None, previous_keys=tuple(keys[1:])
    )


@asynccontextmanager
async def running(settings: Settings, clock: Clock) -> AsyncIterator[Runtime]:
    """A runtime of its own, as a restarted bot with a changed configuration would have."""
    runtime = build_runtime(settings, clock=clock)
    try:
        yield runtime
    finally:
        await runtime.close()


def oakfield(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


def lead(runtime: Runtime) -> Staff:
    person = oakfield(runtime).person("dana")
    assert person is not None
    return person


async def make_records(runtime: Runtime) -> str:
    """Sam reports abuse with two screenshots, the lead adds a note, and Jo is half way through
    a report of their own: everything the bot keeps that people wrote. Returns the reference."""
    sam = Person(runtime)
    for answer in HAPPY_PATH:
        await sam.say(answer)
    for name, data in zip(FILE_NAMES, SHOTS, strict=True):
        await sam.say("", file(name, data))
    await sam.say("done")
    for answer in AFTER_EVIDENCE:
        await sam.say(answer)
    done = await sam.say("submit")
    assert done[-1].kind is MessageKind.DONE, text_of(done)
    reference = next(f.value for f in done[-1].facts if f.label == "Reference")
    await runtime.case_action(
        school=oakfield(runtime),
        actor=lead(runtime),
        verb=CaseVerb.NOTE,
        reference=reference,
        text=NOTE,
    )
    jo = Person(runtime, person_id="jo")
    for answer in [*HAPPY_PATH[:6], DRAFT]:
        await jo.say(answer)
    return reference


async def read_back(runtime: Runtime, reference: str) -> None:
    """Everything reads back through the bot exactly as it was written."""
    async with runtime.db.session() as session:
        services = runtime.services(session, runtime.clock())
        record = await services.cases.get(reference, school=oakfield(runtime), actor=lead(runtime))
        files = await services.evidence.for_case(record.case.id)
        contents = [await services.evidence.read(f) for f in files]
        draft = (
            await session.execute(select(Conversation).where(Conversation.person_id == "jo"))
        ).scalar_one()
        waiting = (await session.execute(select(Notification))).scalars().all()
    assert record.case.description == DESCRIPTION
    assert record.case.responsible_name == "Pat Jones"
    assert record.case.link == LINK
    assert NOTE in [event.text for event in record.events]
    assert sorted(f.original_name for f in files) == sorted(FILE_NAMES)
    assert sorted(hashlib.sha256(c.content).hexdigest() for c in contents) == sorted(
        hashlib.sha256(s).hexdigest() for s in SHOTS
    )
    assert all(c.intact for c in contents)
    assert DRAFT in json.dumps(draft.state)
    alert = f"New report of online abuse: {reference}"
    assert any(alert in json.dumps(n.message, ensure_ascii=False) for n in waiting)


@contextmanager
def raw_database(settings: Settings) -> Iterator[Engine]:
    """The database as anyone with a copy of it sees it: no keys, no bot."""
    engine = create_engine(sync_url(settings.database_url))
    try:
        yield engine
    finally:
        engine.dispose()


def raw_text(settings: Settings) -> str:
    """Every stored value of the tables that hold what people wrote, as one text."""
    values: list[str] = []
    with raw_database(settings) as engine, engine.connect() as connection:
        for table in TABLES:
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                values.extend(str(value) for value in row if value is not None)
    return "\n".join(values)


def raw_values(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """The stored values of the encrypted columns, as the database has them."""
    found: dict[tuple[str, str], list[str]] = {}
    with raw_database(settings) as engine, engine.connect() as connection:
        for table, columns in ENCRYPTED.items():
            for column in columns:
                query = text(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
                found[table, column] = [row[0] for row in connection.execute(query)]
    return found


def blob_files(settings: Settings) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes() for path in settings.evidence_dir.rglob("*") if path.is_file()
    }


async def rotate_all(runtime: Runtime, **options: Any) -> RotationResult:
    async with AsyncSession(runtime.db.engine, expire_on_commit=False) as session:
        return await rotate(session, runtime.blobs, **options)


async def key_status(runtime: Runtime) -> KeyStatus:
    async with AsyncSession(runtime.db.engine) as session:
        return await status(session, runtime.blobs, runtime.settings.keys)


def count_values(values: dict[tuple[str, str], list[str]]) -> int:
    return sum(len(v) for v in values.values())


# -- with and without a key --------------------------------------------------------------------


async def test_with_a_key_nothing_people_wrote_can_be_read_in_the_database(
    settings: Settings, clock: Clock
) -> None:
    keyed = with_keys(settings, Fernet.generate_key())
    async with running(keyed, clock) as runtime:
        reference = await make_records(runtime)

        stored = raw_text(keyed)
        for words in SECRET_WORDS:
            assert words not in stored, f"{words!r} is readable in the database"
        values = raw_values(keyed)
        for (table, column), found in values.items():
            assert found, f"nothing stored in {table}.{column}"
            assert all(v.startswith(MARK) for v in found), f"{table}.{column} is not encrypted"
        for data in blob_files(keyed).values():
            assert b"\x89PNG" not in data
        await read_back(runtime, reference)


async def test_without_a_key_everything_is_stored_as_it_was_written(
    settings: Settings, clock: Clock
) -> None:
    plain = with_keys(settings)
    async with running(plain, clock) as runtime:
        reference = await make_records(runtime)

        stored = raw_text(plain)
        for words in SECRET_WORDS:
            assert words in stored
        assert MARK not in stored
        assert all(data.startswith(b"\x89PNG") for data in blob_files(plain).values())
        await read_back(runtime, reference)


async def test_encrypted_text_without_its_key_is_refused_with_a_clear_error(
    settings: Settings, clock: Clock
) -> None:
    async with running(with_keys(settings, Fernet.generate_key()), clock) as runtime:
        reference = await make_records(runtime)

    async with running(with_keys(settings), clock) as runtime:
        with pytest.raises(KeyMissing, match="this text is encrypted and no key is configured"):
            await read_back(runtime, reference)
    async with running(with_keys(settings, Fernet.generate_key()), clock) as runtime:
        with pytest.raises(KeyMissing, match="encrypted with a key that is not configured"):
            await read_back(runtime, reference)


# -- replacing a key ---------------------------------------------------------------------------


async def test_after_rotation_only_the_new_key_is_needed(settings: Settings, clock: Clock) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    async with running(with_keys(settings, old), clock) as runtime:
        reference = await make_records(runtime)
    before = raw_values(settings)
    files_before = blob_files(settings)

    async with running(with_keys(settings, new, old), clock) as runtime:
        await read_back(runtime, reference)  # the old key still reads what it wrote
        pending = await key_status(runtime)
        assert pending.older_key_needed
        assert (pending.values.older, pending.values.current) == (count_values(before), 0)
        assert (pending.files.older, pending.files.current) == (2, 0)

        result = await rotate_all(runtime, school_ids=["oakfield"])

        assert (result.values_rotated, result.values_encrypted) == (count_values(before), 0)
        assert (result.files_rotated, result.files_encrypted, result.files_current) == (2, 0, 0)
        assert result.complete
        done = await key_status(runtime)
        assert not done.older_key_needed
        assert (done.values.current, done.files.current) == (count_values(before), 2)

    async with running(with_keys(settings, new), clock) as runtime:
        await read_back(runtime, reference)
        after = await key_status(runtime)
        assert (after.values.older, after.values.unreadable, after.values.plain) == (0, 0, 0)
        assert (after.files.older, after.files.unreadable, after.files.missing) == (0, 0, 0)
        async with runtime.db.session() as session:
            audit = (
                await session.execute(select(AuditEntry).where(AuditEntry.action == "keys.rotate"))
            ).scalar_one()
    assert audit.school_id == "oakfield"
    assert audit.detail.startswith(f"values: {count_values(before)} rotated")
    assert not any(words in audit.detail for words in SECRET_WORDS)

    # Nothing the old key wrote is left: every value and file is new, and the old key reads none.
    after_values = raw_values(settings)
    old_only = Keyring([old])
    for column, values in after_values.items():
        assert len(values) == len(before[column])
        assert not set(values) & set(before[column])
        for value in values:
            with pytest.raises(KeyMissing):
                old_only.decrypt(value)
    files_after = blob_files(settings)
    assert len(files_after) == 2
    assert not set(files_after) & set(files_before)
    for data in files_after.values():
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(data)


async def test_text_and_files_stored_before_a_key_was_set_are_encrypted_by_rotation(
    settings: Settings, clock: Clock
) -> None:
    async with running(with_keys(settings), clock) as runtime:
        reference = await make_records(runtime)
    plain = count_values(raw_values(settings))

    key = Fernet.generate_key()
    async with running(with_keys(settings, key), clock) as runtime:
        await read_back(runtime, reference)  # plain text reads with a key configured
        before = await key_status(runtime)
        assert (before.values.plain, before.files.plain) == (plain, 2)

        result = await rotate_all(runtime)

        assert (result.values_encrypted, result.files_encrypted) == (plain, 2)
        stored = raw_text(settings)
        for words in SECRET_WORDS:
            assert words not in stored
        assert all(v.startswith(MARK) for vs in raw_values(settings).values() for v in vs)
        assert all(b"\x89PNG" not in data for data in blob_files(settings).values())
        async with runtime.db.session() as session:
            files = (await session.execute(select(Evidence))).scalars().all()
        assert [f.encrypted for f in files] == [True, True]
        after = await key_status(runtime)
        assert (after.values.plain, after.files.plain) == (0, 0)
        assert (after.values.current, after.files.current) == (plain, 2)
        await read_back(runtime, reference)
    assert len(blob_files(settings)) == 2  # the plain copies are gone


class StopsAfter:
    """A blob store that fails after moving some files, as a power cut would."""

    def __init__(self, blobs: RotatingBlobStore, moves: int) -> None:
        self._blobs = blobs
        self._moves = moves

    @property
    def encrypts(self) -> bool:
        return self._blobs.encrypts

    async def put(self, data: bytes) -> str:
        return await self._blobs.put(data)

    async def get(self, name: str, *, encrypted: bool) -> bytes:
        return await self._blobs.get(name, encrypted=encrypted)

    async def delete(self, name: str) -> None:
        await self._blobs.delete(name)

    async def key_of(self, name: str, *, encrypted: bool) -> int | None:
        return await self._blobs.key_of(name, encrypted=encrypted)

    async def rotate(self, name: str, *, encrypted: bool) -> str | None:
        if self._moves == 0:
            raise RuntimeError("power cut")
        self._moves -= 1
        return await self._blobs.rotate(name, encrypted=encrypted)


async def test_an_interrupted_rotation_keeps_what_it_did_and_finishes_when_run_again(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    async with running(with_keys(settings, old), clock) as runtime:
        reference = await make_records(runtime)
    total = count_values(raw_values(settings))

    async with running(with_keys(settings, new, old), clock) as runtime:
        # Stopped while rewriting text, after some batches (of one row each) were committed.
        calls = 0
        real_rotate = Keyring.rotate

        def fails_on_the_fourth(keyring: Keyring, stored: str) -> str:
            nonlocal calls
            calls += 1
            if calls == 4:
                raise RuntimeError("power cut")
            return real_rotate(keyring, stored)

        with monkeypatch.context() as patched:
            patched.setattr(Keyring, "rotate", fails_on_the_fourth)
            with pytest.raises(RuntimeError, match="power cut"):
                await rotate_all(runtime, batch=1)
        part = await key_status(runtime)
        assert part.values.current >= 1
        assert part.values.older >= 1
        assert part.values.current + part.values.older == total
        await read_back(runtime, reference)  # half rotated is still whole

        # Stopped again while moving files, after the first one was moved.
        async with AsyncSession(runtime.db.engine, expire_on_commit=False) as session:
            with pytest.raises(RuntimeError, match="power cut"):
                await rotate(session, StopsAfter(runtime.blobs, moves=1), batch=1)
        part = await key_status(runtime)
        assert (part.values.current, part.values.older) == (total, 0)
        assert (part.files.current, part.files.older) == (1, 1)
        await read_back(runtime, reference)

        result = await rotate_all(runtime, batch=1)
        assert (result.files_rotated, result.files_current) == (1, 1)
        assert result.complete
        again = await rotate_all(runtime, batch=2)  # running it once more changes nothing
        assert (again.files_rotated, again.files_current, again.values_encrypted) == (0, 2, 0)
        assert not (await key_status(runtime)).older_key_needed

    async with running(with_keys(settings, new), clock) as runtime:
        await read_back(runtime, reference)
    assert len(blob_files(settings)) == 2  # no copies or originals left behind


async def test_a_value_changed_while_rotating_is_kept_and_still_rotated(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    async with running(with_keys(settings, old), clock) as runtime:
        reference = await make_records(runtime)
    changed = "Changed by the lead while the keys were being rotated."
    real_rotate = Keyring.rotate
    meddled = False

    def meanwhile(keyring: Keyring, stored: str) -> str:
        """The bot saves a new description between rotation reading the case and writing it."""
        nonlocal meddled
        if not meddled:
            meddled = True
            with raw_database(settings) as engine, engine.begin() as connection:
                connection.execute(
                    text('UPDATE "case" SET description = :new'),
                    {"new": Keyring([new]).encrypt(changed)},
                )
        return real_rotate(keyring, stored)

    async with running(with_keys(settings, new, old), clock) as runtime:
        monkeypatch.setattr(Keyring, "rotate", meanwhile)
        await rotate_all(runtime)
        monkeypatch.undo()
        assert meddled
        assert not (await key_status(runtime)).older_key_needed
    async with running(with_keys(settings, new), clock) as runtime, runtime.db.session() as s:
        record = await runtime.services(s, clock()).cases.get(
            reference, school=oakfield(runtime), actor=lead(runtime)
        )
    assert record.case.description == changed
    assert record.case.link == LINK


class DiscardsMeanwhile(StopsAfter):
    """The bot discards the first file (a draft abandoned) just after rotation copied it."""

    def __init__(self, blobs: RotatingBlobStore, settings: Settings) -> None:
        super().__init__(blobs, moves=-1)
        self._settings = settings
        self.discarded: str | None = None

    async def rotate(self, name: str, *, encrypted: bool) -> str | None:
        copy = await self._blobs.rotate(name, encrypted=encrypted)
        if self.discarded is None:
            self.discarded = name
            with raw_database(self._settings) as engine, engine.begin() as connection:
                connection.execute(
                    text("DELETE FROM evidence WHERE stored_name = :name"), {"name": name}
                )
            await self._blobs.delete(name)
        return copy


async def test_a_file_discarded_while_rotating_leaves_no_copy_behind(
    settings: Settings, clock: Clock
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    async with running(with_keys(settings, old), clock) as runtime:
        await make_records(runtime)

    async with running(with_keys(settings, new, old), clock) as runtime:
        blobs = DiscardsMeanwhile(runtime.blobs, settings)
        async with AsyncSession(runtime.db.engine, expire_on_commit=False) as session:
            result = await rotate(session, blobs)
        assert blobs.discarded is not None
        assert (result.files_rotated, result.files_unreadable) == (1, 0)
        found = await key_status(runtime)
        assert (found.files.current, found.files.older, found.files.missing) == (1, 0, 0)
    assert len(blob_files(settings)) == 1  # the discarded file's copy was removed too


async def test_rotation_needs_a_key(settings: Settings, clock: Clock) -> None:
    async with running(with_keys(settings), clock) as runtime:
        with pytest.raises(ConfigError, match="No key is configured"):
            await rotate_all(runtime)


async def test_a_key_missing_from_the_configuration_is_reported_and_nothing_is_lost(
    settings: Settings, clock: Clock
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    async with running(with_keys(settings, old), clock) as runtime:
        reference = await make_records(runtime)
    before = raw_values(settings)
    files_before = blob_files(settings)

    # The old key was removed before rotating: nothing it wrote can be read, so nothing changes.
    async with running(with_keys(settings, new), clock) as runtime:
        found = await key_status(runtime)
        assert (found.values.unreadable, found.files.unreadable) == (count_values(before), 2)
        result = await rotate_all(runtime)
        assert not result.complete
        assert (result.values_unreadable, result.files_unreadable) == (count_values(before), 2)
    assert raw_values(settings) == before
    assert blob_files(settings) == files_before
    async with running(with_keys(settings, new, old), clock) as runtime:
        await read_back(runtime, reference)
        async with runtime.db.session() as session:
            listed = await session.execute(select(Evidence).order_by(col(Evidence.id)))
            assert len(listed.scalars().all()) == 2


async def test_a_missing_evidence_file_is_reported_and_not_hidden(
    settings: Settings, clock: Clock
) -> None:
    async with running(with_keys(settings), clock) as runtime:
        await make_records(runtime)
    lost = next(p for p in settings.evidence_dir.rglob("*") if p.is_file())
    lost.unlink()

    async with running(with_keys(settings, Fernet.generate_key()), clock) as runtime:
        before = await key_status(runtime)
        assert (before.files.plain, before.files.missing) == (1, 1)
        result = await rotate_all(runtime)
        assert (result.files_encrypted, result.files_unreadable) == (1, 1)
        assert not result.complete
        after = await key_status(runtime)
        assert (after.files.current, after.files.missing, after.files.plain) == (1, 1, 0)


async def test_the_blob_store_reads_with_every_key_and_writes_with_the_first(
    tmp_path: Path,
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = LocalBlobStore(tmp_path, key=old)  # the one-key form still works
    name = await before.put(b"evidence")
    both = LocalBlobStore(tmp_path, keys=[new, old])
    assert await both.get(name, encrypted=True) == b"evidence"
    assert await both.key_of(name, encrypted=True) == 1

    copy = await both.rotate(name, encrypted=True)

    assert copy is not None
    assert copy != name
    assert (tmp_path / name[:2] / name).exists()  # the caller deletes it once nothing needs it
    assert await both.key_of(copy, encrypted=True) == 0
    assert await both.rotate(copy, encrypted=True) is None  # already under the current key
    assert await LocalBlobStore(tmp_path, keys=[new]).get(copy, encrypted=True) == b"evidence"
    with pytest.raises(BlobCorrupted):
        await LocalBlobStore(tmp_path, keys=[new]).get(name, encrypted=True)
    with pytest.raises(TypeError):
        LocalBlobStore(tmp_path, key=old, keys=[new])
