"""`policybot deliveries`: messages the bot has not been able to deliver.

Normally empty. A message is listed while its delivery keeps failing (a platform refusing, or a
person the bot cannot reach privately on any platform) and after it has been escalated, which
happens after a bounded number of attempts. Who it is for and what went wrong are shown, never
what it says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from sqlmodel import col, select

from bot.cli.options import json_option
from bot.cli.support import ExitCode, echo_json, exit_with, run
from bot.runtime import Runtime
from dialogs.services.outbox import addressee, retry_escalated
from storage.models import Notification


async def stuck(runtime: Runtime) -> list[dict[str, Any]]:
    """Undelivered messages that have failed at least once, oldest first."""
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(Notification)
                .where(col(Notification.delivered_at).is_(None), Notification.attempts > 0)
                .order_by(col(Notification.id))
            )
        ).scalars()
        return [
            {
                "id": row.id,
                "school": row.school_id,
                "for": addressee(row),
                "kind": row.kind,
                "created_at": _iso(row.created_at),
                "attempts": row.attempts,
                "problem": row.last_error,
                "next_attempt_at": _iso(row.next_attempt_at) if row.escalated_at is None else None,
                "escalated_at": _iso(row.escalated_at),
            }
            for row in rows
        ]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


@click.group(invoke_without_command=True)
@json_option()
@click.pass_context
def deliveries(context: click.Context, as_json: bool) -> None:
    """Messages not delivered yet after failing, and those escalated (exit 1 when any were
    escalated, for monitoring)."""
    if context.invoked_subcommand is not None:
        return
    found = run(stuck)
    escalated = [item for item in found if item["escalated_at"]]
    if as_json:
        echo_json({"stuck": found})
    else:
        click.echo(f"Not delivered yet: {len(found) - len(escalated)}")
        click.echo(f"Escalated (no longer tried): {len(escalated)}")
        for item in found:
            state = (
                f"escalated {item['escalated_at']}"
                if item["escalated_at"]
                else f"next try {item['next_attempt_at']}"
            )
            click.echo(
                f"  #{item['id']} {item['kind']} for {item['for']} ({item['school']}): "
                f"{item['attempts']} attempt(s), {item['problem']}; {state}"
            )
    if escalated:
        exit_with(ExitCode.PROBLEM)


@deliveries.command("retry")
def retry() -> None:
    """Try escalated messages again, with a fresh count of attempts: do this once what stopped
    them is fixed (the bot added to the team, the person's account linked in the configuration).
    The running server sends them."""

    async def work(runtime: Runtime) -> int:
        return await retry_escalated(runtime.db, now=runtime.clock())

    click.echo(f"Put back in line: {run(work)}.")
