"""The school's closures, read from the term dates calendar it or its council publishes.

Schools and councils publish term dates as iCalendar (.ics) files, in one of two shapes: the
holidays (half terms, INSET days, Christmas) as events, or the terms themselves as events. Both
become the same thing, the dates the school is closed, so "the next working school day" can be
counted from them (see `working_time`).

Choices made once here:

* An all-day event closes DTSTART up to the day before DTEND (iCalendar's DTEND is exclusive);
  without an end it closes one day. A timed event closes every date it touches on the wall
  clock: the school's, when its timezone is given, otherwise the event's own.
* Repeating events (RRULE, RDATE) are refused rather than expanded: term dates do not repeat,
  and a rule read wrongly would silently close or open weeks of school days.
* Cancelled events close nothing.
* Everything that is refused is refused whole, with the reason, so a school never runs on half
  of its calendar.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Final

from icalendar import Calendar, Component

from dialogs.services.comments.working_time import Closure
from dialogs.services.errors import InvalidRequest

__all__ = [
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "MAX_EVENTS",
    "MAX_NAME_CHARS",
    "MAX_TERM_DATES_BYTES",
    "parse_term_dates",
]

# A council's calendar of every school's term dates for years is a few hundred kilobytes.
MAX_TERM_DATES_BYTES: Final = 1024 * 1024
MAX_EVENTS: Final = 2000
MAX_NAME_CHARS: Final = 120
# Term dates are published a year or two ahead; dates far outside this are typing mistakes.
EARLIEST_YEAR: Final = 2000
LATEST_YEAR: Final = 2100

_ONE_DAY: Final = timedelta(days=1)
_TICK: Final = timedelta(microseconds=1)
_BOM: Final = b"\xef\xbb\xbf"
_REPEATING: Final = ("RRULE", "RDATE")


def parse_term_dates(
    data: bytes, *, as_terms: bool = False, tz: tzinfo | None = None
) -> list[Closure]:
    """The closures in an iCalendar file, merged and in date order.

    With `as_terms`, the events are the terms and the closures are the gaps between them.
    """
    events = _events(_calendar(data))
    spans = [_span(event, tz) for event in events if not _cancelled(event)]
    merged = _merge(spans)
    return _gaps(merged) if as_terms else merged


def _calendar(data: bytes) -> Component:
    if len(data) > MAX_TERM_DATES_BYTES:
        raise InvalidRequest(
            "The term dates file is larger than 1 MB, far more than a school's term dates; "
            "please export only your school's calendar."
        )
    text = data.removeprefix(_BOM)
    if not text.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        raise InvalidRequest(
            "This is not an iCalendar (.ics) file: it should start with BEGIN:VCALENDAR. "
            "Export the term dates from your calendar as .ics and try again."
        )
    try:
        calendar = Calendar.from_ical(text)
    # The parser's errors are not part of its API: any of them means the file is unreadable.
    except Exception as exc:
        raise InvalidRequest(
            "The term dates file could not be read as an iCalendar (.ics) file: it is damaged "
            "or holds more than one calendar. Export it again and try once more."
        ) from exc
    if not isinstance(calendar, Calendar):
        raise InvalidRequest("The term dates file does not hold a calendar (VCALENDAR).")
    return calendar


def _events(calendar: Component) -> list[Component]:
    events = calendar.walk("VEVENT")
    if len(events) > MAX_EVENTS:
        raise InvalidRequest(
            f"The term dates file has {len(events)} events; at most {MAX_EVENTS} are read. "
            "Please export only your school's term dates."
        )
    return events


def _cancelled(event: Component) -> bool:
    return str(event.get("STATUS", "")).strip().upper() == "CANCELLED"


def _clean(text: object) -> str:
    """One line of readable text: no control characters, single spaces, not too long."""
    if text is None:
        return ""
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in str(text))
    cleaned = " ".join(kept.split())
    if len(cleaned) > MAX_NAME_CHARS:
        cleaned = cleaned[: MAX_NAME_CHARS - 1].rstrip() + "…"
    return cleaned


def _label(name: str) -> str:
    return f"The event “{name}”" if name else "An event without a title"


def _span(event: Component, tz: tzinfo | None) -> Closure:
    name = _clean(event.get("SUMMARY"))
    label = _label(name)
    if any(key in event for key in _REPEATING):
        raise InvalidRequest(
            f"{label} repeats; repeating events are not supported. Please list each "
            "closure as its own event."
        )
    start = _moment(event, "DTSTART", label)
    if start is None:
        raise InvalidRequest(f"{label} has no start date (DTSTART).")
    end = _end(event, start, label)
    if isinstance(start, datetime) != isinstance(end, datetime) and end is not None:
        raise InvalidRequest(
            f"{label} starts on a date but ends at a time, or the other way round."
        )
    first, last = (
        _timed(start, end, tz, label)
        if isinstance(start, datetime)
        else (_all_day(start, end, label))
    )
    _check_dates(first, last, label)
    return Closure(first, last, name)


def _value(prop: object) -> object:
    """A property's value, or None when it has none or is broken (the parser keeps a broken
    value and raises only when it is read)."""
    try:
        return getattr(prop, "dt", None)
    except ValueError:
        return None


def _moment(event: Component, key: str, label: str) -> date | None:
    prop = event.get(key)
    if prop is None:
        return None
    value = _value(prop)
    if not isinstance(value, date):
        raise InvalidRequest(f"{label} has a {key} that is not a date or a time.")
    _check_year(value, label)
    return value


def _end(event: Component, start: date, label: str) -> date | None:
    end = _moment(event, "DTEND", label)
    if end is not None or "DURATION" not in event:
        return end
    length = _value(event["DURATION"])
    if not isinstance(length, timedelta):
        raise InvalidRequest(f"{label} has a DURATION that is not a length of time.")
    try:
        moved = start + length
    except OverflowError:
        raise InvalidRequest(f"{label} lasts far too long.") from None
    _check_year(moved, label)
    return moved


def _check_year(value: date, label: str) -> None:
    """Refuse a date far out of range before any arithmetic on it can overflow."""
    if not EARLIEST_YEAR - 1 <= value.year <= LATEST_YEAR + 1:
        raise _out_of_range(f"{label} is dated {value.isoformat()}")


def _check_dates(first: date, last: date, label: str) -> None:
    if first.year < EARLIEST_YEAR or last.year > LATEST_YEAR:
        if first == last:
            raise _out_of_range(f"{label} is dated {first.isoformat()}")
        raise _out_of_range(f"{label} runs from {first.isoformat()} to {last.isoformat()}")


def _out_of_range(said: str) -> InvalidRequest:
    return InvalidRequest(
        f"{said}; term dates must fall between {EARLIEST_YEAR} and {LATEST_YEAR}."
    )


def _ends_before(label: str) -> InvalidRequest:
    return InvalidRequest(f"{label} ends before it starts.")


def _all_day(start: date, end: date | None, label: str) -> tuple[date, date]:
    if end is None or end == start:  # some calendars write a one-day event with DTEND = DTSTART
        return start, start
    if end < start:
        raise _ends_before(label)
    return start, end - _ONE_DAY


def _timed(start: datetime, end: date | None, tz: tzinfo | None, label: str) -> tuple[date, date]:
    """The wall-clock dates a timed event touches; an end at midnight does not touch its date."""
    zone = tz or start.tzinfo
    begins = _wall(start, zone)
    ends = _wall(end, zone) if isinstance(end, datetime) else begins
    if ends < begins:
        raise _ends_before(label)
    last = (ends - _TICK).date() if ends > begins else begins.date()
    return begins.date(), last


def _wall(moment: datetime, zone: tzinfo | None) -> datetime:
    """The moment on `zone`'s wall clock; a floating time already is one."""
    if moment.tzinfo is not None and zone is not None:
        moment = moment.astimezone(zone)
    return moment.replace(tzinfo=None)


def _joined(names: Iterable[str]) -> str:
    distinct = list(dict.fromkeys(n for n in names if n))
    return _clean(" / ".join(distinct))


def _merge(spans: Sequence[Closure]) -> list[Closure]:
    """One closure for each run of overlapping or touching ones, so none is counted twice."""
    merged: list[tuple[date, date, list[str]]] = []
    for span in sorted(spans, key=lambda s: (s.first, s.last)):
        if merged and span.first <= merged[-1][1] + _ONE_DAY:
            first, last, names = merged[-1]
            merged[-1] = (first, max(last, span.last), [*names, span.name])
        else:
            merged.append((span.first, span.last, [span.name]))
    return [Closure(first, last, _joined(names)) for first, last, names in merged]


def _gaps(terms: Sequence[Closure]) -> list[Closure]:
    """The days between one term's end and the next one's start; merged terms never touch."""
    return [
        Closure(before.last + _ONE_DAY, after.first - _ONE_DAY, _between(before, after))
        for before, after in pairwise(terms)
    ]


def _between(before: Closure, after: Closure) -> str:
    if before.name and after.name:
        return _clean(f"Between {before.name} and {after.name}")
    return "Between terms"
