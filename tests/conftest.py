"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL tests each get a schema of their own in the `test` database, so they can run side by
side and leave nothing behind. Under CI=true a missing PostgreSQL fails the run instead of
skipping, so a green build always means both databases were exercised.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'policybot.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    _require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(sync_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(POSTGRES_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
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
