"""The policy version in force at a school, read with the database's own driver.

`policybot ask --school ID` reads one row. Through the database layer, that meant loading
SQLAlchemy, SQLModel and every table model, which took longer than everything else the command
does (bench/README.md, "Command start-up"). So this reads the row with the driver alone (the
standard library's sqlite3 for the embedded database, psycopg for PostgreSQL), as
PolicyService.in_force and consult would read it, but only when the installation is ready: the
database is there, its schema is at the newest migration (storage.migration_chain), and the
school has a version. Otherwise it says None, and the caller goes the ordinary way, which
migrates, imports the configured policy, or says what is wrong (a database it cannot reach
among them). It writes nothing: the SQLite file is opened read-only, and the PostgreSQL
transaction is read-only.

tests/dialogs/test_policy_stored_answer.py checks that what is read answers as the service does.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from storage.migration_chain import plain_chain_head

# As long as the server's connections wait for a writer (storage.db.DEFAULT_BUSY_TIMEOUT_MS).
BUSY_TIMEOUT_SECONDS = 10.0
_SQLITE_SCHEMES = ("sqlite:///", "sqlite+pysqlite:///", "sqlite+aiosqlite:///")
_POSTGRES_SCHEME = re.compile(r"postgresql(?:\+\w+)?://")
# As storage.db connects, where the URL does not say otherwise.
_CONNECT_TIMEOUT_SECONDS = 10

# PolicyService._newest: the newest version in effect today, else the newest of all (every
# version waits for its date, and the newest answers meanwhile). SQLAlchemy stores a date in
# SQLite as its ISO text, which orders as the dates do. `?` is each driver's placeholder.
_COLUMNS = "SELECT id, version, title, sections, dropped FROM policy_version WHERE school_id = ?"
_IN_EFFECT = (
    f"{_COLUMNS} AND (effective_from IS NULL OR effective_from <= ?) ORDER BY version DESC LIMIT 1"
)
_NEWEST = f"{_COLUMNS} ORDER BY version DESC LIMIT 1"
_HAS_VERSIONS = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
    "postgresql": "SELECT to_regclass('alembic_version') IS NOT NULL",  # on the search path
}


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


def server_conninfo(database_url: str) -> str | None:
    """The libpq address of a PostgreSQL database given as `postgresql[+driver]://...`: the
    same URL without the driver, which libpq reads as SQLAlchemy does."""
    scheme = _POSTGRES_SCHEME.match(database_url)
    if scheme is None:
        return None
    return "postgresql://" + database_url[scheme.end() :]


def read_in_force(database_url: str, school_id: str, today: date) -> StoredPolicy | None:
    """The version in force at the school today, or None when this cannot tell (see above)."""
    head = plain_chain_head()
    if head is None:
        return None
    file = embedded_file(database_url)
    if file is not None:
        row = _from_sqlite(file, head, school_id, today)
    else:
        conninfo = server_conninfo(database_url)
        row = _from_postgres(conninfo, head, school_id, today) if conninfo else None
    if row is None:
        return None  # nothing imported yet: the ordinary way imports the configured policy
    version_id, version, title, sections, dropped = row
    return StoredPolicy(version_id, version, title, _json(sections), _json(dropped))


def _from_sqlite(file: Path, head: str, school_id: str, today: date) -> tuple[Any, ...] | None:
    if not file.is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS
        )
    except sqlite3.Error:
        return None
    try:
        return _in_force(connection, "sqlite", head, school_id, today)
    except sqlite3.Error:
        return None  # the ordinary way will say what is wrong, or put it right
    finally:
        connection.close()


def _from_postgres(conninfo: str, head: str, school_id: str, today: date) -> tuple[Any, ...] | None:
    import psycopg  # only for PostgreSQL: it takes about 0.1 s to load
    from psycopg.conninfo import make_conninfo

    try:
        if "connect_timeout" not in parse_qs(urlsplit(conninfo).query):
            conninfo = make_conninfo(conninfo, connect_timeout=_CONNECT_TIMEOUT_SECONDS)
        with psycopg.connect(conninfo) as connection:
            connection.read_only = True
            with connection.cursor() as cursor:
                return _in_force(cursor, "postgresql", head, school_id, today)
    except psycopg.Error:
        return None  # the ordinary way will say what is wrong


def _in_force(
    reader: Any, dialect: str, head: str, school_id: str, today: date
) -> tuple[Any, ...] | None:
    """The row of the version in force, from a connection or cursor of either driver, once the
    schema is known to be at `head`."""

    def query(sql: str, *params: object) -> list[tuple[Any, ...]]:
        if dialect == "sqlite":  # dates as SQLAlchemy keeps them there: ISO text
            return list(reader.execute(sql, [_iso(p) for p in params]).fetchall())
        return list(reader.execute(sql.replace("?", "%s"), params).fetchall())

    if not query(_HAS_VERSIONS[dialect])[0][0]:
        return None
    if [str(r) for (r,) in query("SELECT version_num FROM alembic_version")] != [head]:
        return None
    found = query(_IN_EFFECT, school_id, today) or query(_NEWEST, school_id)
    return found[0] if found else None


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _json(value: Any) -> Any:
    """SQLite keeps JSON as its text; psycopg reads PostgreSQL's json into Python already."""
    return json.loads(value) if isinstance(value, str) else value
