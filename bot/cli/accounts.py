"""`policybot accounts list|show|requests|record`: the register of official accounts."""

from __future__ import annotations

import re
from typing import Any

import click

from bot.cli.options import as_option, json_option, school_and_actor, school_option, whom
from bot.cli.support import echo_json, in_session, settings_or_exit
from dialogs.services.accounts.requests import STATUS_LABELS, AccountStatus
from dialogs.services.container import Services
from dialogs.services.school.schools import School
from storage.models import AccountRequest, RegisteredAccount

_ACCOUNT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@click.group()
def accounts() -> None:
    """The school's official accounts, and requests for new ones."""


def _register(school: School) -> list[dict[str, Any]]:
    """The register with each account's current yearly check: who was asked, who answered,
    and what has been flagged to the senior leaders this round."""

    async def fetch(services: Services) -> list[dict[str, Any]]:
        rows = await services.register.entries(school)
        checks = await services.account_checks.status(school)
        return [{**row, "check": checks.get(row["id"])} for row in rows]

    return in_session(fetch)


@accounts.command("list")
@school_option()
@json_option()
def list_accounts(school_id: str | None, as_json: bool) -> None:
    """The register: accounts from the configuration and those recorded after approval."""
    school, _ = school_and_actor(school_id, None)
    rows = _register(school)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        owners = ", ".join(school.display_name(o) for o in row["owners"]) or "nobody"
        flagged = (row["check"] or {}).get("flagged") or []
        concerns = f"  needs attention: {', '.join(flagged)}" if flagged else ""
        click.echo(
            f"{row['id']:<16} {row['name']}  ({row['platform']}, {row['source']})  "
            f"run by {owners}{concerns}"
        )


@accounts.command("show")
@click.argument("account_id")
@school_option()
@json_option()
def show(account_id: str, school_id: str | None, as_json: bool) -> None:
    """One account in the register."""
    school, _ = school_and_actor(school_id, None)
    found = [row for row in _register(school) if row["id"] == account_id]
    if not found:
        raise click.UsageError(f"{school.name} has no official account {account_id!r}.")
    if as_json:
        echo_json(found[0])
        return
    for key, value in found[0].items():
        click.echo(f"{key}: {value}")


@accounts.command("requests")
@school_option()
@json_option()
def list_requests(school_id: str | None, as_json: bool) -> None:
    """Requests for new accounts and where each has got to."""
    school, _ = school_and_actor(school_id, None)

    async def fetch(services: Services) -> list[AccountRequest]:
        return list(await services.accounts.requests(school))

    rows = in_session(fetch)
    data = [
        {
            "reference": r.reference,
            "name": r.name,
            "platform": r.platform,
            "status": r.status,
            "requested_by": r.requester_id,
            "runners": list(r.runners),
            "decided_by": r.decided_by,
            "reason": r.reason,
        }
        for r in rows
    ]
    if as_json:
        echo_json(data)
        return
    if not rows:
        click.echo("No requests for new accounts.")
    for r in rows:
        click.echo(f"{r.reference}  {STATUS_LABELS[AccountStatus(r.status)]:<32} {r.name}")


@accounts.command("record")
@click.argument("reference")
@as_option(required=True, help="The IT administrator recording it.")
@click.option("--id", "account_id", required=True, help="A short id, e.g. year6-blog.")
@click.option("--handle", required=True, help="The account's handle or name on the platform.")
@click.option("--link", required=True, help="The account's address (https://…).")
@click.option(
    "--credentials-stored",
    is_flag=True,
    help="Confirm its password is kept in the school's password store.",
)
@click.option(
    "--comment-deadlines/--no-comment-deadlines",
    default=True,
    help="Whether comments there are answered within a deadline (default: yes).",
)
@click.option(
    "--deadline-hours",
    type=click.FloatRange(min=0, min_open=True, max=720),
    help="This account's own comment deadline, if not the school's.",
)
@school_option()
def record(
    reference: str,
    person_id: str,
    account_id: str,
    handle: str,
    link: str,
    credentials_stored: bool,
    comment_deadlines: bool,
    deadline_hours: float | None,
    school_id: str | None,
) -> None:
    """Add an approved account to the register once it has been set up."""
    if _ACCOUNT_ID.fullmatch(account_id) is None:
        raise click.BadParameter("use lower-case letters, digits, - and _", param_hint="--id")
    school, person = whom(settings_or_exit(), person_id, school_id)

    async def store(services: Services) -> RegisteredAccount:
        return await services.accounts.record(
            reference,
            school=school,
            actor=person,
            account_id=account_id,
            handle=handle,
            link=link,
            credentials_stored=credentials_stored,
            comment_deadlines=comment_deadlines,
            comment_deadline_hours=deadline_hours,
        )

    registered = in_session(store)
    click.echo(f"{registered.name} ({registered.account_id}) is in the register.")


@accounts.command("update")
@click.argument("account_id")
@as_option(required=True, help="The IT administrator or senior leader.")
@click.option("--add-owner", "add_owners", multiple=True, help="A person id; may be repeated.")
@click.option("--remove-owner", "remove_owners", multiple=True, help="A person id.")
@click.option(
    "--comment-deadlines/--no-comment-deadlines",
    default=None,
    help="Whether comments there are answered within a deadline.",
)
@click.option(
    "--deadline-hours",
    type=click.FloatRange(min=0, min_open=True, max=720),
    help="This account's own comment deadline.",
)
@school_option()
def update(
    account_id: str,
    person_id: str,
    add_owners: tuple[str, ...],
    remove_owners: tuple[str, ...],
    comment_deadlines: bool | None,
    deadline_hours: float | None,
    school_id: str | None,
) -> None:
    """Change who runs a recorded account (someone left), or its comment rules."""
    school, person = whom(settings_or_exit(), person_id, school_id)

    async def store(services: Services) -> RegisteredAccount:
        return await services.register.update(
            school,
            account_id,
            actor=person,
            add_owners=add_owners,
            remove_owners=remove_owners,
            comment_deadlines=comment_deadlines,
            comment_deadline_hours=deadline_hours,
        )

    row = in_session(store)
    owners = ", ".join(school.display_name(o) for o in row.owners) or "nobody"
    click.echo(f"{row.name} ({row.account_id}) is updated. Run by: {owners}.")
