"""The `policybot` command."""

from __future__ import annotations

import logging
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.lazy import LazyCommand, LazyGroup
from bot.cli.options import as_option, school_option, whom
from bot.cli.support import ExitCode, exit_with, run, settings_or_exit, unreachable_database_exits
from bot.observability.logs import LOG_FORMATS, LogFormat, configure_logging, default_format

if TYPE_CHECKING:
    from bot.runtime import Runtime

# The commands kept in modules of their own, imported only when one of them runs (see
# bot.cli.lazy). The help is the first paragraph of each command's docstring, so that
# `policybot --help` lists them all without importing them; tests/bot/test_startup.py checks it.
LAZY_COMMANDS = {
    "accounts": LazyCommand(
        "bot.cli.accounts:accounts", "The school's official accounts, and requests for new ones."
    ),
    "approvals": LazyCommand(
        "bot.cli.approvals:approvals",
        "Requests to publish posts on the school's official accounts.",
    ),
    "ask": LazyCommand(
        "bot.cli.policy:ask",
        "Answer QUESTION from a policy, as the bot would (the question is not recorded).",
    ),
    "audit": LazyCommand("bot.cli.audit:audit", "The audit log's tamper-evident chain."),
    "backup": LazyCommand(
        "bot.cli.backup:backup",
        "Write the database, the evidence files and a manifest of their hashes to one archive "
        "(encrypted things stay encrypted; no key goes in it).",
    ),
    "calendar": LazyCommand(
        "bot.cli.comments:calendar", "The school's closures, for deadlines counted in school days."
    ),
    "cases": LazyCommand(
        "bot.cli.cases:cases",
        "Reports of online abuse: list, show, acknowledge, assign, note, status, export.",
    ),
    "comments": LazyCommand(
        "bot.cli.comments:comments",
        "Comments on the school's official accounts and their deadlines.",
    ),
    "consent": LazyCommand(
        "bot.cli.consent:consent",
        "The school's parental consent register: which pupils may appear on which platforms.",
    ),
    "deliveries": LazyCommand(
        "bot.cli.deliveries:deliveries",
        "Messages not delivered yet after failing, and those escalated (exit 1 when any were "
        "escalated, for monitoring).",
    ),
    "journal": LazyCommand(
        "bot.cli.journal:journal", "Messages kept on disk until the database could take them."
    ),
    "keys": LazyCommand(
        "bot.cli.keys:keys", "The keys that encrypt report text and evidence files at rest."
    ),
    "people": LazyCommand(
        "bot.cli.people:people",
        "Who the bot knows: listed in the configuration, or learned from Slack and Teams.",
    ),
    "policy": LazyCommand(
        "bot.cli.policy:policy",
        "The school's policy: import versions, see them, and see the questions it left open.",
    ),
    "restore": LazyCommand(
        "bot.cli.backup:restore_command",
        "Restore an archive made by `policybot backup` into an empty installation, after "
        "checking its hashes, its schema revision and the keys; then check the audit log's "
        "chain.",
    ),
    "retention": LazyCommand(
        "bot.cli.retention:retention",
        "Records past their retention periods: see what would go, or remove it now.",
    ),
    "sar": LazyCommand(
        "bot.cli.sar:sar",
        "Subject access: export everything held about a person, or erase what may be erased.",
    ),
    "sla": LazyCommand(
        "bot.cli.sla:sla", "Deadlines for answering comments on the school's official accounts."
    ),
}


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`policybot --version`: the installed package's version, read from its metadata (which
    imports nothing of policybot's), so a deployment can be checked without starting anything."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("policybot")
    except PackageNotFoundError:
        found = "unknown (not installed: run from a source tree)"
    click.echo(f"policybot {found}")
    ctx.exit()


@click.group(cls=LazyGroup, lazy_commands=LAZY_COMMANDS)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the installed version and exit.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more (never report contents).")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    envvar="POLICYBOT_LOG_FORMAT",
    help="How log lines are written to stderr: json (one object a line) or text. Default: "
    "json for `serve` when stderr is not a terminal, else text [env: POLICYBOT_LOG_FORMAT].",
)
@click.pass_context
def main(ctx: click.Context, verbose: bool, log_format: LogFormat | None) -> None:
    """policybot: live by your school's staff Social Media Policy."""
    server = ctx.invoked_subcommand == "serve"
    chosen = log_format or default_format(server=server)
    ctx.meta[LOG_FORMAT] = chosen
    configure_logging(
        level=logging.INFO if verbose else logging.WARNING, log_format=chosen, server=server
    )


LOG_FORMAT = "policybot.log_format"


def _notice(message: str, *, warning: bool = False) -> None:
    """Tell whoever started the server: on stderr as it is, or, when stderr is a JSON log, as
    a line of that log (every line of which is one JSON object)."""
    if click.get_current_context().meta.get(LOG_FORMAT) == "json":
        logging.getLogger("bot.cli").log(logging.WARNING if warning else logging.INFO, message)
    else:
        click.echo(message, err=True)


# -- chat ------------------------------------------------------------------------------


@main.command()
@as_option(help="Who you are (a person id from the configuration).")
@school_option()
def chat(person_id: str | None, school_id: str | None) -> None:
    """Talk to the bot in this terminal (answers can also be piped in)."""
    from bot.channels.shared_files import read_files
    from bot.channels.terminal.chat import TerminalChat
    from bot.jobs.scheduler import start_scheduler
    from dialogs.inbox import Who
    from storage.conversations import ConversationKey

    settings = settings_or_exit()
    school, person = whom(settings, person_id, school_id)
    interactive = sys.stdin.isatty()
    if person_id is None and interactive:
        click.echo(f"Chatting as {person.name} ({person.id}); use --as to choose someone else.\n")

    async def work(runtime: Runtime) -> int:
        who = Who(
            person=person,
            school=school,
            key=ConversationKey("terminal", f"{school.id}:{person.id}", "terminal"),
        )
        scheduler = start_scheduler(runtime)
        try:
            terminal = TerminalChat(
                runtime.runner,
                who,
                stdin=sys.stdin,
                stdout=sys.stdout,
                echo=not interactive,
                max_file_bytes=settings.evidence.largest_upload_bytes,
                read_files=partial(read_files, runtime),
            )
            return await terminal.run()
        finally:
            scheduler.shutdown(wait=False)

    raise SystemExit(run(work, settings))


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")  # noqa: S104
def serve(host: str) -> None:
    """Run the server: Slack events (or Socket Mode), health checks and scheduled jobs."""
    from aiohttp import web

    from bot.access_log import RedactingAccessLogger
    from bot.app import create_app
    from bot.channels.teams.dev_mode import refuse_exposed
    from bot.cli.support import prepared_runtime
    from bot.full_collections import FullCollections
    from bot.warm_start import settle
    from dialogs.services.errors import ConfigError

    settings = settings_or_exit()
    try:
        refuse_exposed(settings.teams, host)
    except ConfigError as exc:
        exit_with(ExitCode.USAGE, exc.message)
    runtime = prepared_runtime(settings)
    if settings.slack is None:
        _notice("Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET).", warning=True)
    elif settings.slack.socket_mode:
        _notice("Slack: Socket Mode (no public URL needed).")
    else:
        _notice(f"Slack: events at http://{host}:{settings.port}/slack/events")
    app = create_app(runtime)

    async def started(_: web.Application) -> None:
        settle(runtime)  # the last start-up hook (bot.warm_start)
        runtime.in_background(FullCollections(runtime.runner.busy).run())

    app.on_startup.append(started)
    web.run_app(
        app,
        host=host,
        port=settings.port,
        print=None,
        access_log_class=RedactingAccessLogger,
    )


@main.group()
def manifest() -> None:
    """App manifests for the chat platforms."""


@manifest.command("slack")
@click.option(
    "--url",
    "public_url",
    help="The bot's public https address (default: POLICYBOT_PUBLIC_URL). Without one, the "
    "manifest uses Socket Mode.",
)
def manifest_slack(public_url: str | None) -> None:
    """Print the Slack app manifest (YAML) to paste into api.slack.com/apps."""
    from bot.channels.slack.manifest import manifest_yaml

    settings = settings_or_exit()
    try:
        click.echo(manifest_yaml(public_url=public_url or settings.public_url), nl=False)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@manifest.command("teams")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--url", "public_url", help="The bot's public https address (default: POLICYBOT_PUBLIC_URL)."
)
def manifest_teams(out: Path, public_url: str | None) -> None:
    """Build the Teams app package (ZIP) for the configured MICROSOFT_APP_ID."""
    from bot.channels.teams.manifest import build_package

    settings = settings_or_exit()
    if not settings.teams.app_id:
        raise click.UsageError("Set MICROSOFT_APP_ID (the bot's app registration) first.")
    try:
        written = build_package(
            app_id=settings.teams.app_id, out=out, public_url=public_url or settings.public_url
        )
    except FileExistsError as exc:
        raise click.UsageError(f"{out} already exists; choose another name.") from exc
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"Teams app package written to {written}. Upload it in Teams: Apps → Manage your apps."
    )


# -- database --------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option(
    "--owner-url",
    envvar="DATABASE_OWNER_URL",
    help="PostgreSQL: migrate as this role, which owns the tables, and grant the role in "
    "DATABASE_URL (the server's) only what it needs [env: DATABASE_OWNER_URL].",
)
def db_upgrade(owner_url: str | None) -> None:
    """Bring the database schema up to date."""
    from sqlalchemy.engine import make_url

    from storage import migrate

    settings = settings_or_exit()
    if settings.uses_embedded_database:
        if owner_url:
            raise click.UsageError(
                "--owner-url (DATABASE_OWNER_URL) is for PostgreSQL: the embedded SQLite "
                "database has no roles."
            )
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    server_role = make_url(settings.database_url).username
    if owner_url and not server_role:
        raise click.UsageError(
            "With --owner-url, DATABASE_URL must name the server's role "
            "(postgresql://role:password@host/db), so it can be granted what it needs."
        )
    with unreachable_database_exits("DATABASE_OWNER_URL" if owner_url else "DATABASE_URL"):
        migrate.upgrade(owner_url or settings.database_url)
        revision = migrate.current_revision(owner_url or settings.database_url)
        problems: list[str] = []
        if owner_url and server_role and server_role != make_url(owner_url).username:
            try:
                problems = migrate.grant_server_role(owner_url, server_role)
            except ValueError as exc:
                raise click.UsageError(
                    f"DATABASE_URL names a role that is not there: {exc}."
                ) from exc
            click.echo(
                f"Privileges granted to {server_role}: read and add audit entries, never change "
                "or remove them; use every other table."
            )
    click.echo(f"Database is at revision {revision}.")
    for problem in problems:
        click.echo(f"Warning: {problem}", err=True)


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    from storage import migrate

    settings = settings_or_exit()
    with unreachable_database_exits():
        current = migrate.current_revision(settings.database_url)
    state = "up to date" if current == migrate.head_revision() else "out of date"
    click.echo(f"{current or 'empty'} ({state})")


# -- configuration and keys --------------------------------------------------------------


@main.group()
def config() -> None:
    """Configuration."""


@config.command("check")
def config_check() -> None:
    """Validate the configuration and summarise it."""
    settings = settings_or_exit()
    click.echo(f"Configuration {settings.config_path} is valid.")
    for school in settings.directory.schools:
        domains = ", ".join(school.membership.email_domains)
        staff = f"anyone at {domains}" if domains else "only the people listed"
        click.echo(
            f"  {school.id}: {school.name} ({school.timezone}), {len(school.people)} people "
            f"listed; staff: {staff}"
        )
    database = "embedded SQLite" if settings.uses_embedded_database else "PostgreSQL"
    encrypted = settings.evidence_key is not None
    click.echo(f"  database: {database}; evidence and report text encrypted: {encrypted}")


@main.command()
def keygen() -> None:
    """Print a new key for POLICYBOT_EVIDENCE_KEY, which encrypts evidence and report text, or
    for POLICYBOT_AUDIT_KEY, which seals the audit log (keep each secret and backed up, apart
    from the database)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


# -- scheduled jobs ----------------------------------------------------------------------


@main.group()
def jobs() -> None:
    """Scheduled work, run once (for cron or to check)."""


@jobs.command("drafts")
def jobs_drafts() -> None:
    """Remind people of unfinished dialogs, and expire old ones."""
    from bot.jobs.drafts import run_draft_sweep

    async def work(runtime: Runtime) -> None:
        result = await run_draft_sweep(runtime)
        click.echo(f"reminded {result.reminded}, expired {result.expired}, failed {result.failed}")

    run(work)


@jobs.command("posts")
def jobs_posts() -> None:
    """Remind about approved posts not yet published, and let lapsed approvals expire."""
    from bot.jobs.posts import run_post_sweep

    async def work(runtime: Runtime) -> None:
        result = await run_post_sweep(runtime)
        click.echo(f"reminded {result.reminded}, expired {result.expired}")

    run(work)


@jobs.command("comments")
def jobs_comments() -> None:
    """Nudge moderators about comments near or past their deadline, and send due digests."""
    from bot.jobs.comments import run_comment_sweep, run_weekly_digests

    async def work(runtime: Runtime) -> None:
        result = await run_comment_sweep(runtime)
        if result.skipped:
            click.echo("another process is sweeping comments; nothing done")
            return
        digests = await run_weekly_digests(runtime)
        click.echo(
            f"nudged {result.nudged}, overdue {result.overdue}, escalated {result.escalated}, "
            f"digests {digests}"
        )

    run(work)


@jobs.command("accounts")
def jobs_accounts() -> None:
    """Ask owners to confirm their official accounts once a year, and flag concerns."""
    from bot.jobs.accounts import run_account_checks

    async def work(runtime: Runtime) -> None:
        result = await run_account_checks(runtime)
        if result.skipped:
            click.echo("another process is checking accounts; some schools were skipped")
        click.echo(f"asked {result.asked} owners, flagged {result.flagged} concerns")

    run(work)
