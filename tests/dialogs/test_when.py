"""Exact expectations for the "when did it happen?" answers staff actually type.

A fixed ``now`` (Saturday 21 November 2026, 11:30 in London, GMT) keeps every row exact, so a
dateparser upgrade that changes a reading fails here rather than in a report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.when import MAX_LENGTH, describe_when, parse_when

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 21, 11, 30, tzinfo=LONDON)  # a Saturday, GMT (+00:00)
SUMMER_NOW = datetime(2026, 7, 2, 11, 0, tzinfo=UTC)  # 12:00 BST, given in another zone on purpose


def london(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def instant(moment: datetime) -> datetime:
    """Compare instants in UTC: by PEP 495, a repeated wall time never equals another zone's."""
    return moment.astimezone(UTC)


def wall(moment: datetime) -> tuple[datetime, int]:
    """Compare wall time and fold too: aware datetimes in one zone compare equal across folds."""
    return moment.replace(tzinfo=None), moment.fold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday 4pm", london(2026, 11, 20, 16, 0)),
        ("yesterday at 16:00", london(2026, 11, 20, 16, 0)),
        ("Yesterday 4 PM", london(2026, 11, 20, 16, 0)),
        ("today 9am", london(2026, 11, 21, 9, 0)),
        ("this morning", london(2026, 11, 21, 9, 0)),
        ("2 hours ago", london(2026, 11, 21, 9, 30)),
        ("an hour ago", london(2026, 11, 21, 10, 30)),
        ("half an hour ago", london(2026, 11, 21, 11, 0)),
        ("5 mins ago", london(2026, 11, 21, 11, 25)),
        ("last monday 3pm", london(2026, 11, 16, 15, 0)),
        ("tuesday 15:00", london(2026, 11, 17, 15, 0)),
        ("21/11 09:30", london(2026, 11, 21, 9, 30)),
        ("21/11/2026 9:30am", london(2026, 11, 21, 9, 30)),
        ("20/11/26 16:00", london(2026, 11, 20, 16, 0)),
        ("20 nov 4pm", london(2026, 11, 20, 16, 0)),
        ("Fri 20 Nov 16:00", london(2026, 11, 20, 16, 0)),
        ("16:00", london(2026, 11, 20, 16, 0)),  # most recent past 16:00 is yesterday's
        ("09:00", london(2026, 11, 21, 9, 0)),  # ... and 09:00 is this morning's
        ("1530", london(2026, 11, 20, 15, 30)),  # bare four digits: a 24-hour time
        ("0930", london(2026, 11, 21, 9, 30)),
        ("yesterday 1530hrs", london(2026, 11, 20, 15, 30)),
        ("yesterday at 16", london(2026, 11, 20, 16, 0)),
        ("midday yesterday", london(2026, 11, 20, 12, 0)),
        ("about 3pm", london(2026, 11, 20, 15, 0)),
        ("2026-11-20T16:00", london(2026, 11, 20, 16, 0)),
        ("2026-11-20 16:00", london(2026, 11, 20, 16, 0)),
        ("2026-11-20T16:00Z", london(2026, 11, 20, 16, 0)),
        ("2026-11-20T16:00:00+01:00", london(2026, 11, 20, 15, 0)),
        ("4pm UTC", london(2026, 11, 20, 16, 0)),
        ("now", NOW),
        ("just now", NOW),
        ("Now.", NOW),
        # Date-only answers are 00:00 that day, whatever the time of typing.
        ("yesterday", london(2026, 11, 20, 0, 0)),
        ("21/11", london(2026, 11, 21, 0, 0)),
        ("22/11", london(2025, 11, 22, 0, 0)),  # tomorrow's date: last year's is the past one
        ("3 days ago", london(2026, 11, 18, 0, 0)),
        ("sat", london(2026, 11, 14, 0, 0)),  # today is Saturday: the past one is a week ago
        ("march", london(2026, 3, 21, 0, 0)),
        ("2026-11-20", london(2026, 11, 20, 0, 0)),
        # Today's date with a later time stays today (the caller judges the future), never a
        # year ago; an explicit year is kept.
        ("21/11 14:00", london(2026, 11, 21, 14, 0)),
        ("21/11/2025 14:00", london(2025, 11, 21, 14, 0)),
        ("today 4pm", london(2026, 11, 21, 16, 0)),
        ("tomorrow", london(2026, 11, 22, 0, 0)),
        # Surrounding whitespace, punctuation and look-alike characters.
        ("  (yesterday 4pm!)  ", london(2026, 11, 20, 16, 0)),
        ("yesterday 4 p.m.", london(2026, 11, 20, 16, 0)),
        ("\uff11\uff16:\uff10\uff10", london(2026, 11, 20, 16, 0)),  # full-width 16:00
        ("yesterday\u200b 4pm", london(2026, 11, 20, 16, 0)),  # zero-width space
        ("yesterday\n4pm", london(2026, 11, 20, 16, 0)),
    ],
)
def test_parses_typed_answers(text: str, expected: datetime) -> None:
    result = parse_when(text, now=NOW, tz=LONDON)
    assert result is not None
    assert result.tzinfo is LONDON
    assert result == expected
    assert wall(result) == wall(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/7 10:00", datetime(2026, 7, 1, 9, 0, tzinfo=UTC)),  # 10:00 BST, not GMT
        ("2026-07-01T09:00:00Z", datetime(2026, 7, 1, 9, 0, tzinfo=UTC)),
        ("2026-07-01T10:00:00+01:00", datetime(2026, 7, 1, 9, 0, tzinfo=UTC)),
        ("2026-07-01T10:00", datetime(2026, 7, 1, 9, 0, tzinfo=UTC)),
        ("yesterday 4pm", datetime(2026, 7, 1, 15, 0, tzinfo=UTC)),
        ("this morning", datetime(2026, 7, 2, 8, 0, tzinfo=UTC)),
        ("now", SUMMER_NOW),
    ],
)
def test_summer_answers_are_british_summer_time(text: str, expected: datetime) -> None:
    result = parse_when(text, now=SUMMER_NOW, tz=LONDON)
    assert result is not None
    assert result.tzinfo is LONDON
    assert result.utcoffset() == timedelta(hours=1)
    assert result == expected


def test_relative_base_is_the_schools_wall_clock_not_nows_zone() -> None:
    # 23:30 in New York on the 20th is already 04:30 on the 21st in London.
    now = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert parse_when("yesterday", now=now, tz=LONDON) == london(2026, 11, 20, 0, 0)
    assert parse_when("today 9am", now=now, tz=LONDON) == london(2026, 11, 21, 9, 0)


def test_other_school_zones_are_honoured() -> None:
    new_york = ZoneInfo("America/New_York")
    result = parse_when("yesterday 4pm", now=NOW, tz=new_york)
    assert result is not None
    assert result.tzinfo is new_york
    assert result == datetime(2026, 11, 20, 16, 0, tzinfo=new_york)


def test_skipped_time_when_clocks_go_forward_moves_an_hour_later() -> None:
    # 01:30 on 29 March 2026 never showed on a London clock (01:00 GMT jumped to 02:00 BST). It is
    # read with the offset before the change, i.e. 01:30 GMT, which the new clock shows as 02:30.
    for text in ("29/3/2026 01:30", "2026-03-29T01:30"):
        result = parse_when(text, now=NOW, tz=LONDON)
        assert result is not None
        assert instant(result) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert wall(result) == (datetime(2026, 3, 29, 2, 30), 0)


def test_repeated_time_when_clocks_go_back_is_the_first_one() -> None:
    # 01:30 on 25 October 2026 happened twice; without an offset it is the first, in BST.
    for text in ("25/10/2026 01:30", "2026-10-25T01:30"):
        result = parse_when(text, now=NOW, tz=LONDON)
        assert result is not None
        assert instant(result) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        assert wall(result) == (datetime(2026, 10, 25, 1, 30), 0)


def test_repeated_time_with_explicit_offset_is_the_one_named() -> None:
    result = parse_when("2026-10-25T01:30:00+00:00", now=NOW, tz=LONDON)
    assert result is not None
    assert instant(result) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert wall(result) == (datetime(2026, 10, 25, 1, 30), 1)


def test_hours_ago_counts_real_time_across_the_clock_change() -> None:
    now = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # 02:30 GMT, after the clocks went back
    result = parse_when("2 hours ago", now=now, tz=LONDON)
    assert result is not None
    assert instant(result) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert wall(result) == (datetime(2026, 10, 25, 1, 30), 0)  # the first 01:30, in BST


def test_now_keeps_the_fold_of_a_repeated_time() -> None:
    now = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # the second 01:30, in GMT
    result = parse_when("now", now=now, tz=LONDON)
    assert result is not None
    assert instant(result) == now
    assert wall(result) == (datetime(2026, 10, 25, 1, 30), 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "banana",
        "I don't know",
        "not sure",
        "this is not a date",
        "x" * 500,
        "1" * (MAX_LENGTH + 1),
        "\x00\x01\x02",
        "yesterday\x00 4pm",
        "\x1b[31m16:00",
        "?!...",
        "12/31",  # American order: not a British date
        "13/13",
        "31/11",
        "yesterday at 4",  # 04:00 or 16:00? ask again
        "on 20/11 at 9",
        "1700000000",  # not read as a Unix timestamp
        "0001-01-01T00:00+01:00",  # cannot be shifted into the school's zone
    ],
)
def test_refuses_what_cannot_be_understood(text: str) -> None:
    assert parse_when(text, now=NOW, tz=LONDON) is None


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("yesterday", now=datetime(2026, 11, 21, 11, 30), tz=LONDON)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (london(2026, 11, 20, 16, 0), "Friday 20 November 2026 at 16:00"),
        (datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "Wednesday 1 July 2026 at 10:00"),
        (london(2026, 11, 21, 9, 5, 59), "Saturday 21 November 2026 at 09:05"),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Sunday 25 October 2026 at 01:30 BST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Sunday 25 October 2026 at 01:30 GMT"),
    ],
)
def test_describe_when(moment: datetime, expected: str) -> None:
    assert describe_when(moment, tz=LONDON, now=NOW) == expected


def test_describe_when_refuses_naive_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        describe_when(datetime(2026, 11, 20, 16, 0), tz=LONDON, now=NOW)


def test_parse_then_describe_round_trip() -> None:
    result = parse_when("yesterday 4pm", now=NOW, tz=LONDON)
    assert result is not None
    assert describe_when(result, tz=LONDON, now=NOW) == "Friday 20 November 2026 at 16:00"


_FRAGMENTS = [
    "yesterday",
    "today",
    "last",
    "this",
    "morning",
    "monday",
    "sat",
    "nov",
    "may",
    "at",
    "about",
    "ago",
    "hours",
    "2",
    "4pm",
    "16:00",
    "1530hrs",
    "21/11",
    "29/3/2026",
    "25/10/2026",
    "01:30",
    "2026-10-25T01:30",
    "+01:00",
    "Z",
    "UTC",
    "BST",
    "now",
    "midday",
    "0",
    "9999",
    "/",
    ".",
    "-",
]
_ZONES = [LONDON, ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=120),
        st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map(" ".join),
    ),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    tz=st.sampled_from(_ZONES),
)
def test_never_raises_and_returns_real_times_in_the_schools_zone(
    text: str, now: datetime, tz: ZoneInfo
) -> None:
    result = parse_when(text, now=now, tz=tz)
    if result is None:
        return
    assert result.tzinfo is tz
    assert result.utcoffset() is not None
    # The wall time and fold are ones the school's clock really showed.
    normalised = result.astimezone(UTC).astimezone(tz)
    assert wall(normalised) == wall(result)
    assert describe_when(result, tz=tz, now=now)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Friday 3pm", london(2026, 11, 27, 15, 0)),  # the coming Friday, not yesterday's
        ("monday 10am", london(2026, 11, 23, 10, 0)),
        ("27/11 15:30", london(2026, 11, 27, 15, 30)),  # this year, not last
        ("21/11 09:00", london(2026, 11, 21, 9, 0)),  # today (already past), not next year
        ("tomorrow 9am", london(2026, 11, 22, 9, 0)),
    ],
)
def test_a_planned_time_leans_to_the_future(typed: str, expected: datetime) -> None:
    assert parse_when(typed, now=NOW, tz=LONDON, lean="future") == expected
    past = parse_when(typed, now=NOW, tz=LONDON)
    assert past is not None
    assert past <= expected


@pytest.mark.parametrize("text", ["today 11:30am", "today 11:30", "11:30am today", "11.30"])
def test_a_time_typed_at_that_very_minute_keeps_its_time(text: str) -> None:
    """dateparser calls it a whole day when the typed time equals the clock exactly."""
    assert parse_when(text, now=NOW, tz=LONDON) == NOW
