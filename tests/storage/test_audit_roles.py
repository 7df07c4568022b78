"""On PostgreSQL the server runs as a role of its own, which owns nothing: what the audit log's
protection rests on is tried as that role, the way someone holding its password would.

Each test makes a throwaway role (the test server trusts local connections, so it logs in
without a password) and a schema of its own, migrated by the owner with `policybot db upgrade
--owner-url`, the way the README tells an administrator to.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from bot.config import Settings, load_settings
from bot.runtime import build_runtime
from dialogs.services.privacy.audit_chain import AuditChain, Verification
from storage import migrate
from storage.db import sync_url
from storage.models import AuditEntry
from tests.bot.test_cli import file_reports
from tests.conftest import POSTGRES_URL, SAMPLE, _require_postgres


@dataclass(frozen=True)
class Roles:
    owner_url: str  # the role that migrates: it owns the tables and their triggers
    server_url: str  # the role the server runs as
    server_role: str
    schema: str


def _in_schema(url: str, schema: str, username: str | None = None) -> str:
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    if username is not None:
        parsed = parsed.set(username=username, password=None)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def roles() -> Iterator[Roles]:
    _require_postgres()
    token = secrets.token_hex(6)
    schema, role = f"t_{token}", f"policybot_server_{token}"
    admin = create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        yield Roles(
            _in_schema(POSTGRES_URL, schema), _in_schema(POSTGRES_URL, schema, role), role, schema
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def server_settings(roles: Roles, tmp_path: Path) -> Settings:
    return load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": roles.server_url,
        }
    )


def upgrade(roles: Roles, tmp_path: Path) -> str:
    env = {
        "POLICYBOT_CONFIG": str(SAMPLE),
        "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": roles.server_url,
        "DATABASE_OWNER_URL": None,
    }
    ran = CliRunner().invoke(main, ["db", "upgrade", "--owner-url", roles.owner_url], env=env)
    assert ran.exit_code == 0, ran.output
    return ran.stdout


def audit_count(url: str) -> int:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            )
    finally:
        engine.dispose()


def verify(settings: Settings) -> Verification:
    async def go() -> Verification:
        runtime = build_runtime(settings)
        try:
            async with runtime.db.session() as session:
                return await AuditChain(session, runtime.clock()).verify()
        finally:
            await runtime.close()

    return asyncio.run(go())


# What someone with the server's password would try, to remove or change audit entries
# without it showing, and what PostgreSQL answers.
ATTEMPTS = [
    "ALTER TABLE audit_entry DISABLE TRIGGER ALL",
    "ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_append_only",
    "DROP TRIGGER audit_entry_append_only ON audit_entry",
    "DROP FUNCTION audit_entry_append_only() CASCADE",
    "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS "
    "$$ BEGIN RETURN OLD; END; $$ LANGUAGE plpgsql",
    "SET session_replication_role = replica",
    "DELETE FROM audit_entry",
    "DELETE FROM audit_seal",
    "UPDATE audit_entry SET actor_id = 'someone'",
    "UPDATE audit_seal SET hash = prev_hash",
    "TRUNCATE audit_entry CASCADE",
    "INSERT INTO audit_pruning DEFAULT VALUES",
    "DELETE FROM audit_anchor",
    "DELETE FROM audit_keying",
    "ALTER TABLE audit_seal DROP CONSTRAINT audit_seal_pkey",
    "ALTER TABLE audit_entry OWNER TO CURRENT_USER",
    "CREATE TEMPORARY TABLE audit_pruning (id integer); INSERT INTO audit_pruning VALUES (1); "
    "DELETE FROM audit_entry",
]


def test_the_servers_role_cannot_switch_off_the_triggers_or_remove_audit_entries(
    roles: Roles, tmp_path: Path
) -> None:
    said = upgrade(roles, tmp_path)
    assert f"Privileges granted to {roles.server_role}" in said
    settings = server_settings(roles, tmp_path)
    # The server works as that role: a whole report, with its alerts and audit entries.
    file_reports(settings, ("sam", []))
    written = audit_count(roles.owner_url)
    assert written > 0
    assert verify(settings).ok

    engine = create_engine(sync_url(roles.server_url))
    try:
        for attempt in ATTEMPTS:
            with (
                pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                engine.begin() as connection,
            ):
                connection.exec_driver_sql(attempt)
    finally:
        engine.dispose()

    assert audit_count(roles.owner_url) == written
    checked = verify(settings)
    assert checked.ok, checked.problem


def test_the_servers_role_removes_old_entries_only_through_retention(
    roles: Roles, tmp_path: Path
) -> None:
    """Retention is the one way entries go: a function owned by the owner removes the start of
    the chain and records it, and never removes the newest entry."""
    upgrade(roles, tmp_path)
    settings = server_settings(roles, tmp_path)
    file_reports(settings, ("sam", []))
    written = audit_count(roles.owner_url)

    async def prune() -> int:
        runtime = build_runtime(settings)
        try:
            async with runtime.db.session() as session:
                chain = AuditChain(session, runtime.clock())
                return await chain.prune(datetime(2100, 1, 1, tzinfo=UTC), "morgan")
        finally:
            await runtime.close()

    assert asyncio.run(prune()) == written
    assert audit_count(roles.owner_url) == 1  # the record of the removal
    checked = verify(settings)
    assert checked.ok, checked.problem

    engine = create_engine(sync_url(roles.server_url))
    call = "SELECT audit_prune(:through, :hash, :removed, now(), 'someone', repeat('0', 64))"
    try:
        with engine.begin() as connection:
            newest = connection.exec_driver_sql(
                "SELECT seq, hash FROM audit_seal ORDER BY seq DESC LIMIT 1"
            ).one()
        with (
            pytest.raises(DBAPIError, match="the newest audit entry is never removed"),
            engine.begin() as connection,
        ):
            connection.execute(text(call), {"through": newest[0], "hash": newest[1], "removed": 1})
        assert audit_count(roles.owner_url) == 1
        # What the function does allow, removing the start of the chain, it records; a record
        # not sealed with the key gives the removal away.
        file_reports(settings, ("sam", []))
        with engine.begin() as connection:
            through, last_hash = connection.exec_driver_sql(
                "SELECT seq, hash FROM audit_seal ORDER BY seq DESC OFFSET 1 LIMIT 1"
            ).one()
            removed = connection.exec_driver_sql(
                f"SELECT count(*) FROM audit_seal WHERE seq <= {through}"
            ).scalar_one()
            connection.execute(
                text(call), {"through": through, "hash": last_hash, "removed": removed}
            )
    finally:
        engine.dispose()
    checked = verify(settings)
    assert not checked.ok
    assert checked.problem.startswith(f"The record of removing chain positions up to {through} on ")
    assert checked.problem.endswith(
        "was not made by policybot (it does not carry the audit key's seal): entries were "
        "removed outside retention."
    )


def test_upgrading_warns_while_the_servers_role_owns_the_tables(
    roles: Roles, tmp_path: Path
) -> None:
    """An installation whose server role ran the migrations itself, before there was an owner
    role: its tables stay the server's, whose triggers it could switch off, until handed over."""
    admin = create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'GRANT CREATE, USAGE ON SCHEMA "{roles.schema}" TO "{roles.server_role}"')
            )
    finally:
        admin.dispose()
    migrate.upgrade(roles.server_url)
    env = {
        "POLICYBOT_CONFIG": str(SAMPLE),
        "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": roles.server_url,
        "DATABASE_OWNER_URL": roles.owner_url,
    }
    ran = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert ran.exit_code == 0, ran.output
    assert f"Warning: {roles.server_role} owns " in ran.stderr
    assert f"REASSIGN OWNED BY {roles.server_role} TO <the owner role>" in ran.stderr


def test_an_owner_url_is_refused_for_the_embedded_database(tmp_path: Path) -> None:
    env = {
        "POLICYBOT_CONFIG": str(SAMPLE),
        "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'policybot.sqlite3'}",
        "DATABASE_OWNER_URL": None,
    }
    ran = CliRunner().invoke(
        main, ["db", "upgrade", "--owner-url", "postgresql://owner@127.0.0.1/x"], env=env
    )
    assert ran.exit_code == 2
    assert "--owner-url (DATABASE_OWNER_URL) is for PostgreSQL" in ran.output
