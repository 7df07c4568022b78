"""Every table's rows, out of one database and into another, in a form both kinds read.

A backup is a logical one: each row as a JSON object, each column written as its kind says
(times as ISO 8601 in UTC, dates as ISO dates, bytes as base64), so a backup taken from SQLite
restores into PostgreSQL and the other way round. Encrypted columns are read and written as the
ciphertext they are stored as: nothing here ever decrypts, and nothing here needs a key.

The rows are read inside one transaction that sees one moment of the database (REPEATABLE READ
on PostgreSQL; on SQLite a read transaction, which WAL keeps apart from writers), so a backup
taken while the bot runs is consistent: every seal has its entry, every event its case.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    column,
    func,
    insert,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import sort_tables
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401 (registers every table with SQLModel.metadata)
from storage.backup_archive import TableInfo
from storage.types import EncryptedJSON, EncryptedText

# Alembic's own table says which migrations ran: a backup records it as the schema revision,
# and a restore checks it, but never copies it.
_NOT_DATA: Final = frozenset({"alembic_version"})
_BATCH: Final = 500


def kind_of(type_: TypeEngine[Any]) -> str:
    """How a column's values are written in a backup: encrypted (ciphertext, as stored),
    datetime, date, bytes, decimal, json, boolean, integer, float or text."""
    if isinstance(type_, EncryptedText | EncryptedJSON):
        return "encrypted"
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    for kind, types in (
        ("boolean", Boolean),
        ("integer", Integer),
        ("float", Float),
        ("decimal", Numeric),
        ("datetime", DateTime),
        ("date", Date),
        ("bytes", LargeBinary),
        ("json", JSON),
    ):
        if isinstance(base, types):
            return kind
    return "text"


def encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return value.isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "decimal":
        return str(value)
    return value


def decode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "decimal":
        return Decimal(value)
    return value


def _raw_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a column is copied with: ciphertext as the text it is stored as (never
    decrypted, never encrypted again), JSON with None meaning SQL NULL, the rest as declared."""
    kind = kind_of(type_)
    if kind == "encrypted":
        return Text()
    if kind == "json":
        return JSON(none_as_null=True)
    return type_


def _raw(of: Table) -> TableClause:
    return table(of.name, *(column(c.name, _raw_type(c.type)) for c in of.columns))


async def data_tables(connection: AsyncConnection) -> list[Table]:
    """Every table in the database except alembic's, parents before children: the models'
    definitions where there are some, and what the database says of any other."""

    def read(sync: Any) -> list[Table]:
        names = [n for n in inspect(sync).get_table_names() if n not in _NOT_DATA]
        known = SQLModel.metadata.tables
        unknown = [n for n in names if n not in known]
        reflected = MetaData()
        if unknown:
            reflected.reflect(sync, only=unknown)
        found = [known[n] if n in known else reflected.tables[n] for n in names]
        return [t for t in sort_tables(found) if isinstance(t, Table)]

    return await connection.run_sync(read)


async def schema_revision(connection: AsyncConnection) -> str | None:
    def read(sync: Any) -> str | None:
        if not inspect(sync).has_table("alembic_version"):
            return None
        found = sync.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if found is None else str(found)

    return await connection.run_sync(read)


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see the database as it was at its first read."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with connection.begin():
                yield connection
            return
        # Python's SQLite driver begins a transaction only at a write, so each SELECT would
        # otherwise see the database afresh: begin one, and end it without writing.
        transaction = await connection.begin()
        await connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            await transaction.rollback()


async def dump_table(
    connection: AsyncConnection,
    of: Table,
    out: IO[bytes],
    *,
    ciphertext: Callable[[str], None],
) -> TableInfo:
    """Write every row of `of` to `out` as JSON lines, in primary-key order; each encrypted
    value is also given to `ciphertext` (to count which keys made them)."""
    kinds = {c.name: kind_of(c.type) for c in of.columns}
    raw = _raw(of)
    order = [raw.c[c.name] for c in of.primary_key.columns] or list(raw.c)
    rows = 0
    result = await connection.stream(select(*raw.c).order_by(*order))
    async for row in result.mappings():
        record = {}
        for name, kind in kinds.items():
            value = row[name]
            if kind == "encrypted" and value is not None:
                ciphertext(value)
            record[name] = encode(value, kind)
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        rows += 1
    return TableInfo(rows=rows, columns=kinds)


async def tables_with_rows(connection: AsyncConnection, tables: Iterable[Table]) -> list[str]:
    found = []
    for of in tables:
        if await connection.scalar(select(func.count()).select_from(_raw(of))):
            found.append(of.name)
    return found


async def lock_for_restore(connection: AsyncConnection) -> None:
    """On SQLite, take the write lock before the first read, so nothing is written between
    finding the database empty and filling it (PostgreSQL: the transaction is enough)."""
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def clear(connection: AsyncConnection, tables: list[Table]) -> None:
    """Remove every row, children first, the audit log's included: its triggers refuse any
    removal, so they are set aside for this transaction only (on PostgreSQL that takes the
    role that owns the tables). If anything fails, the transaction takes it all back."""
    quote = connection.dialect.identifier_preparer.quote
    if connection.dialect.name == "postgresql":
        for of in tables:
            await connection.exec_driver_sql(f"ALTER TABLE {quote(of.name)} DISABLE TRIGGER USER")
        for of in reversed(tables):
            await connection.execute(_raw(of).delete())
        for of in tables:
            await connection.exec_driver_sql(f"ALTER TABLE {quote(of.name)} ENABLE TRIGGER USER")
        return
    triggers = (
        await connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        )
    ).all()
    for trigger in triggers:
        await connection.exec_driver_sql(f"DROP TRIGGER {quote(trigger.name)}")
    for of in reversed(tables):
        await connection.execute(_raw(of).delete())
    for trigger in triggers:
        await connection.exec_driver_sql(trigger.sql)


async def load_rows(
    connection: AsyncConnection, of: Table, kinds: Mapping[str, str], lines: Iterable[bytes]
) -> int:
    """Insert the rows of one table's JSON lines, as stored (ciphertext stays ciphertext)."""
    raw = _raw(of)
    batch: list[dict[str, Any]] = []
    rows = 0
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        batch.append({name: decode(record[name], kind) for name, kind in kinds.items()})
        if len(batch) == _BATCH:
            await connection.execute(insert(raw), batch)
            rows, batch = rows + len(batch), []
    if batch:
        await connection.execute(insert(raw), batch)
        rows += len(batch)
    return rows


async def reset_sequences(connection: AsyncConnection, tables: Iterable[Table]) -> None:
    """PostgreSQL: move each table's id sequence past the ids restored, so the next row
    written does not collide with one (SQLite finds the next id from the table itself)."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for of in tables:
        keys = list(of.primary_key.columns)
        if len(keys) != 1 or kind_of(keys[0].type) != "integer":
            continue
        sequence = await connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": quote(of.name), "column": keys[0].name},
        )
        if sequence is None:
            continue
        await connection.execute(
            text(
                f"SELECT setval(:sequence, COALESCE((SELECT MAX({quote(keys[0].name)}) "  # noqa: S608 (quoted names from the schema)
                f"FROM {quote(of.name)}), 0) + 1, false)"
            ),
            {"sequence": sequence},
        )
