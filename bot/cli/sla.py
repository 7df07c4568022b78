"""`policybot sla ...`: when the answer to a comment on an official account is due.

The policy promises an answer within so many hours of working time ("24 hours, or the next
working day if received at a weekend"). This command works a deadline out by hand, the same way
the bot does, so a moderator or the policy's owner can check one, or try out closure dates
before importing them. It needs no database and no configuration.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from bot.cli.options import json_option
from bot.cli.support import echo_json
from dialogs.services.comments.working_time import (
    BANK_HOLIDAY_REGIONS,
    MAX_WITHIN,
    Closure,
    WorkingCalendar,
)
from dialogs.when import describe_when

_WITHIN: Final = re.compile(r"(\d{1,5}(?:\.\d{1,4})?)\s*([hm])", re.IGNORECASE)
_CLOSED: Final = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\s*\.\.\s*(\d{4}-\d{2}-\d{2}))?")
_UNITS: Final = {"h": "hours", "m": "minutes"}


def _received(_ctx: click.Context, _param: click.Parameter, value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time in ISO 8601, like 2026-11-20T16:00 or "
            "2026-11-20T16:00+00:00."
        ) from None


def _within(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    found = _WITHIN.fullmatch(value.strip())
    if found is None:
        raise click.BadParameter(
            f"{value!r} is not a length of time: write hours or minutes, like 24h, 1.5h or 90m."
        )
    within = timedelta(**{_UNITS[found[2].lower()]: float(found[1])})
    if within <= timedelta(0):
        raise click.BadParameter("The time allowed must be more than nothing.")
    if within > MAX_WITHIN:
        raise click.BadParameter(
            f"{value} is more than {MAX_WITHIN.days} days; no policy allows that long."
        )
    return within


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text} is not a date in the calendar.") from None


def _closures(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[Closure, ...]:
    closures: list[Closure] = []
    for value in values:
        found = _CLOSED.fullmatch(value.strip())
        if found is None:
            raise click.BadParameter(
                f"{value!r} is not a date or a range of dates: write 2026-10-26..2026-10-30, "
                "or 2026-11-02 for one day."
            )
        first = _day(found[1])
        last = _day(found[2]) if found[2] else first
        if last < first:
            raise click.BadParameter(f"{value} ends before it starts.")
        closures.append(Closure(first, last))
    return tuple(closures)


def _zone(_ctx: click.Context, _param: click.Parameter, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value.strip())
    # A name that is not a zone can fail as a missing file, a directory, or a malformed path.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise click.BadParameter(
            f"{value!r} is not a timezone I know: use a name like Europe/London."
        ) from None


def _sentence(due: datetime, zone: ZoneInfo) -> str:
    """The deadline as a person reads it. One that falls at midnight is the end of the working
    day before: "Saturday at 00:00" would read as if Saturday were a working day."""
    if due.time() == time():
        noon = datetime.combine(due.date() - timedelta(days=1), time(12), tzinfo=zone)
        day, _, _ = describe_when(noon, tz=zone, now=noon).partition(" at ")
        return f"Due by the end of {day} ({zone.key})."
    return f"Due {describe_when(due, tz=zone, now=due)} ({zone.key})."


@click.group()
def sla() -> None:
    """Deadlines for answering comments on the school's official accounts."""


@sla.command("due")
@click.option(
    "--received",
    "received",
    required=True,
    metavar="ISO8601",
    callback=_received,
    help="When the comment arrived, in ISO 8601 (2026-11-20T16:00, or with an offset "
    "2026-11-20T16:00+00:00). Without an offset it is read in --timezone.",
)
@click.option(
    "--within",
    "within",
    required=True,
    metavar="DURATION",
    callback=_within,
    help="The working time the policy allows for an answer: 24h, 48h, 1.5h, 90m.",
)
@click.option(
    "--calendar",
    "region",
    type=click.Choice(BANK_HOLIDAY_REGIONS),
    default="england-and-wales",
    show_default=True,
    help="Whose bank holidays are not working days (none: only weekends are not).",
)
@click.option(
    "--closed",
    "closures",
    multiple=True,
    metavar="FIRST[..LAST]",
    callback=_closures,
    help="Dates the school is closed, for deadlines in school days: 2026-10-26..2026-10-30 or "
    "one date (repeat for several).",
)
@click.option(
    "--timezone",
    "zone",
    default="Europe/London",
    show_default=True,
    metavar="ZONE",
    callback=_zone,
    help="The school's timezone.",
)
@json_option()
def due(
    received: datetime,
    within: timedelta,
    region: str,
    closures: tuple[Closure, ...],
    zone: ZoneInfo,
    as_json: bool,
) -> None:
    """Say when the answer to a comment received at --received is due."""
    if received.tzinfo is None:
        received = received.replace(tzinfo=zone)
    calendar = WorkingCalendar(tz=zone, bank_holidays=region, closures=closures)
    try:
        deadline = calendar.due(received, within)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        echo_json({"due": deadline.isoformat(timespec="seconds")})
        return
    click.echo(_sentence(deadline, zone))
