"""`policybot backup` and `policybot restore`, as an administrator would use them.

An installation is built as the school would have it (reports filed with screenshots through
the chat, a case acknowledged and noted, term dates imported, a comment received), backed up,
wiped (a new empty database and an empty data directory), and restored; every table is then
compared row by row (ciphertext as stored), every evidence file byte by byte, and `policybot
audit verify` must pass. A backup from SQLite restores into PostgreSQL and the other way round.
Every refusal leaves the installation exactly as empty as it was.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import secrets
import sqlite3
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from bot.config import Settings, load_settings
from bot.runtime import build_runtime
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.privacy.audit_chain import ALL_SCHOOLS
from storage.backup import take_backup
from storage.backup_archive import MANIFEST
from storage.backup_database import _raw, data_tables, encode, kind_of, snapshot
from storage.db import Database, sync_url
from tests.bot.test_cli import REFERENCE, SHOT_ONE, SHOT_TWO, Cli, Ran, file_reports
from tests.bot.test_comments_cli import TERM_DATES, receive_a_parents_comment
from tests.conftest import SAMPLE, _in_schema, _PostgresTemplate, _require_postgres
from tests.storage.s3 import REGION, aws_environment, new_bucket, s3_server

Rows = dict[str, list[dict[str, Any]]]
MakeDatabase = Callable[[str], str]


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeDatabase]:
    """Fresh migrated databases of either kind, as many as a test needs (copies of the ones
    the suite migrates once), removed afterwards."""
    schemas: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            template: Path = request.getfixturevalue("_migrated_sqlite")
            path = tmp_path / f"{secrets.token_hex(4)}.sqlite3"
            with sqlite3.connect(template) as source, sqlite3.connect(path) as copy:
                source.backup(copy)
            source.close()
            copy.close()
            return f"sqlite:///{path}"
        _require_postgres()
        migrated: _PostgresTemplate = request.getfixturevalue("_postgres_template")
        schema = f"t_{secrets.token_hex(6)}"
        admin = _admin()
        try:
            with admin.connect() as connection:
                migrated.copy_to(connection, schema)
        finally:
            admin.dispose()
        schemas.append(schema)
        return _in_schema(schema)

    yield make
    if schemas:
        admin = _admin()
        try:
            with admin.connect() as connection:
                for schema in schemas:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            admin.dispose()


def _admin() -> Any:
    from tests.conftest import POSTGRES_URL

    return create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


KEYS = {
    "POLICYBOT_EVIDENCE_KEY": Fernet.generate_key().decode(),
    "POLICYBOT_AUDIT_KEY": Fernet.generate_key().decode(),
}


def installation(
    tmp_path: Path, name: str, database_url: str, keys: dict[str, str] | None = None
) -> Cli:
    """One installation: its own data directory and database, the keys kept apart from both."""
    work = tmp_path / f"{name}-cwd"
    work.mkdir()
    env = {
        "POLICYBOT_CONFIG": str(SAMPLE),
        "POLICYBOT_DATA_DIR": str(tmp_path / name),
        "DATABASE_URL": database_url,
        **(KEYS if keys is None else keys),
    }
    return Cli(env=env, cwd=work, in_process=True)


def settings_of(cli: Cli) -> Settings:
    return load_settings(cli.env)


def build_school_year(cli: Cli, tmp_path: Path) -> None:
    """What a term of use leaves behind: two reports with screenshots, one acknowledged and
    noted by the lead, term dates, a comment from a parent, the audit log of all of it."""
    settings = settings_of(cli)
    file_reports(settings, ("sam", [SHOT_ONE, SHOT_TWO]), ("sam", [SHOT_TWO]))
    cli.ok("cases", "ack", REFERENCE, "--as", "dana")
    cli.ok("cases", "note", REFERENCE, "Spoke to Sam; parent contacted.", "--as", "dana")
    ics = tmp_path / "term-dates.ics"
    ics.write_text(TERM_DATES, encoding="utf-8")
    cli.ok("calendar", "import", str(ics), "--as", "morgan")

    receive_a_parents_comment(settings)
    cli.ok("audit", "verify")


def all_rows(database_url: str) -> Rows:
    """Every row of every table, as stored (ciphertext stays ciphertext), written the way a
    backup writes values so SQLite's and PostgreSQL's can be compared."""

    async def read() -> Rows:
        db = Database(database_url)
        try:
            async with snapshot(db.engine) as connection:
                found: Rows = {}
                for of in await data_tables(connection):
                    raw = _raw(of)
                    order = [raw.c[c.name] for c in of.primary_key.columns]
                    rows = (await connection.execute(select(*raw.c).order_by(*order))).mappings()
                    kinds = {c.name: kind_of(c.type) for c in of.columns}
                    found[of.name] = [
                        {k: encode(row[k], kind) for k, kind in kinds.items()} for row in rows
                    ]
                return found
        finally:
            await db.dispose()

    return asyncio.run(read())


def evidence_files(cli: Cli) -> dict[str, bytes]:
    root = Path(cli.env["POLICYBOT_DATA_DIR"]) / "evidence"
    return {p.name: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def nothing_in(cli: Cli) -> None:
    """The installation holds no row and no evidence file."""
    assert {name: rows for name, rows in all_rows(cli.env["DATABASE_URL"]).items() if rows} == {}
    assert evidence_files(cli) == {}


ROUND_TRIPS = [
    ("sqlite", "sqlite"),
    ("postgresql", "postgresql"),
    ("sqlite", "postgresql"),
    ("postgresql", "sqlite"),
]


@pytest.mark.parametrize(("source_kind", "target_kind"), ROUND_TRIPS)
def test_backup_wipe_restore_gives_back_every_row_and_file_with_the_audit_log_intact(
    tmp_path: Path, new_database: MakeDatabase, source_kind: str, target_kind: str
) -> None:
    school = installation(tmp_path, "school", new_database(source_kind))
    build_school_year(school, tmp_path)
    before, files_before = all_rows(school.env["DATABASE_URL"]), evidence_files(school)
    assert len(before["case"]) == 2
    assert len(before["evidence"]) == 3
    assert len(files_before) == 3
    assert all(row["encrypted"] for row in before["evidence"])
    assert all(row["description"].startswith("pbenc1:") for row in before["case"])
    assert before["school_closure"]
    assert before["comment"]
    assert before["case_event"]
    archive = tmp_path / "backups" / "school.tar"
    archive.parent.mkdir()

    taken = school.ok("backup", "--out", str(archive), "--json").json()

    assert taken["tables"]["case"] == 2
    assert taken["evidence_files"] == 3
    assert taken["missing_files"] == []
    evidence_key_id = next(iter(taken["file_keys"]))
    assert taken["file_keys"] == {evidence_key_id: 3}
    # Wiped: the machine is gone; a new database and data directory, the same keys.
    restored = installation(tmp_path, "rebuilt", new_database(target_kind))
    nothing_in(restored)

    ran = restored.ok("restore", str(archive))

    assert "3 evidence files" in ran.out
    assert "The audit log is intact" in ran.out
    after = all_rows(restored.env["DATABASE_URL"])
    # The backup's own entry came after the backup; the restore's comes after what it restored.
    assert before["audit_entry"][-1]["action"] == AuditAction.AUDIT_VERIFY.value
    assert after["audit_entry"][-1]["action"] == AuditAction.BACKUP_RESTORE.value
    for name, rows in before.items():
        written_since = len(after[name]) - len(rows)
        assert after[name][: len(rows)] == rows, name
        assert written_since == (1 if name in {"audit_entry", "audit_seal"} else 0), name
    assert evidence_files(restored) == files_before
    assert restored.ok("audit", "verify").out.startswith("The audit log is intact")
    # The restored installation carries on: the lead reads the case, with its screenshots.
    case = restored.run("cases", "show", REFERENCE, "--as", "dana", "--json").json()
    assert case["status"] == "acknowledged"
    assert len(case["evidence"]) == 2
    restored.ok("cases", "note", REFERENCE, "Restored and still going.", "--as", "dana")


def test_a_compressed_archive_round_trips_too(tmp_path: Path, new_database: MakeDatabase) -> None:
    school = installation(tmp_path, "school", new_database("sqlite"))
    file_reports(settings_of(school), ("sam", [SHOT_ONE]))
    archive = tmp_path / "school.tar.gz"
    school.ok("backup", "--out", str(archive))
    with tarfile.open(archive, "r:gz") as tar:
        assert MANIFEST in tar.getnames()
    restored = installation(tmp_path, "rebuilt", new_database("sqlite"))

    restored.ok("restore", str(archive))

    assert evidence_files(restored) == evidence_files(school)
    restored.ok("audit", "verify")


def test_the_archive_holds_no_key(tmp_path: Path, new_database: MakeDatabase) -> None:
    school = installation(tmp_path, "school", new_database("sqlite"))
    file_reports(settings_of(school), ("sam", [SHOT_ONE]))
    archive = tmp_path / "school.tar"
    school.ok("backup", "--out", str(archive))
    data = archive.read_bytes()
    assert len(evidence_files(school)) == 1
    for name, key in KEYS.items():
        raw = base64.urlsafe_b64decode(key)
        for secret in (key.encode(), raw, raw[:16], raw[16:], raw.hex().encode()):
            assert secret not in data, name
    # Nor in any member once read out (a tar could hold it in pieces of a stream otherwise).
    with tarfile.open(archive) as tar:
        for member in tar:
            content = tar.extractfile(member).read()  # type: ignore[union-attr]
            assert KEYS["POLICYBOT_EVIDENCE_KEY"].encode() not in content
            assert KEYS["POLICYBOT_AUDIT_KEY"].encode() not in content
    # What people wrote is in it only as ciphertext.
    assert b"Pat Jones" not in data


def test_backup_and_restore_as_separate_processes(
    tmp_path: Path, new_database: MakeDatabase
) -> None:
    """The installed `policybot` command, one process per step, as cron and an administrator
    would run it."""
    school = installation(tmp_path, "school", new_database("sqlite"))
    file_reports(settings_of(school), ("sam", [SHOT_ONE]))
    processes = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for name in [*processes]:
        if name.startswith("POLICYBOT_") or name == "DATABASE_URL":
            del processes[name]
    archive = tmp_path / "school.tar.gz"
    source = Cli(env={**processes, **school.env}, cwd=school.cwd)
    source.ok("backup", "--out", str(archive))
    restored = installation(tmp_path, "rebuilt", new_database("sqlite"))
    target = Cli(env={**processes, **restored.env}, cwd=restored.cwd)

    ran = target.ok("restore", str(archive))

    assert "The audit log is intact" in ran.out
    assert evidence_files(restored) == evidence_files(school)
    assert target.run("restore", str(archive)).code == 2  # not empty any more


# -- consistency while the bot runs ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_backup_taken_while_entries_are_written_is_one_moment_of_the_database(
    tmp_path: Path, new_database: MakeDatabase, kind: str
) -> None:
    school = installation(tmp_path, "school", new_database(kind))
    settings = settings_of(school)
    file_reports(settings, ("sam", [SHOT_ONE]))
    before = all_rows(school.env["DATABASE_URL"])
    archive = tmp_path / "school.tar"

    async def backup_while_writing() -> int:
        """Between reading one table and the next, another process of the bot writes an
        audit entry (and its seal): none of them may be in the backup, half or whole."""
        writer = build_runtime(settings)
        reader = build_runtime(settings)
        written = 0

        async def write(table: str) -> None:
            nonlocal written
            async with writer.db.session() as session:
                AuditLog(session, writer.clock()).record(
                    school_id=ALL_SCHOOLS,
                    actor_id="command-line",
                    action=AuditAction.AUDIT_VERIFY,
                    target_type="audit_log",
                    target_id="",
                    detail=f"written while {table} was backed up",
                )
            written += 1

        try:
            await take_backup(
                reader.db.engine,
                reader.blobs,
                archive,
                keys=settings.keys,
                app_version="test",
                now=reader.clock(),
                after_table=write,
            )
        finally:
            await writer.close()
            await reader.close()
        return written

    written = asyncio.run(backup_while_writing())

    assert written == len(before)
    now = all_rows(school.env["DATABASE_URL"])
    assert len(now["audit_entry"]) == len(before["audit_entry"]) + written
    restored = installation(tmp_path, "rebuilt", new_database(kind))
    restored.ok("restore", str(archive))
    after = all_rows(restored.env["DATABASE_URL"])
    for name, rows in before.items():
        assert after[name][: len(rows)] == rows, name
    assert len(after["audit_entry"]) == len(before["audit_entry"]) + 1  # the restore's own
    restored.ok("audit", "verify")


# -- refusals: nothing is written ------------------------------------------------------------


@pytest.fixture
def taken(tmp_path: Path, new_database: MakeDatabase) -> Path:
    """An archive of an installation with one report and its screenshot."""
    school = installation(tmp_path, "school", new_database("sqlite"))
    file_reports(settings_of(school), ("sam", [SHOT_ONE]))
    archive = tmp_path / "school.tar"
    school.ok("backup", "--out", str(archive))
    return archive


def rewritten(
    archive: Path,
    *,
    change: Callable[[str, bytes], bytes | None] = lambda _name, data: data,
    add: dict[str, bytes] | None = None,
) -> Path:
    """A copy of `archive` with members changed (None drops one) or added."""
    out = archive.with_name(f"changed-{secrets.token_hex(3)}.tar")
    with tarfile.open(archive) as source, tarfile.open(out, "w") as copy:
        for member in source:
            data = change(member.name, source.extractfile(member).read())  # type: ignore[union-attr]
            if data is not None:
                info = tarfile.TarInfo(member.name)
                info.size = len(data)
                copy.addfile(info, io.BytesIO(data))
        for name, data in (add or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    return out


def refused(cli: Cli, archive: Path, code: int, *args: str) -> Ran:
    ran = cli.run("restore", str(archive), *args)
    assert ran.code == code, (ran.out, ran.err)
    assert ran.err.endswith("\nNothing was restored.\n")
    return ran


def _evidence_member(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        return next(n for n in tar.getnames() if n.startswith("evidence/"))


def test_a_tampered_member_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b'"sam"', b'"max"') if name == "database/case.jsonl" else data

    ran = refused(target, rewritten(taken, change=edit), 1)

    assert "changed since the backup was taken: database/case.jsonl" in ran.err
    nothing_in(target)


def test_a_changed_evidence_file_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))
    shot = _evidence_member(taken)

    def flip(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name == shot else data

    ran = refused(target, rewritten(taken, change=flip), 1)

    assert f"changed since the backup was taken: {shot}" in ran.err
    nothing_in(target)


def test_a_missing_member_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))
    shot = _evidence_member(taken)

    ran = refused(target, rewritten(taken, change=lambda n, d: None if n == shot else d), 1)

    assert f"missing: {shot}" in ran.err
    nothing_in(target)


def test_an_extra_member_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))
    extra = f"evidence/{'a' * 32}"

    ran = refused(target, rewritten(taken, add={extra: b"slipped in"}), 1)

    assert f"not in the backup as taken: {extra}" in ran.err
    nothing_in(target)


def test_an_archive_without_a_manifest_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))

    ran = target.run(
        "restore", str(rewritten(taken, change=lambda n, d: None if n == MANIFEST else d))
    )

    assert ran.code == 1
    assert "no manifest.json" in ran.err
    assert ran.err.endswith("\nNothing was restored.\n")
    nothing_in(target)


def test_another_evidence_key_is_refused_before_anything_is_written(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    other = {**KEYS, "POLICYBOT_EVIDENCE_KEY": Fernet.generate_key().decode()}
    target = installation(tmp_path, "target", new_database("sqlite"), keys=other)

    ran = refused(target, taken, 2)

    assert "encrypted with keys that are not configured" in ran.err
    assert "POLICYBOT_EVIDENCE_KEY" in ran.err
    for key in other.values():
        assert key not in ran.err
    nothing_in(target)


def test_another_audit_key_is_refused_before_anything_is_written(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    other = {**KEYS, "POLICYBOT_AUDIT_KEY": Fernet.generate_key().decode()}
    target = installation(tmp_path, "target", new_database("sqlite"), keys=other)

    ran = refused(target, taken, 2)

    assert "sealed with the audit key" in ran.err
    nothing_in(target)


def test_an_installation_that_is_not_empty_is_refused_unless_replaced(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))
    file_reports(settings_of(target), ("sam", []))
    before, files = all_rows(target.env["DATABASE_URL"]), evidence_files(target)

    ran = refused(target, taken, 2)

    assert "This installation is not empty" in ran.err
    assert "--replace" in ran.err
    assert all_rows(target.env["DATABASE_URL"]) == before
    assert evidence_files(target) == files


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_replace_swaps_the_installation_for_the_backup(
    tmp_path: Path, new_database: MakeDatabase, kind: str
) -> None:
    school = installation(tmp_path, "school", new_database(kind))
    file_reports(settings_of(school), ("sam", [SHOT_ONE]))
    archive = tmp_path / "school.tar"
    backed_up = all_rows(school.env["DATABASE_URL"])
    school.ok("backup", "--out", str(archive))
    # Afterwards, more is written; then the administrator goes back to the backup.
    file_reports(settings_of(school), ("sam", [SHOT_TWO]))
    anchor = Path(school.env["POLICYBOT_DATA_DIR"]) / "audit-anchor.jsonl"
    anchor.rename(anchor.with_name("audit-anchor.before-restore.jsonl"))

    ran = school.run("restore", str(archive), "--replace", "--json")

    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["replaced"] is True
    assert json.loads(ran.out)["files_left"] == 1  # the later screenshot is left in place
    after = all_rows(school.env["DATABASE_URL"])
    for name, rows in backed_up.items():
        assert after[name][: len(rows)] == rows, name
    school.ok("audit", "verify")


def test_rows_that_do_not_match_the_manifest_are_all_taken_back(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    """Found only while writing (the manifest counts more rows than the member holds): the
    transaction is rolled back, and nothing of the restore is left."""
    target = installation(tmp_path, "target", new_database("sqlite"))

    def more_cases(name: str, data: bytes) -> bytes:
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["tables"]["case_event"]["rows"] += 1
        return json.dumps(manifest).encode()

    ran = refused(target, rewritten(taken, change=more_cases), 1)

    assert "rows of case_event, and its manifest says" in ran.err
    nothing_in(target)


def test_a_backup_of_another_schema_revision_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    target = installation(tmp_path, "target", new_database("sqlite"))

    def older(name: str, data: bytes) -> bytes:
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["schema_revision"], manifest["app_version"] = "0014", "0.0.9"
        return json.dumps(manifest).encode()

    ran = refused(target, rewritten(taken, change=older), 2)

    assert "taken at schema revision 0014 (policybot 0.0.9)" in ran.err
    assert "policybot db upgrade" in ran.err
    nothing_in(target)


def test_a_database_not_at_this_versions_schema_is_refused(
    taken: Path, tmp_path: Path, new_database: MakeDatabase
) -> None:
    url = new_database("postgresql")
    target = installation(tmp_path, "target", url)
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    engine.dispose()

    ran = target.run("restore", str(taken))

    assert ran.code == 2
    assert "policybot db upgrade" in ran.err


def test_a_backup_missing_an_evidence_file_says_so(
    tmp_path: Path, new_database: MakeDatabase
) -> None:
    school = installation(tmp_path, "school", new_database("sqlite"))
    file_reports(settings_of(school), ("sam", [SHOT_ONE, SHOT_TWO]))
    root = Path(school.env["POLICYBOT_DATA_DIR"]) / "evidence"
    next(p for p in root.rglob("*") if p.is_file()).unlink()

    ran = school.run("backup", "--out", str(tmp_path / "school.tar"), "--json")

    assert ran.code == 1
    assert "1 evidence file the database refers to was not in the evidence store" in ran.err
    assert len(json.loads(ran.out)["missing_files"]) == 1


def test_backup_refuses_to_write_over_a_file(tmp_path: Path, new_database: MakeDatabase) -> None:
    school = installation(tmp_path, "school", new_database("sqlite"))
    there = tmp_path / "there.tar"
    there.write_bytes(b"keep me")

    ran = school.run("backup", "--out", str(there))

    assert ran.code == 2
    assert "already exists" in ran.err
    assert there.read_bytes() == b"keep me"


def bucket_files(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"].rsplit("/", 1)[-1]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        for item in listed
    }


def test_evidence_kept_in_a_bucket_is_backed_up_and_restored_into_another_bucket(
    tmp_path: Path, new_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several hosts keep evidence in an S3-compatible bucket: the archive takes the files from
    the bucket as stored (still encrypted), and a restore puts them in the new bucket."""
    for name, value in aws_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    with s3_server() as endpoint:
        buckets = {}
        for name in ("school", "rebuilt"):
            buckets[name] = {
                "POLICYBOT_EVIDENCE_S3_BUCKET": new_bucket(endpoint),
                "POLICYBOT_EVIDENCE_S3_ENDPOINT": endpoint,
                "POLICYBOT_EVIDENCE_S3_PREFIX": "evidence/",
            }
        school = installation(tmp_path, "school", new_database("sqlite"), KEYS | buckets["school"])
        file_reports(settings_of(school), ("sam", [SHOT_ONE, SHOT_TWO]))
        stored = bucket_files(endpoint, buckets["school"]["POLICYBOT_EVIDENCE_S3_BUCKET"])
        assert len(stored) == 2
        assert SHOT_ONE not in stored.values()  # encrypted in the bucket
        archive = tmp_path / "school.tar"
        assert school.ok("backup", "--out", str(archive), "--json").json()["evidence_files"] == 2
        restored = installation(
            tmp_path, "rebuilt", new_database("postgresql"), KEYS | buckets["rebuilt"]
        )

        restored.ok("restore", str(archive))

        again = bucket_files(endpoint, buckets["rebuilt"]["POLICYBOT_EVIDENCE_S3_BUCKET"])
        assert again == stored
        assert evidence_files(restored) == {}  # nothing on the new host's own disk
        assert restored.ok("audit", "verify").out.startswith("The audit log is intact")
        case = restored.run("cases", "show", REFERENCE, "--as", "dana", "--json").json()
        assert len(case["evidence"]) == 2
