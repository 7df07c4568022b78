"""`policybot journal status|retry`: messages kept on disk because they could not be taken yet.

Normally empty. While the database is away, what people send waits here and the server takes it
as soon as the database is back. A message whose turn failed for another reason (a fault to be
fixed) is set aside rather than lost; once the fault is fixed, `retry` puts it back in line.
Nothing here shows what anyone wrote.
"""

from __future__ import annotations

import click

from bot.cli.options import json_option
from bot.cli.support import ExitCode, echo_json, exit_with, run, settings_or_exit
from bot.config import Settings
from bot.runtime import Runtime
from dialogs.inbox import Replayed
from storage.crypto import KeyMissing
from storage.journal import Journal


def _journal(settings: Settings) -> Journal:
    return Journal(settings.journal_dir, keys=settings.keys, host=settings.hosts.host_id)


@click.group()
def journal() -> None:
    """Messages kept on disk until the database could take them."""


@journal.command("status")
@json_option()
def status(as_json: bool) -> None:
    """How many messages wait, how long the oldest has waited, and those set aside (exit 1
    when any are set aside, for monitoring)."""
    settings = settings_or_exit()
    kept = _journal(settings)
    waiting = kept.waiting()
    aside: list[dict[str, object]] = []
    for path in kept.failed():
        try:
            entry = kept.read(path)
        except (KeyMissing, ValueError, KeyError, TypeError) as exc:
            aside.append({"file": path.name, "problem": f"unreadable ({type(exc).__name__})"})
            continue
        aside.append(
            {
                "file": path.name,
                "channel": entry.key.channel,
                "received_at": entry.received_at.isoformat(),
                "attempts": entry.attempts,
                "problem": entry.problem,
            }
        )
    if as_json:
        echo_json(
            {
                "pending": waiting.pending,
                "oldest_pending": waiting.oldest.isoformat() if waiting.oldest else None,
                "set_aside": aside,
            }
        )
    else:
        click.echo(f"Waiting to be taken: {waiting.pending}")
        if waiting.oldest is not None:
            click.echo(f"Oldest waiting since: {waiting.oldest:%Y-%m-%d %H:%M:%S} UTC")
        click.echo(f"Set aside after a fault: {len(aside)}")
        for item in aside:
            details = ", ".join(f"{k}: {v}" for k, v in item.items() if k != "file")
            click.echo(f"  {item['file']}: {details}")
    if aside:
        exit_with(ExitCode.PROBLEM)


@journal.command("retry")
def retry() -> None:
    """Put every set-aside message back in line and take what waits now. Each is taken as the
    next message of its conversation, so do this once the fault is fixed, soon after."""
    settings = settings_or_exit()
    moved = _journal(settings).retry_failed()

    async def work(runtime: Runtime) -> Replayed:
        return await runtime.runner.replay_journal()

    replayed = run(work, settings)
    click.echo(
        f"Put back in line: {moved}. Taken now: {replayed.taken}; still waiting: "
        f"{replayed.waiting}; set aside again: {replayed.set_aside}. Replies are sent by the "
        "running server."
    )
    if replayed.set_aside:
        exit_with(ExitCode.PROBLEM)
