"""`policybot sla due` as a moderator or the policy's owner would run it to check a deadline.

The command needs no database or configuration, so it is run through click's runner on the
whole `policybot` command, and only what a person sees is checked: the output and exit code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from bot.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def sla_due(*args: str) -> Ran:
    result = CliRunner().invoke(main, ["sla", "due", *args], prog_name="policybot")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"policybot sla due {' '.join(args)} crashed") from result.exception
    assert "Traceback" not in result.output
    return Ran(result.exit_code, result.stdout, result.stderr)


def due_json(*args: str) -> str:
    ran = sla_due(*args, "--json")
    assert ran.code == 0, ran.err
    parsed = json.loads(ran.out)
    assert list(parsed) == ["due"]
    due = parsed["due"]
    assert isinstance(due, str)
    return due


def test_json_is_the_deadline_alone_with_its_offset() -> None:
    ran = sla_due("--received", "2026-11-20T16:00:00+00:00", "--within", "24h", "--json")

    assert ran.code == 0, ran.err
    assert json.loads(ran.out) == {"due": "2026-11-23T16:00:00+00:00"}
    assert ran.out == '{\n  "due": "2026-11-23T16:00:00+00:00"\n}\n'


def test_the_deadline_as_a_sentence() -> None:
    ran = sla_due("--received", "2026-11-20T16:00:00+00:00", "--within", "24h")

    assert ran.code == 0, ran.err
    assert ran.out == "Due Monday 23 November 2026 at 16:00 (Europe/London).\n"


def test_a_deadline_at_midnight_is_the_end_of_the_working_day() -> None:
    ran = sla_due("--received", "2026-11-20T00:00", "--within", "24h")

    assert ran.out == "Due by the end of Friday 20 November 2026 (Europe/London).\n"
    assert due_json("--received", "2026-11-20T00:00", "--within", "24h") == (
        "2026-11-21T00:00:00+00:00"
    )


def test_a_time_without_an_offset_is_read_on_the_schools_clock() -> None:
    # Friday 5 June 2026, 16:00 in London is 15:00 UTC; Monday at 16:00 is summer time too.
    assert due_json("--received", "2026-06-05T16:00", "--within", "24h") == (
        "2026-06-08T16:00:00+01:00"
    )
    assert due_json(
        "--received", "2026-06-05 16:00", "--within", "24h", "--timezone", "Asia/Tokyo"
    ) == ("2026-06-08T16:00:00+09:00")


def test_a_time_with_an_offset_is_that_instant() -> None:
    # 16:00 in New York is 21:00 in London: three hours of Friday, 21 of Monday.
    assert due_json("--received", "2026-11-20T16:00-05:00", "--within", "24h") == (
        "2026-11-23T21:00:00+00:00"
    )
    assert due_json("--received", "2026-11-20T16:00Z", "--within", "24h") == (
        "2026-11-23T16:00:00+00:00"
    )


@pytest.mark.parametrize("within", ["1.5h", "90m", "90M", "1.5 h"])
def test_the_time_allowed_in_hours_or_minutes(within: str) -> None:
    ran = sla_due("--received", "2026-11-16T10:00", "--within", within)

    assert ran.out == "Due Monday 16 November 2026 at 11:30 (Europe/London).\n"


def test_48_hours_or_the_next_working_school_day() -> None:
    received = ("--received", "2026-10-23T16:00", "--within", "48h")

    assert due_json(*received) == "2026-10-27T16:00:00+00:00"  # half term is working time
    assert due_json(*received, "--closed", "2026-10-26..2026-10-30") == (
        "2026-11-03T16:00:00+00:00"
    )


def test_closures_can_repeat_and_be_single_days() -> None:
    ran = sla_due(
        "--received",
        "2026-11-20T16:00",
        "--within",
        "24h",
        "--closed",
        "2026-11-23..2026-11-27",
        "--closed",
        "2026-11-30",
    )

    assert ran.out == "Due Tuesday 1 December 2026 at 16:00 (Europe/London).\n"


def test_the_bank_holidays_are_the_chosen_nations() -> None:
    easter = ("--received", "2026-04-02T12:00", "--within", "24h")

    assert due_json(*easter) == "2026-04-07T12:00:00+01:00"  # Good Friday, Easter Monday
    assert due_json(*easter, "--calendar", "scotland") == "2026-04-06T12:00:00+01:00"
    assert due_json(*easter, "--calendar", "none") == "2026-04-03T12:00:00+01:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--within", "24h"], "Missing option '--received'"),
        (["--received", "2026-11-20T16:00"], "Missing option '--within'"),
        (["--received", "Friday 4pm", "--within", "24h"], "not a date and time in ISO 8601"),
        (["--received", "2026-11-20T16:00", "--within", "24"], "not a length of time"),
        (["--received", "2026-11-20T16:00", "--within", "1d"], "not a length of time"),
        (["--received", "2026-11-20T16:00", "--within", "0h"], "more than nothing"),
        (["--received", "2026-11-20T16:00", "--within", "1441h"], "more than 60 days"),
        (
            ["--received", "2026-11-20T16:00", "--within", "24h", "--timezone", "Mars/Olympus"],
            "not a timezone I know",
        ),
        (
            ["--received", "2026-11-20T16:00", "--within", "24h", "--calendar", "wales"],
            "'wales' is not one of 'england-and-wales', 'scotland', 'northern-ireland', 'none'",
        ),
        (
            ["--received", "2026-11-20T16:00", "--within", "24h", "--closed", "26/10/2026"],
            "not a date or a range of dates",
        ),
        (
            ["--received", "2026-11-20T16:00", "--within", "24h", "--closed", "2026-02-30"],
            "2026-02-30 is not a date in the calendar",
        ),
        (
            [
                "--received",
                "2026-11-20T16:00",
                "--within",
                "24h",
                "--closed",
                "2026-11-30..2026-11-23",
            ],
            "2026-11-30..2026-11-23 ends before it starts",
        ),
        (
            [
                "--received",
                "2026-11-20T16:00",
                "--within",
                "24h",
                "--closed",
                "2026-11-21..2040-01-01",
            ],
            "no working day in the 3660 days after 2026-11-20",
        ),
        (["--received", "9999-12-31T16:00", "--within", "24h"], "past the end of the calendar"),
    ],
)
def test_bad_input_is_explained(args: list[str], message: str) -> None:
    ran = sla_due(*args)

    assert ran.code == 2
    assert ran.out == ""
    assert message in " ".join(ran.err.split())  # click wraps long messages
