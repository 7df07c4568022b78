"""The policy version in force at a school, read from the embedded SQLite file with sqlite3.

`policybot ask --school ID` reads one row. Through the database layer, that meant loading
SQLAlchemy, SQLModel and every table model, which took longer than everything else the command
does (bench/README.md, "Command start-up"). So this reads the row with the standard library's
sqlite3, as PolicyService.in_force and consult would read it, but only when the installation
is as a first start leaves it: the embedded database exists, its schema is at the newest
migration (storage.migration_chain), and the school has a version. Otherwise it says None,
and the caller goes the ordinary way, which migrates, imports the configured policy, or says
what is wrong. It writes nothing, and opens the file read-only to be sure of it.

PostgreSQL always goes the ordinary way: its driver alone takes longer to load than this whole
command, and a shared database's checks (its schema, its audit key) belong to the runtime.
tests/storage/test_policy_in_force.py checks that this reads what the service reads.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from storage.migration_chain import plain_chain_head

# As long as the server's connections wait for a writer (storage.db.DEFAULT_BUSY_TIMEOUT_MS).
BUSY_TIMEOUT_SECONDS = 10.0
_SQLITE_SCHEMES = ("sqlite:///", "sqlite+pysqlite:///", "sqlite+aiosqlite:///")

# PolicyService._newest: the newest version in effect today, else the newest of all (every
# version waits for its date, and the newest answers meanwhile). SQLAlchemy stores a date in
# SQLite as its ISO text, which orders as the dates do.
_COLUMNS = "SELECT id, version, title, sections, dropped FROM policy_version WHERE school_id = ?"
_IN_EFFECT = (
    f"{_COLUMNS} AND (effective_from IS NULL OR effective_from <= ?) ORDER BY version DESC LIMIT 1"
)
_NEWEST = f"{_COLUMNS} ORDER BY version DESC LIMIT 1"


@dataclass(frozen=True)
class StoredPolicy:
    """What answers are quoted from: the parse stored when the version was imported."""

    id: int
    version: int
    title: str | None
    sections: list[dict[str, Any]]
    dropped: list[str]


def embedded_file(database_url: str) -> Path | None:
    """The file of an embedded database given as `sqlite:///path`, if that is what the URL is
    (no query, no %-escapes: anything unusual is left to SQLAlchemy's reading of it)."""
    scheme = next((s for s in _SQLITE_SCHEMES if database_url.startswith(s)), None)
    if scheme is None:
        return None
    path = database_url[len(scheme) :]
    if not path or path == ":memory:" or any(c in path for c in "?%#"):
        return None
    return Path(path)


def read_in_force(database_url: str, school_id: str, today: date) -> StoredPolicy | None:
    """The version in force at the school today, or None when this cannot tell (see above)."""
    file = embedded_file(database_url)
    head = plain_chain_head()
    if file is None or head is None or not file.is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS
        )
    except sqlite3.Error:
        return None
    try:
        if _stored_revisions(connection) != [head]:
            return None
        row = connection.execute(_IN_EFFECT, (school_id, today.isoformat())).fetchone()
        if row is None:
            row = connection.execute(_NEWEST, (school_id,)).fetchone()
    except sqlite3.Error:
        return None  # the ordinary way will say what is wrong, or put it right
    finally:
        connection.close()
    if row is None:
        return None  # nothing imported yet: the ordinary way imports the configured policy
    version_id, version, title, sections, dropped = row
    return StoredPolicy(version_id, version, title, json.loads(sections), json.loads(dropped))


def _stored_revisions(connection: sqlite3.Connection) -> list[str]:
    """The revisions in alembic's version table (none when the table is not there)."""
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if found is None:
        return []
    return [str(r) for (r,) in connection.execute("SELECT version_num FROM alembic_version")]
