"""`policybot people list|show|sync|check`: who the bot knows, and whether it can reach them.

The configuration lists the people with a role beyond staff (by email); everyone else is
learned from Slack and Teams when they first write (dialogs.services.people.directory). These
commands are for the IT administrator: see who the bot knows, at which school, with which
roles and on which platforms; refresh that from Slack now rather than at each person's next
message; and check, before it matters, that every lead, approver and moderator can be reached.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import click

from bot.cli.options import json_option, school_option
from bot.cli.support import ExitCode, echo_json, exit_with, run, settings_or_exit
from bot.runtime import Runtime
from dialogs.services.people.directory import (
    AccountKind,
    DirectoryUnavailable,
    EmailDirectory,
    Listing,
    PlatformDirectory,
    PlatformName,
    SyncResult,
)
from dialogs.services.school.schools import Person, Role, School

# Roles whose holders are sent alerts or cards: each must be reachable before it matters.
ALERTED = frozenset(
    {
        Role.SAFEGUARDING_LEAD,
        Role.DEPUTY_SAFEGUARDING_LEAD,
        Role.HEADTEACHER,
        Role.APPROVER,
        Role.MODERATOR,
        Role.SENIOR_LEADER,
        Role.POLICY_OWNER,
        Role.DATA_PROTECTION_OFFICER,
        Role.TRUST_SAFEGUARDING_LEAD,
    }
)


def _status(listing: Listing) -> str:
    if listing.left:
        return "left"
    return "listed" if listing.listed else "learned"


def _platforms(person: Person) -> list[str]:
    return [
        name
        for name, account in (("slack", person.slack_user_id), ("teams", person.teams_user_id))
        if account
    ]


def _as_dict(listing: Listing) -> dict[str, Any]:
    person, learned = listing.person, listing.learned
    return {
        "school": listing.school.id,
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "roles": sorted(role.value for role in person.roles),
        "status": _status(listing),
        "slack_user_id": person.slack_user_id,
        "teams_user_id": person.teams_user_id,
        "learned_at": learned.learned_at.isoformat() if learned else None,
        "checked_at": learned.checked_at.isoformat() if learned else None,
        "left_at": learned.left_at.isoformat() if learned and learned.left_at else None,
    }


def _known_school(runtime: Runtime, school_id: str | None) -> School | None:
    if school_id is None:
        return None
    school = runtime.directory.school(school_id)
    if school is None:
        raise click.UsageError(f"There is no school {school_id!r} in the configuration.")
    return school


@click.group()
def people() -> None:
    """Who the bot knows: listed in the configuration, or learned from Slack and Teams."""


@people.command("list")
@school_option(help="Only this school's people.")
@json_option()
def list_people(school_id: str | None, as_json: bool) -> None:
    """Everyone the bot knows, with their school, roles, platforms and whether they have left."""

    async def work(runtime: Runtime) -> list[Listing]:
        _known_school(runtime, school_id)
        return runtime.staff.listings(school_id)

    listings = run(work)
    if as_json:
        echo_json([_as_dict(listing) for listing in listings])
        return
    if not listings:
        click.echo("Nobody yet.")
        return
    for listing in listings:
        person = listing.person
        roles = ", ".join(sorted(r.value for r in person.roles - {Role.STAFF})) or "staff"
        if listing.left:
            roles = "no roles (left)"
        platforms = ", ".join(_platforms(person)) or "not on Slack or Teams yet"
        click.echo(
            f"{listing.school.id}/{person.id}  {person.name}  <{person.email or 'no email'}>  "
            f"{_status(listing)}; {roles}; {platforms}"
        )


@people.command("show")
@click.argument("person_id")
@school_option(help="The school, when the id is at several.")
@json_option()
def show(person_id: str, school_id: str | None, as_json: bool) -> None:
    """One person: their school, roles, platforms, and when the platform last vouched for them."""

    async def work(runtime: Runtime) -> list[Listing]:
        _known_school(runtime, school_id)
        return [
            listing
            for listing in runtime.staff.listings(school_id)
            if listing.person.id == person_id
        ]

    found = run(work)
    if not found:
        exit_with(ExitCode.REFUSED, f"Nobody with the id {person_id!r} is known.")
    if len(found) > 1:
        names = ", ".join(listing.school.id for listing in found)
        raise click.UsageError(
            f"{person_id!r} is at several schools; choose one with --school ({names})."
        )
    details = _as_dict(found[0])
    if as_json:
        echo_json(details)
        return
    for key, value in details.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"{key.replace('_', ' ')}: {shown if shown not in (None, '') else '-'}")


def _describe_sync(platform: str, result: SyncResult) -> list[str]:
    lines = [f"{platform}: {result.checked} checked"]
    if result.left:
        lines.append(f"  left, access removed: {', '.join(result.left)}")
    if result.found:
        lines.append(f"  found by email: {', '.join(result.found)}")
    if result.not_found:
        lines.append(f"  not found by email: {', '.join(result.not_found)}")
    if result.unavailable:
        lines.append(f"  {result.unavailable} could not be asked (try again later)")
    return lines


@people.command("sync")
@json_option()
def sync(as_json: bool) -> None:
    """Ask Slack and Teams about everyone the bot learned there (leavers lose access now), and
    find the people listed by email who have not written to the bot yet."""
    settings = settings_or_exit()
    if settings.slack is None and not settings.teams.enabled:
        click.echo(
            "Neither Slack (SLACK_BOT_TOKEN) nor Teams (MICROSOFT_APP_ID) is configured, so "
            "there is nothing to sync from.",
            err=True,
        )
        exit_with(ExitCode.USAGE)

    async def work(runtime: Runtime) -> dict[str, SyncResult]:
        async with _directories(runtime) as directories:
            return {
                platform: await runtime.staff.sync(
                    runtime.db.session, platform, lookup, emails, runtime.clock()
                )
                for platform, (lookup, emails) in directories.items()
            }

    results = run(work, settings)
    if as_json:
        echo_json(
            {
                platform: {
                    "checked": result.checked,
                    "left": result.left,
                    "found": result.found,
                    "not_found": result.not_found,
                    "unavailable": result.unavailable,
                }
                for platform, result in results.items()
            }
        )
        return
    for platform, result in results.items():
        for line in _describe_sync(platform.capitalize(), result):
            click.echo(line)


@contextlib.asynccontextmanager
async def _directories(
    runtime: Runtime,
) -> AsyncIterator[dict[PlatformName, tuple[PlatformDirectory, EmailDirectory | None]]]:
    """Each configured platform's directory, reached from the command line (its clients are
    closed after)."""
    settings = runtime.settings
    client = teams = None
    try:
        if settings.slack is not None:
            from bot.channels.slack.directory import SlackDirectory
            from bot.channels.slack.web import web_client

            client = web_client(settings.slack)
            slack = SlackDirectory(client)
            runtime.platform_directories["slack"] = (slack, slack)
        if settings.teams.enabled and not settings.teams.development_mode:
            from bot.channels.teams.channel import TeamsChannel

            teams = TeamsChannel(runtime, settings.teams)  # registers its own directory
        yield dict(runtime.platform_directories)
    finally:
        if client is not None and client.session is not None:
            await client.session.close()
        if teams is not None:
            await teams.close()


@people.command("check")
@json_option()
def check(as_json: bool) -> None:
    """Whether each person whose role is sent alerts (leads, approvers, moderators ...) can be
    reached now, per platform; exit 1 when a safeguarding lead or deputy cannot be reached at
    all, for monitoring."""
    settings = settings_or_exit()

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        async with _directories(runtime) as directories:
            slack = directories.get("slack")
            teams = directories.get("teams")
            for school in runtime.directory.schools:
                for person in school.people:
                    if not person.roles & ALERTED:
                        continue
                    slack_reach = await _slack_reach(person, slack[0] if slack else None)
                    teams_reach = await _teams_reach(runtime, person, teams[1] if teams else None)
                    rows.append(
                        {
                            "school": school.id,
                            "id": person.id,
                            "name": person.name,
                            "roles": sorted(r.value for r in person.roles & ALERTED),
                            "slack": slack_reach,
                            "teams": teams_reach,
                            "reachable": slack_reach == "yes" or teams_reach.startswith("yes"),
                        }
                    )
        return rows

    rows = run(work, settings)
    if as_json:
        echo_json(rows)
    else:
        for row in rows:
            mark = "ok " if row["reachable"] else "NO "
            click.echo(
                f"{mark} {row['school']}/{row['id']}  {row['name']} ({', '.join(row['roles'])}): "
                f"Slack {row['slack']}; Teams {row['teams']}"
            )
    leads = {Role.SAFEGUARDING_LEAD.value, Role.DEPUTY_SAFEGUARDING_LEAD.value}
    if any(not row["reachable"] and leads & set(row["roles"]) for row in rows):
        exit_with(ExitCode.PROBLEM)


async def _teams_reach(runtime: Runtime, person: Person, emails: EmailDirectory | None) -> str:
    """Whether Teams reaches one person ("yes ..."), or why not."""
    from storage import addresses

    if emails is None:
        return "Teams is not configured"
    if person.teams_user_id:
        async with runtime.db.session() as session:
            saved = await addresses.look_up(
                session, platform="teams", kind="person", key=person.teams_user_id
            )
        if saved is not None:
            return "yes"
    if not person.email:
        return "not until they write to the bot in Teams (no email listed)"
    try:
        found = await emails.by_email(person.email)
    except DirectoryUnavailable:
        return "Teams could not be asked just now"
    if found is None:
        return f"nobody in the teams the app is in has the email {person.email}"
    return "yes (found in a team's roster)"


_KINDS = {
    AccountKind.GUEST: "a guest's",
    AccountKind.BOT: "a bot's",
    AccountKind.DEACTIVATED: "deactivated",
    AccountKind.MEMBER: "a member's",
}


async def _slack_reach(person: Person, finder: Any) -> str:
    """Whether Slack reaches one person ("yes"), or why not."""
    if finder is None:
        return "Slack is not configured"
    if not person.slack_user_id and not person.email:
        return "no Slack account or email listed"
    try:
        if person.slack_user_id:
            profile = await finder.profile(person.slack_user_id)
        else:
            profile = await finder.by_email(person.email)
    except DirectoryUnavailable:
        return "Slack could not be asked just now"
    if profile is None and person.slack_user_id:
        return f"Slack has no account {person.slack_user_id} in this workspace"
    if profile is None:
        return f"nobody in Slack has the email {person.email}"
    if profile.kind is not AccountKind.MEMBER:
        return f"their Slack account is {_KINDS[profile.kind]}"
    return "yes"
