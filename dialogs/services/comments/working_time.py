"""Working time: when the answer to a comment on an official account is due.

Policies promise an answer "within 24 hours, or the next working day if received at a weekend",
or "within 48 hours, or on the next working school day". Counting only the time that falls on
working days keeps both halves of such a promise with one rule: a comment on Monday at 10:00 is
due on Tuesday at 10:00, one on Friday at 16:00 on Monday at 16:00, and one on Saturday when
Monday ends. Whether the school's closures count ("school days") is the caller's choice: a
calendar built with them counts school days, one without counts working days.

Choices a moderator (or an auditor) might question, made once here:

* A working day counts whole, from the first instant of its date on the school's wall clock to
  the first instant of the next, in real elapsed time. A day when the clocks change counts 23 or
  25 hours, so a deadline is never an hour early or late in real time. Where the clocks jump
  past midnight (America/Santiago, America/Havana, Asia/Beirut), the day starts when the wall
  clock first shows its date, not at an 00:00 that never happened.
* A comment that arrives on a non-working day starts its clock when the next working day begins.
* When the time runs out exactly as a working day ends, the deadline is that day's end, not the
  start of the next working day: an answer sent that day kept the promise.
* All arithmetic is on UTC instants. Aware datetimes in the same zone compare and subtract by
  their wall clocks in Python, which is wrong by an hour around a clock change.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "BANK_HOLIDAY_REGIONS",
    "MAX_SCAN_DAYS",
    "MAX_WITHIN",
    "Closure",
    "WorkingCalendar",
]

# England and Wales share their bank holidays, so one region serves both.
_SUBDIVISIONS: Final[Mapping[str, str | None]] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
    "none": None,
}
BANK_HOLIDAY_REGIONS: Final = tuple(_SUBDIVISIONS)

MAX_WITHIN: Final = timedelta(days=60)
"""No policy promises an answer later than this; a longer wait is a typing mistake."""

MAX_SCAN_DAYS: Final = 3660
"""Ten years without a working day means the closures are wrong; looking further would hang."""

_ZERO: Final = timedelta(0)
_ONE_DAY: Final = timedelta(days=1)
_TICK: Final = timedelta(microseconds=1)


@dataclass(frozen=True)
class Closure:
    """Dates the school is closed (a holiday, half term, an INSET day), both ends included."""

    first: date
    last: date
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.first, datetime) or isinstance(self.last, datetime):
            raise TypeError("A closure is made of dates, not times.")
        if self.first > self.last:
            raise ValueError(
                f"The closure {self.name or 'without a name'} ends ({self.last}) before it "
                f"starts ({self.first})."
            )


@lru_cache(maxsize=256)
def _bank_holidays(subdivision: str, year: int) -> frozenset[date]:
    """The year's bank holidays, from the `holidays` package rather than a list typed here.

    Neighbouring years are asked too, so a day the package files under another year (a
    substitute day) is still found when the year is looked up.
    """
    years = range(max(MINYEAR, year - 1), min(MAXYEAR, year + 1) + 1)
    found = holidays.country_holidays("GB", subdiv=subdivision, years=years)
    return frozenset(day for day in found if day.year == year)


def _merged(closures: Sequence[Closure]) -> list[tuple[date, date]]:
    """Overlapping or touching closures as one range each, so a day is found by bisection."""
    ranges: list[tuple[date, date]] = []
    for closure in sorted(closures, key=lambda c: (c.first, c.last)):
        if ranges and closure.first - ranges[-1][1] <= _ONE_DAY:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], closure.last))
        else:
            ranges.append((closure.first, closure.last))
    return ranges


def _next_day(day: date) -> date:
    try:
        return day + _ONE_DAY
    except OverflowError:
        raise ValueError("The dates run past the end of the calendar (year 9999).") from None


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"The {what} time must say its timezone (an aware datetime).")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"The {what} time is too close to the ends of the calendar.") from None


def _check_within(within: timedelta) -> None:
    if within <= _ZERO:
        raise ValueError("The time allowed for an answer must be more than nothing.")
    if within > MAX_WITHIN:
        raise ValueError(f"The time allowed for an answer can be at most {MAX_WITHIN.days} days.")


class WorkingCalendar:
    """The school's working days in its own timezone, and the deadlines counted on them."""

    def __init__(
        self,
        *,
        tz: ZoneInfo,
        bank_holidays: str = "england-and-wales",
        closures: Sequence[Closure] = (),
    ) -> None:
        if bank_holidays not in _SUBDIVISIONS:
            raise ValueError(
                f"There is no bank holiday calendar {bank_holidays!r}: choose one of "
                f"{', '.join(BANK_HOLIDAY_REGIONS)}."
            )
        self._tz = tz
        self._subdivision = _SUBDIVISIONS[bank_holidays]
        self._closed = _merged(closures)
        self._closed_firsts = [first for first, _ in self._closed]

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    # -- days ------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            raise TypeError("Ask about a date: a time's date depends on its timezone.")
        return day.weekday() < 5 and not self._is_bank_holiday(day) and not self._is_closed(day)

    def _is_bank_holiday(self, day: date) -> bool:
        return self._subdivision is not None and day in _bank_holidays(self._subdivision, day.year)

    def _is_closed(self, day: date) -> bool:
        at = bisect_right(self._closed_firsts, day) - 1
        return at >= 0 and day <= self._closed[at][1]

    def _next_working_day(self, after: date) -> date:
        day = after
        for _ in range(MAX_SCAN_DAYS):
            day = _next_day(day)
            if self.is_working_day(day):
                return day
        raise ValueError(
            f"There is no working day in the {MAX_SCAN_DAYS} days after {after.isoformat()}: "
            "check the closure dates."
        )

    def _day_start(self, day: date) -> datetime:
        """The first instant whose wall-clock date is `day`, in UTC.

        Usually that is 00:00; where the clocks jump past midnight it is the moment of the jump.
        """
        wall = datetime.combine(day, time())
        try:
            first = wall.replace(tzinfo=self._tz).astimezone(UTC)
            if self._wall(first) == wall:
                return first  # fold=0: if midnight happens twice, the earlier one
            return self._jump_past(wall)
        except OverflowError:
            raise ValueError(f"{day} is too close to the ends of the calendar.") from None

    def _jump_past(self, wall: datetime) -> datetime:
        """The instant the clocks jumped over `wall`, found by bisection on UTC instants.

        Before the jump the zone's offset is the smaller one (fold=0 in a gap), after it the
        larger, so the jump lies between `wall` read with each.
        """
        before = self._tz.utcoffset(wall.replace(fold=0)) or _ZERO
        after = self._tz.utcoffset(wall.replace(fold=1)) or _ZERO
        low = (wall - after).replace(tzinfo=UTC)  # still before the jump
        high = (wall - before).replace(tzinfo=UTC)  # already after it
        while high - low > _TICK:
            middle = low + (high - low) // 2
            if self._wall(middle) >= wall:
                high = middle
            else:
                low = middle
        return high

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self._tz).replace(tzinfo=None)

    def _day_of(self, instant: datetime) -> date:
        """The date whose working day holds `instant`: its wall-clock date, unless the clocks
        went back over midnight and the instant comes after the next date first began."""
        day = instant.astimezone(self._tz).date()
        while instant >= self._day_start(_next_day(day)):
            day = _next_day(day)
        return day

    # -- deadlines -------------------------------------------------------------------------

    def clock_start(self, received: datetime) -> datetime:
        """When the clock starts for something received at `received`."""
        moment, _ = self._first_working(_utc(received, "received"))
        return moment.astimezone(self._tz)

    def due(self, received: datetime, within: timedelta) -> datetime:
        """When an answer promised `within` working time of `received` is due."""
        _check_within(within)
        return self._count(_utc(received, "received"), within).astimezone(self._tz)

    def at_fraction(self, received: datetime, within: timedelta, fraction: float) -> datetime:
        """When `fraction` of the time allowed has been used: the moment for a reminder."""
        _check_within(within)
        if math.isnan(fraction) or not 0 <= fraction <= 1:
            raise ValueError("The fraction of the time allowed must be between 0 and 1.")
        part = within * fraction
        if part <= _ZERO:
            return self.clock_start(received)
        return self.due(received, part)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """How much working time lies between two instants: the time used of an allowance."""
        moment, finish = _utc(start, "start"), _utc(end, "end")
        used = _ZERO
        day = self._day_of(moment)
        while moment < finish:
            day_end = self._day_start(_next_day(day))
            if self.is_working_day(day):
                used += min(day_end, finish) - moment
            moment, day = day_end, _next_day(day)
        return used

    def _first_working(self, instant: datetime) -> tuple[datetime, date]:
        day = self._day_of(instant)
        if self.is_working_day(day):
            return instant, day
        day = self._next_working_day(day)
        return self._day_start(day), day

    def _count(self, received: datetime, within: timedelta) -> datetime:
        moment, day = self._first_working(received)
        left = within
        while True:
            day_end = self._day_start(_next_day(day))
            if moment + left <= day_end:
                return moment + left
            left -= day_end - moment
            day = self._next_working_day(day)
            moment = self._day_start(day)
