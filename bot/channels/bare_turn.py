"""The row work of a bare persisted turn, for bench/turns.py's yardstick.

A dialog turn that must keep every answer cannot be faster than: acknowledge, load the
conversation's row, save it in one transaction, send one reply. The bare persisted baselines
(bot/channels/slack/bare_persisted.py, bot/channels/teams/bare_persisted.py) do exactly that and
nothing more, and this module is the "load one row, save one row" they share.

It goes through storage.db.Database, so the engine is built as policybot builds it (the same
drivers, pool, PostgreSQL timeouts, SQLite pragmas, and on SQLite the same one-transaction-at-a-
time gate): what policybot does beyond this is the cost of the dialog, not of a different
database set-up. The table is its own (`bare_turn`), created at start-up in a throwaway database,
so nothing here depends on policybot's schema or migrations.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select, update

from storage.db import Database

_metadata = MetaData()

bare_turn = Table(
    "bare_turn",
    _metadata,
    Column("conversation", String(128), primary_key=True),
    Column("turns", Integer, nullable=False),
    Column("last_text", Text, nullable=False),
)


async def create_table(database: Database) -> None:
    """Create the table if it is not there yet (several servers may share one database)."""
    async with database.engine.begin() as connection:
        await connection.run_sync(_metadata.create_all, checkfirst=True)


async def take(database: Database, conversation: str, text: str) -> int:
    """One transaction: load the conversation's row (locked, as policybot locks its
    conversation), count this turn and keep its text, commit. Returns the turn's number."""
    async with database.session() as session:
        query = (
            select(bare_turn.c.turns)
            .where(bare_turn.c.conversation == conversation)
            .with_for_update()
        )
        turns = (await session.execute(query)).scalar_one_or_none()
        if turns is None:
            await session.execute(
                insert(bare_turn).values(conversation=conversation, turns=1, last_text=text)
            )
            return 1
        await session.execute(
            update(bare_turn)
            .where(bare_turn.c.conversation == conversation)
            .values(turns=turns + 1, last_text=text)
        )
        return int(turns) + 1


def reply_text(turns: int, text: str) -> str:
    """The reply: it repeats the person's words, which is how the load generator knows that
    this reply belongs to that turn."""
    return f"Saved turn {turns}: {text}"
