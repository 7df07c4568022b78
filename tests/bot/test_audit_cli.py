"""`policybot audit ...` as an administrator or an auditor would run it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, delete, select, update
from sqlmodel import col

from bot.audit_cli import audit
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
    assert (ran.code, ran.out) == (0, f"The audit log is intact: {written} entries checked.\n")
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
    }


def test_sealing_seals_what_is_new_once(cli: Cli) -> None:
    assert run_audit(cli, "seal").out == "Sealed 0 entries.\n"
    assert cli.run("jobs", "accounts").code == 0
    first = run_audit(cli, "seal")
    assert first.code == 0
    assert first.out.startswith("Sealed ")
    assert first.out != "Sealed 0 entries.\n"
    assert run_audit(cli, "seal").out == "Sealed 0 entries.\n"


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


def test_a_removed_seal_is_reported_though_its_entry_is_sealed_again(
    cli: Cli, database_url: str
) -> None:
    assert cli.run("jobs", "accounts").code == 0
    assert run_audit(cli, "seal").code == 0
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
