"""The anchor file: the audit chain's head, appended after every commit that sealed entries,
and what comparing the chain with it finds that the chain alone cannot."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update
from sqlmodel import col

from bot.config import Settings
from bot.runtime import Runtime
from dialogs.services.privacy.audit_chain import AuditChain, EntryContent, Verification, seal_hash
from storage.audit_anchor_file import AnchorFile
from storage.audit_sealing import retention_payload
from storage.models import AuditAnchor, AuditEntry, AuditSeal
from tests.conftest import Clock
from tests.dialogs.test_audit_chain import (
    LAST_YEAR,
    add_entries,
    all_of,
    key_of,
    prune,
    sealed_log,
    seals,
    tampering,
    verify,
)
from tests.dialogs.test_audit_sealing import failed_turn


def anchor_of(settings: Settings) -> AnchorFile:
    return AnchorFile(settings.audit_anchor_file)


def lines(settings: Settings) -> list[dict[str, object]]:
    text = settings.audit_anchor_file.read_text()
    return [json.loads(line) for line in text.splitlines()]


async def verify_against(runtime: Runtime, anchor: AnchorFile) -> Verification:
    async with runtime.db.session() as session:
        return await AuditChain(session, runtime.clock()).verify(anchor)


async def test_each_commit_that_seals_appends_the_new_head(
    runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    await add_entries(runtime, 3)
    await add_entries(runtime, 1)
    await add_entries(runtime, 2)

    chain = await seals(runtime)
    at = clock().isoformat()
    assert lines(settings) == [
        {"kind": "head", "seq": 3, "hash": chain[2].hash, "at": at},
        {"kind": "head", "seq": 4, "hash": chain[3].hash, "at": at},
        {"kind": "head", "seq": 6, "hash": chain[5].hash, "at": at},
    ]
    assert settings.audit_anchor_file.stat().st_mode & 0o777 == 0o600
    assert await verify_against(runtime, anchor_of(settings)) == Verification(
        True, 6, None, "", 0, anchored=6
    )


async def test_a_rolled_back_transaction_leaves_no_head(
    runtime: Runtime, settings: Settings
) -> None:
    """A head written before the commit, and then rolled back, would look like entries
    removed."""
    await add_entries(runtime, 2)
    before = settings.audit_anchor_file.read_text()
    with pytest.raises(RuntimeError, match="the turn failed"):
        await failed_turn(runtime, "case-x")
    assert settings.audit_anchor_file.read_text() == before
    assert (await verify_against(runtime, anchor_of(settings))).ok


async def test_a_chain_rewritten_by_someone_holding_the_key_is_found(
    runtime: Runtime, settings: Settings
) -> None:
    """With the key, every seal from the change on can be made again, and the chain alone
    verifies; the heads kept outside the database were made before."""
    chain = await sealed_log(runtime)  # heads at positions 5 and 10
    victim = chain[3]
    with tampering(settings.database_url) as connection:
        connection.execute(
            update(AuditEntry).where(col(AuditEntry.id) == victim.entry_id).values(actor_id="sam")
        )
        prev_hash = victim.prev_hash
        for seal in chain[3:]:
            row = connection.execute(
                select(AuditEntry.__table__).where(  # type: ignore[attr-defined]
                    col(AuditEntry.id) == seal.entry_id
                )
            ).one()
            content = EntryContent(
                **{k: getattr(row, k) for k in EntryContent.__dataclass_fields__}
            )
            digest = seal_hash(key_of(runtime), prev_hash, seal.seq, content)
            connection.execute(
                update(AuditSeal)
                .where(col(AuditSeal.seq) == seal.seq)
                .values(prev_hash=prev_hash, hash=digest)
            )
            prev_hash = digest
    assert (await verify(runtime)).ok

    result = await verify_against(runtime, anchor_of(settings))
    assert not result.ok
    assert result.first_broken_entry_id == chain[4].entry_id
    assert result.problem.startswith(
        f"Entry #{chain[4].entry_id} at chain position 5 is not the one the anchor file "
        "recorded there on "
    )
    assert result.problem.endswith(": the chain was rewritten from there or before.")


async def test_a_record_of_retention_replaced_with_the_key_is_found(
    runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    """Someone holding the key removes more than retention did and records it as retention,
    with a proper seal: the chain alone verifies, but the file kept what retention removed."""
    await add_entries(runtime, 3, at=LAST_YEAR)
    await add_entries(runtime, 4)
    assert await prune(runtime, datetime(2025, 6, 1, tzinfo=UTC)) == 3
    chain = await seals(runtime)
    assert chain[0].seq == 4
    with tampering(settings.database_url) as connection:
        connection.execute(delete(AuditAnchor))
        connection.execute(delete(AuditSeal).where(col(AuditSeal.seq) <= 5))
        connection.execute(
            delete(AuditEntry).where(col(AuditEntry.id).in_([s.entry_id for s in chain[:2]]))
        )
        payload = retention_payload(
            through=5, last_hash=chain[1].hash, removed=5, at=clock(), actor_id="policybot"
        )
        connection.execute(
            AuditAnchor.__table__.insert().values(  # type: ignore[attr-defined]
                at=clock(),
                removed_through_seq=5,
                last_hash=chain[1].hash,
                removed=5,
                actor_id="policybot",
                mac=key_of(runtime).mac(payload),
            )
        )
    assert (await verify(runtime)).ok
    result = await verify_against(runtime, anchor_of(settings))
    assert not result.ok
    assert result.problem == (
        "The anchor file records retention removing chain positions up to 3 on "
        f"{clock():%d/%m/%Y %H:%M} UTC, but the audit log no longer holds that record: it was "
        "removed or replaced."
    )


async def test_retention_is_recorded_and_a_copy_kept_earlier_still_agrees(
    runtime: Runtime, settings: Settings, clock: Clock
) -> None:
    """A copy of the file taken to another machine lags behind: what happened after it was
    taken is not held against the log."""
    await add_entries(runtime, 3, at=LAST_YEAR)
    await add_entries(runtime, 2)
    copy = settings.audit_anchor_file.with_name("copy.jsonl")
    shutil.copyfile(settings.audit_anchor_file, copy)

    clock.advance(days=1)
    assert await prune(runtime, datetime(2025, 6, 1, tzinfo=UTC)) == 3
    [record] = await all_of(runtime, AuditAnchor, col(AuditAnchor.id))
    retention = [line for line in lines(settings) if line["kind"] == "retention"]
    assert retention == [
        {
            "kind": "retention",
            "through": 3,
            "last_hash": record.last_hash,
            "removed": 3,
            "at": clock().isoformat(),
            "mac": record.mac,
        }
    ]
    assert (await verify_against(runtime, anchor_of(settings))).ok
    assert (await verify_against(runtime, AnchorFile(copy))).ok


async def test_a_line_cut_short_is_left_out_and_counted(
    runtime: Runtime, settings: Settings
) -> None:
    await add_entries(runtime, 2)
    with settings.audit_anchor_file.open("a") as handle:
        handle.write('{"kind":"head","seq":9')  # the machine stopped mid-write
    result = await verify_against(runtime, anchor_of(settings))
    assert (result.ok, result.anchored, result.anchor_unreadable) == (True, 2, 1)
    await add_entries(runtime, 1)  # the next head starts a line of its own
    result = await verify_against(runtime, anchor_of(settings))
    assert (result.ok, result.anchored, result.anchor_unreadable) == (True, 3, 1)
