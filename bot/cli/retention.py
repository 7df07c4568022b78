"""`policybot retention run [--dry-run]`: apply each school's retention periods now."""

from __future__ import annotations

import click

from bot.cli.options import json_option
from bot.cli.support import echo_json, run
from bot.runtime import Runtime


@click.group()
def retention() -> None:
    """Records past their retention periods: see what would go, or remove it now."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what is past its period.")
@json_option(help="Print the counts as JSON.")
def run_now(dry_run: bool, as_json: bool) -> None:
    """Anonymise closed reports and remove evidence, comments and post requests past their
    periods (reports on legal hold are kept). The server does this every hour."""
    from bot.jobs.retention import run_retention

    async def work(runtime: Runtime) -> None:
        done = await run_retention(runtime, dry_run=dry_run)
        if as_json:
            echo_json(
                {
                    school: {
                        "cases_anonymised": s.anonymised_cases,
                        "kept_on_hold": s.kept_on_hold,
                        "evidence": s.evidence,
                        "comments": s.comments,
                        "approvals": s.approvals,
                        "dry_run": dry_run,
                    }
                    for school, s in done.items()
                }
            )
            return
        verb = "Would remove" if dry_run else "Removed"
        for school, swept in done.items():
            click.echo(f"{school}: {verb}: {swept.counts()}")

    run(work)
