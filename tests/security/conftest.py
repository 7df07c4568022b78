"""Fixtures for the bad-input catalogue.

The catalogue has many small tests, each run on SQLite and on PostgreSQL, so the databases are
made quickly: SQLite is migrated once per run into a template file that each test copies, and
PostgreSQL schemas are migrated once and emptied between tests (see _PostgresSchemas).
Everything else is the project's own machinery: the real app, the fake Slack and Bot Framework
servers, the real runner.
"""

from __future__ import annotations

import dataclasses
import queue
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.config import Settings, WebhookSettings
from storage import migrate
from storage.db import sync_url
from tests.channels.slack.harness import SlackHarness, slack_harness
from tests.channels.teams.harness import TeamsHarness, teams_harness
from tests.conftest import POSTGRES_URL, Clock, _require_postgres
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.slack_api import FakeSlack
from tests.security.support import APP_SECRET, COMMENT_SECRET, VERIFY_TOKEN

_SQLITE_NAME = "policybot.sqlite3"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("security-template")
    migrate.upgrade(f"sqlite:///{folder / _SQLITE_NAME}")
    return folder


def _schema_url(schema: str) -> str:
    return (
        make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


class _PostgresSchemas:
    """Two migrated schemas in the `test` database, handed out in turn.

    Migrating a schema or copying a database takes PostgreSQL most of a second, far longer than
    most tests here, so the schemas are made once and emptied between tests instead: in a
    background thread, with triggers switched off for the session doing it (the audit tables'
    triggers refuse TRUNCATE, rightly, to everyone else), and identities restarted, so each test
    starts from exactly what a fresh migration gives.
    """

    def __init__(self) -> None:
        self._admin = create_engine(
            sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self._ready: queue.Queue[str] = queue.Queue()
        self._made: list[str] = []
        self._work = ThreadPoolExecutor(max_workers=1)
        self._ready.put(self._make())
        self._pending: list[Future[None]] = [
            self._work.submit(lambda: self._ready.put(self._make()))
        ]

    def _make(self) -> str:
        schema = f"t_security_{secrets.token_hex(6)}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        self._made.append(schema)
        migrate.upgrade(_schema_url(schema))
        return schema

    def _empty(self, schema: str) -> None:
        with self._admin.connect() as connection:
            tables = connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                    "AND tablename <> 'alembic_version'"
                ),
                {"schema": schema},
            ).scalars()
            listed = ", ".join(f'"{schema}"."{table}"' for table in tables)
            connection.execute(
                text("SET lock_timeout = '30s'")
            )  # a leaked session fails, not hangs
            connection.execute(text("SET session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
        self._ready.put(schema)

    def take(self) -> str:
        return self._ready.get(timeout=60)

    def give_back(self, schema: str) -> None:
        self._pending.append(self._work.submit(self._empty, schema))

    def close(self) -> None:
        self._work.shutdown(wait=True)
        with self._admin.connect() as connection:
            for schema in self._made:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self._admin.dispose()
        for pending in self._pending:
            pending.result()  # a failure to make or empty a schema is reported, not hidden


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[_PostgresSchemas]:
    _require_postgres()
    schemas = _PostgresSchemas()
    try:
        yield schemas
    finally:
        schemas.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind (overrides tests/conftest.py's, only faster)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        for made in template.iterdir():
            shutil.copyfile(made, tmp_path / made.name)
        yield f"sqlite:///{tmp_path / _SQLITE_NAME}"
        return
    _require_postgres()
    schemas: _PostgresSchemas = request.getfixturevalue("postgres_schemas")
    schema = schemas.take()
    try:
        yield _schema_url(schema)
    finally:
        schemas.give_back(schema)


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    """The sample school with both comment webhooks switched on."""
    return dataclasses.replace(
        settings,
        webhooks=WebhookSettings(
            comment_secrets={"oakfield": COMMENT_SECRET},
            facebook_app_secret=APP_SECRET,
            facebook_verify_token=VERIFY_TOKEN,
        ),
    )


@pytest.fixture
async def slack(webhook_settings: Settings, clock: Clock) -> AsyncIterator[SlackHarness]:
    """The whole app over HTTP with Slack pointed at the fake (and the webhooks switched on)."""
    async with FakeSlack() as fake, slack_harness(webhook_settings, clock, fake) as harness:
        yield harness


@pytest.fixture
async def teams(settings: Settings, clock: Clock) -> AsyncIterator[TeamsHarness]:
    async with FakeBotFramework() as fake, teams_harness(settings, clock, fake) as harness:
        yield harness
