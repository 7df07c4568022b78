"""Reading a school's term dates calendar (.ics) into the dates the school is closed.

The calendars here are small and written out in full, in the shapes schools and councils
publish: holidays as all-day events, INSET days as timed events, or the terms themselves.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.services.comments.term_dates import parse_term_dates
from dialogs.services.comments.working_time import Closure
from dialogs.services.errors import InvalidRequest


def ics(*events: str) -> bytes:
    """A calendar holding `events`, each the lines between BEGIN:VEVENT and END:VEVENT."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Oakfield Primary//Term dates//EN"]
    for event in events:
        lines += ["BEGIN:VEVENT", *event.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line.strip() for line in lines) + "\r\n").encode()


def all_day(summary: str, start: str, end: str | None = None) -> str:
    ends = f"\nDTEND;VALUE=DATE:{end}" if end else ""
    return f"SUMMARY:{summary}\nDTSTART;VALUE=DATE:{start}{ends}"


def test_all_day_events_close_up_to_the_day_before_they_end() -> None:
    data = ics(
        all_day("Autumn half term", "20261026", "20261031"),
        all_day("INSET day", "20261102"),
        all_day("Staff training day", "20261211", "20261211"),
    )

    assert parse_term_dates(data) == [
        Closure(date(2026, 10, 26), date(2026, 10, 30), "Autumn half term"),
        Closure(date(2026, 11, 2), date(2026, 11, 2), "INSET day"),
        Closure(date(2026, 12, 11), date(2026, 12, 11), "Staff training day"),
    ]


def test_an_all_day_event_can_say_how_long_it_lasts() -> None:
    data = ics("SUMMARY:Christmas holidays\nDTSTART;VALUE=DATE:20261221\nDURATION:P14D")

    assert parse_term_dates(data) == [
        Closure(date(2026, 12, 21), date(2027, 1, 3), "Christmas holidays")
    ]


def test_timed_events_close_every_date_they_touch() -> None:
    data = ics(
        "SUMMARY:INSET day\n"
        "DTSTART;TZID=Europe/London:20260901T083000\n"
        "DTEND;TZID=Europe/London:20260901T153000",
        # Ending at midnight does not touch the next date.
        "SUMMARY:Polling station\n"
        "DTSTART;TZID=Europe/London:20270506T070000\n"
        "DTEND;TZID=Europe/London:20270508T000000",
        "SUMMARY:Boiler repair\nDTSTART;TZID=Europe/London:20270115T090000",
    )

    assert parse_term_dates(data) == [
        Closure(date(2026, 9, 1), date(2026, 9, 1), "INSET day"),
        Closure(date(2027, 1, 15), date(2027, 1, 15), "Boiler repair"),
        Closure(date(2027, 5, 6), date(2027, 5, 7), "Polling station"),
    ]


def test_timed_events_are_read_on_the_schools_clock_when_it_is_given() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (summer time).
    data = ics("SUMMARY:Site closed\nDTSTART:20260701T233000Z\nDTEND:20260702T020000Z")

    assert parse_term_dates(data, tz=ZoneInfo("Europe/London")) == [
        Closure(date(2026, 7, 2), date(2026, 7, 2), "Site closed")
    ]
    assert parse_term_dates(data) == [Closure(date(2026, 7, 1), date(2026, 7, 2), "Site closed")]


def test_overlapping_and_touching_closures_are_merged_and_sorted() -> None:
    data = ics(
        all_day("Spring half term", "20270215", "20270220"),
        all_day("INSET day", "20261102"),  # the day after half term ends: touches it
        all_day("Autumn half term", "20261026", "20261102"),  # to Sunday 1 November
        all_day("Half term", "20261029", "20261031"),  # inside it
        all_day("INSET day", "20270222"),  # the Monday after Spring half term: a weekend between
    )

    assert parse_term_dates(data) == [
        Closure(date(2026, 10, 26), date(2026, 11, 2), "Autumn half term / Half term / INSET day"),
        Closure(date(2027, 2, 15), date(2027, 2, 19), "Spring half term"),
        Closure(date(2027, 2, 22), date(2027, 2, 22), "INSET day"),
    ]


def test_terms_become_the_gaps_between_them() -> None:
    data = ics(
        all_day("Spring 1", "20270105", "20270213"),
        all_day("Autumn 1", "20260903", "20261024"),
        all_day("Autumn 2", "20261102", "20261219"),
    )

    assert parse_term_dates(data, as_terms=True) == [
        Closure(date(2026, 10, 24), date(2026, 11, 1), "Between Autumn 1 and Autumn 2"),
        Closure(date(2026, 12, 19), date(2027, 1, 4), "Between Autumn 2 and Spring 1"),
    ]


def test_terms_that_touch_leave_no_gap() -> None:
    data = ics(
        all_day("Summer 1", "20270419", "20270529"),
        all_day("Summer 2", "20270529", "20270722"),
    )

    assert parse_term_dates(data, as_terms=True) == []


def test_cancelled_events_close_nothing() -> None:
    data = ics(
        "SUMMARY:INSET day\nSTATUS:CANCELLED\nDTSTART;VALUE=DATE:20261102",
        all_day("Autumn half term", "20261026", "20261031"),
    )

    assert parse_term_dates(data) == [
        Closure(date(2026, 10, 26), date(2026, 10, 30), "Autumn half term")
    ]


def test_names_are_tidied_and_kept_short() -> None:
    long_name = "Half term " + "and more words " * 20
    data = ics(
        all_day("Christmas\\n  holidays\\, all\tstaff", "20261221", "20270104"),
        all_day(long_name, "20270215", "20270220"),
        "DTSTART;VALUE=DATE:20270301",
    )

    names = [closure.name for closure in parse_term_dates(data)]

    assert names[0] == "Christmas holidays, all staff"
    assert len(names[1]) <= 120
    assert names[1].startswith("Half term and more words")
    assert names[1].endswith("…")
    assert names[2] == ""


def test_an_empty_calendar_closes_nothing() -> None:
    assert parse_term_dates(ics()) == []
    assert parse_term_dates(ics(), as_terms=True) == []


def test_a_byte_order_mark_is_allowed() -> None:
    data = b"\xef\xbb\xbf" + ics(all_day("INSET day", "20261102"))

    assert parse_term_dates(data) == [Closure(date(2026, 11, 2), date(2026, 11, 2), "INSET day")]


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"Term,Start,End\nAutumn 1,03/09/2026,23/10/2026\n", id="CSV"),
        pytest.param(b"%PDF-1.7\n\x00\x01binary", id="PDF"),
        pytest.param(b"BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n", id="an event alone"),
    ],
)
def test_a_file_that_is_not_a_calendar_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidRequest, match=r"not an iCalendar \(\.ics\) file"):
        parse_term_dates(data)


def test_a_damaged_calendar_is_refused() -> None:
    data = b"BEGIN:VCALENDAR\r\nthis line is not iCalendar\r\nEND:VCALENDAR\r\n"

    with pytest.raises(InvalidRequest, match="could not be read as an iCalendar"):
        parse_term_dates(data)


def test_a_file_over_a_megabyte_is_refused() -> None:
    data = ics(all_day("INSET day", "20261102")) + b" " * (1024 * 1024)

    with pytest.raises(InvalidRequest, match="larger than 1 MB"):
        parse_term_dates(data)


def test_more_than_two_thousand_events_are_refused() -> None:
    first = date(2026, 1, 1)
    days = [all_day("Closed", f"{first + timedelta(days=n):%Y%m%d}") for n in range(2001)]

    with pytest.raises(InvalidRequest, match="2001 events; at most 2000"):
        parse_term_dates(ics(*days))
    assert len(parse_term_dates(ics(*days[:2000]))) == 1  # all consecutive, so merged


def test_repeating_events_are_refused_by_name() -> None:
    data = ics(
        all_day("Autumn half term", "20261026", "20261031"),
        "SUMMARY:Weekly staff briefing\nDTSTART;VALUE=DATE:20260907\nRRULE:FREQ=WEEKLY;COUNT=10",
    )

    with pytest.raises(InvalidRequest) as refused:
        parse_term_dates(data)

    assert "“Weekly staff briefing” repeats" in refused.value.message
    assert "repeating events are not supported" in refused.value.message


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (all_day("Old holiday", "19991220", "20000104"), "runs from 1999-12-20 to 2000-01-03"),
        (all_day("Far future", "21001231", "21010102"), "runs from 2100-12-31 to 2101-01-01"),
        (all_day("Far, far future", "30000101"), "dated 3000-01-01"),
        (all_day("Typo", "20261031", "20261026"), "“Typo” ends before it starts"),
        (
            "SUMMARY:Backwards\nDTSTART:20261102T150000Z\nDTEND:20261102T090000Z",
            "“Backwards” ends before it starts",
        ),
        ("SUMMARY:No start\nDTEND;VALUE=DATE:20261102", "“No start” has no start date"),
        ("SUMMARY:Broken\nDTSTART:next tuesday", "“Broken” has a DTSTART that is not a date"),
        (
            "SUMMARY:Mixed\nDTSTART;VALUE=DATE:20261102\nDTEND:20261102T150000Z",
            "“Mixed” starts on a date but ends at a time",
        ),
    ],
)
def test_impossible_dates_are_refused(event: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_term_dates(ics(all_day("Autumn half term", "20261026", "20261031"), event))


def test_dates_at_the_edges_of_the_range_are_accepted() -> None:
    data = ics(all_day("First", "20000101"), all_day("Last", "21001231", "21010101"))

    assert parse_term_dates(data) == [
        Closure(date(2000, 1, 1), date(2000, 1, 1), "First"),
        Closure(date(2100, 12, 31), date(2100, 12, 31), "Last"),
    ]
