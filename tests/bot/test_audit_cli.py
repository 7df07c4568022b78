"""`policybot audit ...` as an administrator or an auditor would run it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, delete, insert, select, update
from sqlmodel import col

from bot.cli.audit import audit
from storage.db import sync_url
from storage.models import AuditEntry, AuditSeal
from tests.bot.conftest import Cli
from tests.bot.test_cli import Ran
from tests.dialogs.test_audit_chain import tampering


def run_audit(cli: Cli, *args: str) -> Ran:
    """The group is invoked on its own, the way `policybot audit` runs it."""
    result = CliRunner().invoke(audit, list(args), env=cli.env, prog_name="policybot audit")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"policybot audit {' '.join(args)} crashed") from result.exception
    return Ran(args, result.exit_code, result.stdout, result.stderr)


def audit_rows(database_url: str) -> list[AuditEntry]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(AuditEntry).order_by(col(AuditEntry.id))).all()
            return [AuditEntry.model_validate(row._mapping) for row in rows]
    finally:
        engine.dispose()


def test_an_intact_log_verifies_and_the_check_is_itself_recorded(
    cli: Cli, database_url: str
) -> None:
    assert cli.run("jobs", "accounts").code == 0
    written = len(audit_rows(database_url))
    assert written > 0

    ran = run_audit(cli, "verify")
    anchor = Path(str(cli.env["POLICYBOT_DATA_DIR"])) / "audit-anchor.jsonl"
    assert (ran.code, ran.out) == (
        0,
        f"The audit log is intact: {written} entries checked.\n"
        f"It reaches chain position {written}, the newest the anchor file {anchor} records.\n",
    )
    [*_, check] = audit_rows(database_url)
    assert (check.action, check.actor_id, check.detail) == (
        "audit.verify",
        "command-line",
        f"intact, {written} checked",
    )

    shown = json.loads(run_audit(cli, "verify", "--json").out)
    assert shown == {
        "ok": True,
        "checked": written + 1,
        "first_broken_entry_id": None,
        "problem": "",
        "unsealed": 0,
        "anchored": written + 1,
        "anchor_unreadable": 0,
    }


def test_an_entry_without_a_seal_is_reported(cli: Cli, database_url: str) -> None:
    """Every entry policybot writes is sealed as it is written: one without a seal was put
    there by someone else, whatever it says."""
    assert cli.run("jobs", "accounts").code == 0
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(AuditEntry).values(
                    at=datetime.now(UTC),
                    school_id="oakfield",
                    actor_id="dana",
                    action="case.view",
                    target_type="case",
                    target_id="case-1",
                    detail="CB-2026-0001 viewed",
                )
            )
    finally:
        engine.dispose()
    slipped = audit_rows(database_url)[-1].id

    ran = run_audit(cli, "verify")
    assert ran.code == 1
    assert ran.out.startswith(
        f"The audit log is NOT intact. Entry #{slipped} has no seal: it was written into the "
        "audit log outside policybot.\n"
    )


def test_a_changed_entry_is_reported_by_number_with_exit_code_1(
    cli: Cli, database_url: str
) -> None:
    assert cli.run("jobs", "accounts").code == 0
    assert run_audit(cli, "verify").code == 0
    victim = audit_rows(database_url)[1].id
    with tampering(database_url) as connection:
        connection.execute(
            update(AuditEntry).where(col(AuditEntry.id) == victim).values(actor_id="someone")
        )

    ran = run_audit(cli, "verify")
    assert ran.code == 1
    assert ran.out == (
        f"The audit log is NOT intact. Entry #{victim} was changed after it was sealed.\n"
        "The entry before it is intact.\n"
    )
    shown = run_audit(cli, "verify", "--json")
    assert shown.code == 1
    assert json.loads(shown.out)["first_broken_entry_id"] == victim
    assert audit_rows(database_url)[-1].detail == f"broken at entry #{victim}, 1 checked before it"


def test_a_removed_seal_is_reported(cli: Cli, database_url: str) -> None:
    assert cli.run("jobs", "accounts").code == 0
    first, second, third = (e.id for e in audit_rows(database_url)[:3])
    with tampering(database_url) as connection:
        connection.execute(delete(AuditSeal).where(col(AuditSeal.entry_id) == second))

    ran = run_audit(cli, "verify")
    assert ran.code == 1
    assert ran.out == (
        f"The audit log is NOT intact. Entries were removed between entry #{first} and entry "
        f"#{third}: chain position 2 is missing.\n"
        "The entry before it is intact.\n"
    )


def test_only_the_dpo_and_headteacher_read_the_log_and_reading_it_is_recorded(
    cli: Cli, tmp_path: Path
) -> None:
    policybot = cli.run
    refused = policybot("audit", "show", "--as", "lee")
    assert refused.code == 3
    assert "Only the data protection officer and the Headteacher" in refused.err
    shown = json.loads(policybot("audit", "show", "--as", "dana", "--json").out)
    # Nothing happened yet but Lee's refused attempt, which is recorded.
    assert [(e["actor"], e["action"], e["target"], e["detail"]) for e in shown] == [
        ("lee", "access.refused", "school:oakfield", "records.view_audit (role)")
    ]
    again = json.loads(policybot("audit", "show", "--as", "ash", "--json").out)
    assert [e["action"] for e in again] == ["audit.view", "access.refused"]
    assert again[0]["actor"] == "dana"
    assert policybot("audit", "export", "--as", "dana", "--out", str(tmp_path / "a")).code == 3
    out = tmp_path / "audit.jsonl"
    exported = policybot("audit", "export", "--as", "ash", "--out", str(out))
    assert exported.code == 0, exported.err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["actor"], e["action"]) for e in lines] == [
        ("dana", "access.refused"),  # the export Dana may not make
        ("ash", "audit.view"),
        ("dana", "audit.view"),
        ("lee", "access.refused"),
    ]
    assert lines[0]["detail"] == "records.export_audit (role)"


def test_removing_the_newest_entries_is_found_against_the_anchor_file(
    cli: Cli, database_url: str
) -> None:
    """The newest entries and their seals, removed together, leave a chain that is whole: only
    a record of its head kept outside the database shows that it once went further."""
    assert cli.run("jobs", "accounts").code == 0
    assert run_audit(cli, "verify").code == 0
    rows = audit_rows(database_url)
    kept, removed = rows[:-3], [e.id for e in rows[-3:]]
    with tampering(database_url) as connection:
        connection.execute(delete(AuditSeal).where(col(AuditSeal.entry_id).in_(removed)))
        connection.execute(delete(AuditEntry).where(col(AuditEntry.id).in_(removed)))
    anchor = Path(str(cli.env["POLICYBOT_DATA_DIR"])) / "audit-anchor.jsonl"
    ran = run_audit(cli, "verify", "--anchor", str(anchor))
    assert ran.code == 1
    assert ran.out.startswith(
        f"The audit log is NOT intact. The anchor file records chain position {len(rows)}, "
    )
    assert f"but the audit log ends at chain position {len(kept)}: " in ran.out
    assert "the newest entries were removed." in ran.out
    # The check itself was recorded after the removal, so the log now ends one further on.
    shown = run_audit(cli, "verify", "--anchor", str(anchor), "--json")
    assert shown.code == 1
    assert f"ends at chain position {len(kept) + 1}: " in json.loads(shown.out)["problem"]
