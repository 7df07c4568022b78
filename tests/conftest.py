"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

Each test gets a database of its own, copied from one migrated once per test process: a SQLite
file, or a PostgreSQL schema in the `test` database, so tests can run side by
side and leave nothing behind. Under CI=true a missing PostgreSQL fails the run instead of
skipping, so a green build always means both databases were exercised.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from bot.config import Settings, load_settings
from bot.runtime import Runtime, build_runtime
from storage import migrate
from storage.db import sync_url

POSTGRES_URL = os.environ.get(
    "POLICYBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "sample" / "policybot.toml"


def _postgres_available() -> str | None:
    try:
        engine = create_engine(sync_url(POSTGRES_URL))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def _require_postgres() -> None:
    global _PG_CHECKED, _PG_PROBLEM
    if not _PG_CHECKED:
        _PG_PROBLEM, _PG_CHECKED = _postgres_available(), True
    if _PG_PROBLEM is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({_PG_PROBLEM})"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; under CI=true this is a failure, not a skip")
    pytest.skip(message + "; set POLICYBOT_TEST_POSTGRES_URL or start the server")


@dataclass(frozen=True)
class _PostgresTemplate:
    """A schema migrated once per test process, as the SQL that makes a copy of it: running
    the migrations for every test cost a second or more each, far more than the tests."""

    schema: str
    ddl: str
    tables_with_rows: tuple[str, ...]

    def copy_to(self, connection: Connection, schema: str) -> None:
        renamed = re.sub(rf"\b{self.schema}\b", schema, self.ddl)
        # Straight to the driver, without parameters: the dump's own '%' are not placeholders.
        cursor = connection.connection.cursor()
        try:
            cursor.execute(renamed)
        finally:
            cursor.close()
        for table in self.tables_with_rows:
            connection.exec_driver_sql(
                f'INSERT INTO "{schema}"."{table}" SELECT * FROM "{self.schema}"."{table}"'
            )


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test process; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[_PostgresTemplate]:
    _require_postgres()
    schema = f"tmpl_{secrets.token_hex(6)}"
    admin = create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        migrate.upgrade(_in_schema(schema))
        url = make_url(POSTGRES_URL)
        dumped = subprocess.run(
            [
                "pg_dump",
                "--schema-only",
                f"--schema={schema}",
                f"--host={url.host or '127.0.0.1'}",
                f"--port={url.port or 5432}",
                f"--username={url.username or 'postgres'}",
                url.database or "postgres",
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **({"PGPASSWORD": url.password} if url.password else {})},
        ).stdout
        # Plain dumps may carry psql meta-commands (\restrict); they are not SQL.
        ddl = "\n".join(line for line in dumped.splitlines() if not line.startswith("\\"))
        with admin.connect() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                {"schema": schema},
            ).scalars()
            with_rows = tuple(
                table
                for table in tables
                if connection.exec_driver_sql(
                    f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table}")'
                ).scalar()
            )
        yield _PostgresTemplate(schema=schema, ddl=ddl, tables_with_rows=with_rows)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _in_schema(schema: str) -> str:
    return (
        make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind, at the latest migration (a copy of one migrated once)."""
    if request.param == "sqlite":
        path = tmp_path / "policybot.sqlite3"
        template: Path = request.getfixturevalue("_migrated_sqlite")
        with sqlite3.connect(template) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        yield f"sqlite:///{path}"
        return
    _require_postgres()
    migrated: _PostgresTemplate = request.getfixturevalue("_postgres_template")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            migrated.copy_to(connection, schema)
        yield _in_schema(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class Clock:
    """A clock tests can move; the bot only ever asks it for the time."""

    now: datetime = datetime(2026, 11, 21, 11, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
        }
    )


@pytest.fixture
async def runtime(settings: Settings, clock: Clock) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    await runtime.close()
