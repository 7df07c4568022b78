"""When the answer to a comment is due, counted in working time.

The worked examples are the ones a moderator would check by hand against a calendar; the
property tests check the rules that make deadlines trustworthy (never early, never counted
twice, the same whichever way they are split) across the zones where days do not start at
00:00 or are not 24 hours long. Instants are compared in UTC: Python compares two datetimes in
the same zone by their wall clocks, which is wrong by an hour around a clock change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialogs.services.comments.working_time import (
    BANK_HOLIDAY_REGIONS,
    Closure,
    WorkingCalendar,
)

LONDON = ZoneInfo("Europe/London")
HOURS_24 = timedelta(hours=24)
HOURS_48 = timedelta(hours=48)
TICK = timedelta(microseconds=1)
ONE_DAY = timedelta(days=1)
HALF_TERM = Closure(date(2026, 10, 26), date(2026, 10, 30), "Autumn half term")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def working_days() -> WorkingCalendar:
    return WorkingCalendar(tz=LONDON)


# -- worked examples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        pytest.param(london(2026, 11, 16, 10), london(2026, 11, 17, 10), id="Monday 10:00"),
        pytest.param(london(2026, 11, 20, 16), london(2026, 11, 23, 16), id="Friday 16:00"),
        # Received at the weekend: the clock starts when Monday does, so Monday is the day.
        pytest.param(london(2026, 11, 21, 9, 30), london(2026, 11, 24), id="Saturday"),
        pytest.param(london(2026, 11, 22, 23, 59), london(2026, 11, 24), id="Sunday night"),
        # Good Friday and Easter Monday 2026 are bank holidays in England.
        pytest.param(london(2026, 4, 2, 12), london(2026, 4, 7, 12), id="Easter"),
        # Christmas Day is a Friday, Boxing Day a Saturday, so Monday 28th is its substitute.
        pytest.param(london(2026, 12, 24, 15), london(2026, 12, 29, 15), id="Christmas"),
    ],
)
def test_24_hours_or_the_next_working_day(received: datetime, expected: datetime) -> None:
    due = working_days().due(received, HOURS_24)

    assert utc(due) == utc(expected)
    assert due.tzinfo == LONDON


def test_a_comment_at_the_weekend_starts_its_clock_at_the_start_of_monday() -> None:
    start = working_days().clock_start(london(2026, 11, 21, 9, 30))

    assert start.isoformat() == "2026-11-23T00:00:00+00:00"


def test_bank_holidays_of_england_and_wales() -> None:
    calendar = working_days()

    assert not calendar.is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not calendar.is_working_day(date(2026, 12, 25))
    assert not calendar.is_working_day(date(2026, 12, 28))  # Boxing Day, substitute
    assert calendar.is_working_day(date(2026, 12, 29))
    assert calendar.is_working_day(date(2026, 1, 2))  # a bank holiday only in Scotland
    assert not calendar.is_working_day(date(2026, 11, 21))  # a Saturday


def test_other_regions_have_their_own_bank_holidays() -> None:
    scotland = WorkingCalendar(tz=LONDON, bank_holidays="scotland")
    northern_ireland = WorkingCalendar(tz=LONDON, bank_holidays="northern-ireland")
    weekdays_only = WorkingCalendar(tz=LONDON, bank_holidays="none")

    assert not scotland.is_working_day(date(2026, 1, 2))
    assert scotland.is_working_day(date(2026, 4, 6))  # no Easter Monday in Scotland
    assert not northern_ireland.is_working_day(date(2026, 3, 17))  # St Patrick's Day
    assert weekdays_only.is_working_day(date(2026, 12, 25))
    assert not weekdays_only.is_working_day(date(2026, 12, 26))  # still a Saturday


def test_a_closure_is_skipped_like_a_weekend() -> None:
    """ "48 hours, or the next working school day": the school's half term does not count."""
    received = london(2026, 10, 23, 16)  # the Friday before half term
    school_days = WorkingCalendar(tz=LONDON, closures=[HALF_TERM])

    assert school_days.due(received, HOURS_48).isoformat() == "2026-11-03T16:00:00+00:00"
    # Counted in working days instead, the same comment was due in half term.
    assert working_days().due(received, HOURS_48).isoformat() == "2026-10-27T16:00:00+00:00"
    assert not school_days.is_working_day(date(2026, 10, 26))
    assert not school_days.is_working_day(date(2026, 10, 30))
    assert school_days.is_working_day(date(2026, 11, 2))


def test_closures_that_overlap_or_touch_count_once() -> None:
    school_days = WorkingCalendar(
        tz=LONDON,
        closures=[
            Closure(date(2026, 11, 2), date(2026, 11, 3), "INSET days"),
            HALF_TERM,
            Closure(date(2026, 10, 28), date(2026, 10, 29)),
        ],
    )

    due = school_days.due(london(2026, 10, 23, 16), HOURS_24)

    assert due.isoformat() == "2026-11-04T16:00:00+00:00"


@pytest.mark.parametrize(
    ("received", "expected_utc"),
    [
        # Friday 16:00 GMT; the clocks go forward on Sunday 29 March; Monday 16:00 BST.
        (london(2026, 3, 27, 16), datetime(2026, 3, 30, 15, tzinfo=UTC)),
        # Friday 16:00 BST; the clocks go back on Sunday 25 October; Monday 16:00 GMT.
        (london(2026, 10, 23, 16), datetime(2026, 10, 26, 16, tzinfo=UTC)),
    ],
)
def test_the_friday_before_the_clocks_change(received: datetime, expected_utc: datetime) -> None:
    due = working_days().due(received, HOURS_24)

    assert utc(due) == expected_utc
    assert due.hour == 16


def test_a_day_when_the_clocks_change_counts_its_real_length() -> None:
    """Iran changed its clocks on weekdays: Monday 22 March 2021 began at 01:00 and lasted 23
    hours; Tuesday 21 September 2021 lasted 25, showing 23:00 twice."""
    tehran = ZoneInfo("Asia/Tehran")
    calendar = WorkingCalendar(tz=tehran, bank_holidays="none")

    monday = calendar.clock_start(datetime(2021, 3, 20, 12, tzinfo=tehran))
    assert monday.isoformat() == "2021-03-22T01:00:00+04:30"
    due = calendar.due(datetime(2021, 3, 19, 12, tzinfo=tehran), HOURS_24)
    assert due.isoformat() == "2021-03-22T13:00:00+04:30"  # 12 hours on Friday, 12 on Monday

    long_day = calendar.due(datetime(2021, 9, 21, tzinfo=tehran), HOURS_24)
    assert utc(long_day) == datetime(2021, 9, 21, 19, 30, tzinfo=UTC)  # the second 23:00
    assert long_day.isoformat() == "2021-09-21T23:00:00+03:30"


def test_a_day_whose_midnight_never_happened_starts_when_the_clocks_jumped_past_it() -> None:
    """Toronto's clocks went from 23:30 on Sunday 30 March 1919 to 00:30 on Monday: Monday's
    first instant shows 00:30, and Sunday lasted 23 hours 30 minutes."""
    toronto = ZoneInfo("America/Toronto")
    calendar = WorkingCalendar(tz=toronto, bank_holidays="none")

    monday = calendar.clock_start(datetime(1919, 3, 30, 12, tzinfo=toronto))

    assert monday.isoformat() == "1919-03-31T00:30:00-04:00"
    assert utc(monday) == datetime(1919, 3, 31, 4, 30, tzinfo=UTC)
    friday = datetime(1919, 3, 28, 12, tzinfo=toronto)
    assert calendar.due(friday, HOURS_24).isoformat() == "1919-03-31T12:30:00-04:00"


def test_a_friday_ends_when_saturday_first_begins_even_if_the_clocks_go_back_after() -> None:
    """Phoenix's clocks went from 00:01 on Saturday 1 January 1944 back to 23:01 on Friday: the
    second 23:30 on Friday came after Saturday had begun, so it is not working time."""
    phoenix = ZoneInfo("America/Phoenix")
    calendar = WorkingCalendar(tz=phoenix, bank_holidays="none")
    first_time = datetime(1943, 12, 31, 23, 30, tzinfo=phoenix)
    second_time = first_time.replace(fold=1)

    assert calendar.due(first_time, timedelta(hours=1)).isoformat() == (
        "1944-01-03T00:30:00-07:00"  # 30 minutes of Friday, 30 of Monday
    )
    assert calendar.due(second_time, timedelta(hours=1)).isoformat() == (
        "1944-01-03T01:00:00-07:00"
    )
    friday = calendar.elapsed(datetime(1943, 12, 31, tzinfo=phoenix), second_time)
    assert friday == HOURS_24


def test_time_that_runs_out_as_a_working_day_ends_is_due_at_its_end() -> None:
    due = working_days().due(london(2026, 11, 20), HOURS_24)  # all of Friday

    assert due.isoformat() == "2026-11-21T00:00:00+00:00"  # not Monday


def test_the_deadline_is_in_the_schools_timezone_whatever_the_received_zone() -> None:
    received = datetime(2026, 6, 1, 9, tzinfo=UTC)  # 10:00 in London

    due = working_days().due(received, HOURS_24)

    assert due.isoformat() == "2026-06-02T10:00:00+01:00"


def test_elapsed_counts_only_working_time() -> None:
    calendar = working_days()

    assert calendar.elapsed(london(2026, 11, 20, 16), london(2026, 11, 23, 16)) == HOURS_24
    assert calendar.elapsed(london(2026, 11, 21), london(2026, 11, 23)) == timedelta(0)
    assert calendar.elapsed(london(2026, 11, 23, 16), london(2026, 11, 20, 16)) == timedelta(0)


def test_the_moment_a_fraction_of_the_time_is_used() -> None:
    calendar = working_days()
    friday = london(2026, 11, 20, 16)
    saturday = london(2026, 11, 21, 10)

    assert calendar.at_fraction(friday, HOURS_24, 0.5).isoformat() == "2026-11-23T04:00:00+00:00"
    assert calendar.at_fraction(friday, HOURS_24, 1) == calendar.due(friday, HOURS_24)
    assert calendar.at_fraction(friday, HOURS_24, 0) == friday
    assert calendar.at_fraction(saturday, HOURS_24, 0).isoformat() == "2026-11-23T00:00:00+00:00"


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan")])
def test_a_fraction_outside_nought_to_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        working_days().at_fraction(london(2026, 11, 20, 16), HOURS_24, fraction)


def test_a_received_time_without_a_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        working_days().due(datetime(2026, 11, 20, 16), HOURS_24)


@pytest.mark.parametrize(
    ("within", "message"),
    [
        (timedelta(0), "more than nothing"),
        (timedelta(hours=-1), "more than nothing"),
        (timedelta(days=60, seconds=1), "at most 60 days"),
    ],
)
def test_the_time_allowed_must_be_sensible(within: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        working_days().due(london(2026, 11, 20, 16), within)


def test_sixty_days_is_allowed() -> None:
    due = working_days().due(london(2026, 11, 20, 16), timedelta(days=60))

    assert working_days().elapsed(london(2026, 11, 20, 16), due) == timedelta(days=60)


def test_an_unknown_region_names_the_choices() -> None:
    with pytest.raises(ValueError, match="england-and-wales, scotland, northern-ireland, none"):
        WorkingCalendar(tz=LONDON, bank_holidays="wales")


def test_a_closure_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends"):
        Closure(date(2026, 10, 30), date(2026, 10, 26), "Half term")


def test_a_calendar_with_no_working_days_gives_up() -> None:
    closed = WorkingCalendar(tz=LONDON, closures=[Closure(date(2026, 1, 1), date(2040, 1, 1))])

    with pytest.raises(ValueError, match="no working day"):
        closed.due(london(2026, 11, 20, 16), HOURS_24)


# -- properties ----------------------------------------------------------------------------

ZONES = (
    "Europe/London",
    "UTC",
    "America/Santiago",  # days begin at 01:00 when summer time starts at midnight
    "America/Havana",
    "Asia/Beirut",
    "Australia/Lord_Howe",  # a half-hour change
    "Asia/Tehran",  # changes on weekdays until 2022
)
EARLIEST = datetime(2020, 1, 1)
LATEST = datetime(2035, 12, 31)


@cache
def bank_holidays(region: str) -> holidays.HolidayBase:
    subdivision = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
    return holidays.country_holidays("GB", subdiv=subdivision[region])


@cache
def clock_changes(zone: ZoneInfo) -> tuple[date, ...]:
    """The dates on which the zone's clocks changed, found without the code under test."""

    def offset_at_noon(day: date) -> timedelta | None:
        return datetime.combine(day, time(12), tzinfo=zone).utcoffset()

    days = [EARLIEST.date() + timedelta(days=n) for n in range((LATEST - EARLIEST).days)]
    return tuple(day for day in days[1:] if offset_at_noon(day) != offset_at_noon(day - ONE_DAY))


@dataclass(frozen=True)
class Case:
    calendar: WorkingCalendar
    region: str
    closures: tuple[Closure, ...]
    received: datetime

    def is_working(self, day: date) -> bool:
        """Whether `day` is a working day, decided without the code under test."""
        if day.weekday() >= 5 or any(c.first <= day <= c.last for c in self.closures):
            return False
        return self.region == "none" or day not in bank_holidays(self.region)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.calendar.tz).date()


@st.composite
def cases(draw: st.DrawFn, *, whole_minutes: bool = False) -> Case:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    received_zone = draw(st.sampled_from([zone, UTC, LONDON]))
    changes = clock_changes(zone)
    near_a_change = draw(st.booleans())  # half the time, in the days before a clock change
    if changes and near_a_change:
        day = draw(st.sampled_from(changes)) - draw(st.integers(0, 4)) * ONE_DAY
        received = datetime.combine(day, draw(st.times()), tzinfo=received_zone)
    else:
        received = draw(
            st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(received_zone))
        )
    if whole_minutes:
        received = utc(received).replace(second=0, microsecond=0)
    region = draw(st.sampled_from(BANK_HOLIDAY_REGIONS))
    anchor = received.date()
    closure = st.builds(
        lambda start, length: Closure(
            anchor + timedelta(days=start), anchor + timedelta(days=start + length)
        ),
        st.integers(-5, 30),
        st.integers(0, 5 if whole_minutes else 14),
    )
    closures = draw(st.lists(closure, max_size=4))
    calendar = WorkingCalendar(tz=zone, bank_holidays=region, closures=closures)
    return Case(calendar, region, tuple(closures), received)


durations = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=10))
later = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=15))
moderate = settings(deadline=None, max_examples=200)


@moderate
@given(cases(), durations)
def test_the_time_allowed_is_exactly_the_working_time_used(case: Case, within: timedelta) -> None:
    due = case.calendar.due(case.received, within)

    assert utc(due) > utc(case.received)
    assert case.calendar.elapsed(case.received, due) == within
    assert due.tzinfo is case.calendar.tz


@moderate
@given(cases(), durations)
def test_the_deadline_never_falls_inside_a_non_working_day(case: Case, within: timedelta) -> None:
    due = utc(case.calendar.due(case.received, within))
    last_moment = case.local_date(due - TICK)

    # The last moment counted was working time...
    assert case.is_working(last_moment)
    # ...and if the deadline is on a non-working date, it is the very first instant of it: the
    # end of the working day before.
    if not case.is_working(case.local_date(due)):
        assert case.local_date(due) != last_moment


@moderate
@given(cases(), durations, later)
def test_a_later_comment_is_never_due_earlier(
    case: Case, within: timedelta, gap: timedelta
) -> None:
    second = utc(case.received) + gap

    first_due = case.calendar.due(case.received, within)
    second_due = case.calendar.due(second, within)

    assert utc(first_due) <= utc(second_due)


@moderate
@given(cases(), durations, durations)
def test_more_time_allowed_is_always_due_later(
    case: Case, one: timedelta, other: timedelta
) -> None:
    assume(one != other)
    shorter, longer = sorted([one, other])

    assert utc(case.calendar.due(case.received, shorter)) < utc(
        case.calendar.due(case.received, longer)
    )


@moderate
@given(cases(), durations, durations)
def test_a_deadline_split_in_two_is_the_same_deadline(
    case: Case, first: timedelta, second: timedelta
) -> None:
    calendar = case.calendar
    halfway = calendar.due(case.received, first)

    assert utc(calendar.due(halfway, second)) == utc(calendar.due(case.received, first + second))


@moderate
@given(cases(), durations)
def test_a_comment_on_a_non_working_day_waits_for_the_next_working_day(
    case: Case, within: timedelta
) -> None:
    assume(not case.is_working(case.local_date(case.received)))
    calendar = case.calendar

    start = utc(calendar.clock_start(case.received))

    assert start > utc(case.received)
    assert case.is_working(case.local_date(start))
    assert not case.is_working(case.local_date(start - TICK))
    assert utc(calendar.due(case.received, within)) == utc(calendar.due(start, within))
    assert calendar.at_fraction(case.received, within, 0) == calendar.clock_start(case.received)


def counted_minute_by_minute(case: Case, within: timedelta) -> datetime:
    """The deadline found the slow way: walk the minutes, counting those on working dates."""
    moment, left = utc(case.received), within // timedelta(minutes=1)
    working = cache(case.is_working)
    while left:
        if working(case.local_date(moment)):
            left -= 1
        moment += timedelta(minutes=1)
    return moment


@settings(deadline=None, max_examples=40)
@given(
    cases(whole_minutes=True),
    st.integers(1, 2 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
)
def test_the_deadline_agrees_with_counting_minute_by_minute(case: Case, within: timedelta) -> None:
    expected = counted_minute_by_minute(case, within)

    assert utc(case.calendar.due(case.received, within)) == expected
