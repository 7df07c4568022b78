"""When did it happen? Turning a member of staff's typed answer into a moment in the school's zone.

Staff answer in their own words ("yesterday 4pm", "21/11 09:30", "2 hours ago"), in British
order, on the school's wall clock. Incidents have already happened, so every guess leans to the
past; whether a future answer is acceptable is the caller's decision, so future moments are
returned, not rejected.

Choices a reader of a report might question, made once here so every channel agrees:

* A date without a time ("yesterday", "21/11", "last monday") means 00:00 that day, never the
  time of day the answer happened to be typed, so the same answer always gives the same moment.
* A wall time that never happened because the clocks went forward (01:30 on 29 March 2026 in
  London) is read with the offset in force just before the change, so it lands an hour later on
  the new clock (02:30 BST): the same instant a clock that had not yet been changed would show.
* A wall time that happened twice because the clocks went back (01:30 on 25 October 2026 in
  London) is the first of the two (01:30 BST, ``fold=0``), unless the text names an offset.
* "N hours/minutes ago" and "now" are counted in real elapsed time, so they stay right across a
  clock change, where dateparser would count on the wall clock.
* A bare "at 4" is refused (None): 04:00 and 16:00 are both plausible, and asking again is
  cheaper than a wrong record. A bare four-digit answer ("1530") is a 24-hour time, not a year.

dateparser is imported by the first answer that needs it, not with this module: the dialogs'
prompts import this module, and so, through them, do commands that never ask "when"
(`policybot ask --school ID`); dateparser alone took about 70 ms of their start. The server,
which will need it, loads it as it starts (`prepare`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

__all__ = ["MAX_LENGTH", "describe_when", "parse_when"]

_log = logging.getLogger(__name__)

MAX_LENGTH: Final = 100
"""Longer answers are sentences, not times; refusing them also bounds dateparser's work."""

# Ends are trimmed of these so "yesterday 4pm." or "(21/11)" parse; "+" and "-" are kept because
# they can start or end an offset.
_TRIM: Final = " .,;:!?'\"`()[]{}<>*_~\u2018\u2019\u201c\u201d"

_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Without a digit, only these words can make an answer a time. Anything else ("banana",
# "I don't know") is refused before dateparser, which finds dates in surprising words.
_TIME_WORDS: Final = frozenset(
    {
        "now",
        "today",
        "yesterday",
        "tomorrow",
        "tonight",
        "morning",
        "afternoon",
        "evening",
        "night",
        "noon",
        "midday",
        "midnight",
        "ago",
        "last",
        "week",
        "fortnight",
        "month",
        "year",
        "hour",
        "minute",
        *(day.lower() for day in _DAYS),
        *(day[:3].lower() for day in _DAYS),
        "tues",
        "weds",
        "thur",
        "thurs",
        *(month.lower() for month in _MONTHS),
        *(month[:3].lower() for month in _MONTHS),
        "sept",
    }
)
_WORD: Final = re.compile(r"[a-z]+")

_NOW: Final = re.compile(r"(?:just |right )?now", re.IGNORECASE)
_AGO: Final = re.compile(
    r"(?P<count>\d{1,4}|an?|one)\s*"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\s+ago",
    re.IGNORECASE,
)
_HALF_HOUR_AGO: Final = re.compile(r"half an? hour ago", re.IGNORECASE)
_UNIT_SECONDS: Final = {"h": 3600, "m": 60, "s": 1}

_BARE_HHMM: Final = re.compile(
    r"(?P<hour>[01]\d|2[0-3])(?P<minute>[0-5]\d)(?:\s*(?:h|hrs|hours))?", re.IGNORECASE
)
_HHMM_HRS: Final = re.compile(
    r"(?<![\d/.:\-])(?P<hour>[01]\d|2[0-3])(?P<minute>[0-5]\d)\s*(?:hrs|hours)\b", re.IGNORECASE
)
_AT_BARE_HOUR: Final = re.compile(
    r"\bat\s+(?P<hour>\d{1,2})(?![\d:./\-])(?!\s*(?:am|pm|a\.m|p\.m|h\b|hrs|hours))",
    re.IGNORECASE,
)
_FILLER: Final = re.compile(
    r"\b(?:about|around|approximately|approx|roughly|circa)\b\.?\s*", re.IGNORECASE
)
_MIDDAY: Final = re.compile(r"\bmidday\b", re.IGNORECASE)
_SPACES: Final = re.compile(r"\s+")

# British numeric dates. dateparser "repairs" impossible ones (12/31 becomes 12 November 1931),
# so a result must keep the day and month that were typed.
_SLASH_DATE: Final = re.compile(
    r"(?<![\d/])(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?(?![\d/])"
)
_DOTTED_DATE: Final = re.compile(
    r"(?<![\d.\-])(?P<day>\d{1,2})(?P<sep>[.\-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?![\d.\-])"
)

# dateparser's own parsers, minus "timestamp": a bare 10-digit number is not an answer a person
# gives, and reading it as seconds since 1970 would invent a moment.
_PARSERS: Final = ["relative-time", "custom-formats", "absolute-time"]
# dateparser's periods for answers that carry a time of day; any other period is date-only.
_TIMED_PERIODS: Final = frozenset({"time", "part_of_day"})


def prepare() -> None:
    """Load dateparser and its English now: the first answer read costs about a sixth of a
    second of CPU (later ones well under a millisecond), which a server pays as it starts rather
    than in the turn of the first person to say when something happened."""
    base = datetime(2026, 1, 1, 12, tzinfo=UTC)
    for text in ("yesterday 4pm", "21/11/2025 14:00"):
        parse_when(text, now=base, tz=ZoneInfo("Europe/London"))


def parse_when(
    text: str, *, now: datetime, tz: ZoneInfo, lean: Literal["past", "future"] = "past"
) -> datetime | None:
    """Read what a person typed on the school's wall clock, leaning to the past (when something
    happened) or, with lean="future", to the future (when something should happen: "Friday
    3pm" is the coming Friday).

    None means "ask again": the text is empty, too long, not about time, ambiguous, or something
    the parser could not make sense of. This never raises for any text, because the text is
    whatever someone typed into a chat; a naive ``now`` is a programming error and does raise.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    cleaned = _clean(text)
    if cleaned is None:
        return None
    try:
        return _parse(cleaned, now=now, tz=tz, lean=lean)
    except (OverflowError, ValueError):
        # Dates at the very edge of the calendar (year 1, year 9999) cannot be shifted by an
        # offset; no incident happened there.
        return None


def describe_when(moment: datetime, *, tz: ZoneInfo, now: datetime) -> str:
    """Word a moment the way a person reading a summary later would want it.

    The wording is always absolute ("Friday 20 November 2026 at 16:00", never "yesterday"),
    because summaries are read long after they are written; ``now`` is accepted so callers can
    pass their clock consistently, and does not change the wording. The zone abbreviation is
    added only for a wall time the clocks showed twice, where the time alone would be ambiguous.
    Day and month names are spelled here, not by strftime, so a server locale cannot change them.
    """
    if moment.utcoffset() is None or now.utcoffset() is None:
        raise ValueError("moment and now must be timezone-aware")
    local = moment.astimezone(tz)
    text = (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year} "
        f"at {local.hour:02d}:{local.minute:02d}"
    )
    if _is_ambiguous(local.replace(tzinfo=None), tz):
        text += f" {local.tzname()}"
    return text


def _clean(text: str) -> str | None:
    """Reduce what was typed to one tidy line, or None when it cannot be a time at all."""
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_LENGTH:
        return None
    # NFKC turns full-width digits and similar look-alikes into ASCII the parsers know.
    normalised = _SPACES.sub(" ", unicodedata.normalize("NFKC", stripped))
    kept: list[str] = []
    for char in normalised:
        category = unicodedata.category(char)
        if category == "Cf":
            continue  # zero-width spaces and marks pasted from other apps carry no meaning
        if category in {"Cc", "Cs", "Co", "Cn"}:
            return None  # control bytes, broken surrogates: not something a person typed
        kept.append(char)
    cleaned = "".join(kept).strip(_TRIM)
    if not cleaned or len(cleaned) > MAX_LENGTH:
        return None
    return cleaned


def _parse(
    text: str, *, now: datetime, tz: ZoneInfo, lean: Literal["past", "future"]
) -> datetime | None:
    if _NOW.fullmatch(text):
        return now.astimezone(tz)
    elapsed = _elapsed(text)
    if elapsed is not None:
        return (now - elapsed).astimezone(tz)
    iso = _from_iso(text, tz)
    if iso is not None:
        return iso
    if not _could_be_time(text) or _has_impossible_time(text):
        return None
    rewritten = _rewrite(text)
    if rewritten is None:
        return None
    return _from_dateparser(rewritten, now=now, tz=tz, lean=lean)


def _elapsed(text: str) -> timedelta | None:
    """Real elapsed time for "N hours ago", which dateparser would count on the wall clock."""
    if _HALF_HOUR_AGO.fullmatch(text):
        return timedelta(minutes=30)
    match = _AGO.fullmatch(text)
    if match is None:
        return None
    raw = match["count"].lower()
    count = 1 if raw in {"a", "an", "one"} else int(raw)
    return timedelta(seconds=count * _UNIT_SECONDS[match["unit"][0].lower()])


def _from_iso(text: str, tz: ZoneInfo) -> datetime | None:
    """ISO 8601 first, because dateparser mis-reads some explicit offsets."""
    if not text[:4].isdigit():
        return None  # fromisoformat would reject it anyway; skip the exception
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.utcoffset() is not None:
        return parsed.astimezone(tz)
    return _on_wall_clock(parsed, tz)


def _could_be_time(text: str) -> bool:
    """Cheap gate so sentences never reach dateparser, which would find dates in them."""
    if any("0" <= char <= "9" for char in text):
        return True
    return any(word in _TIME_WORDS for word in _WORD.findall(text.lower()))


# A time of day as typed ("25pm", "13:75"): dateparser reads an impossible one as the current
# time of day, so the numbers are checked before it sees them.
_TYPED_TIME: Final = re.compile(
    r"(?<![\d:.])(?P<hour>\d+)(?::(?P<minute>\d+))?\s*(?P<half>[ap]\.?m)\b"
    r"|(?<![\d:.])(?P<hour24>\d+):(?P<minute24>\d+)(?!\d)",
    re.IGNORECASE,
)


def _has_impossible_time(text: str) -> bool:
    """Whether the text has a time of day no clock shows: an hour past 12 with am/pm, past 23
    without, or a minute past 59."""
    for match in _TYPED_TIME.finditer(text):
        if match["half"] is not None:
            hour, minute, last_hour = match["hour"], match["minute"], 12
        else:
            hour, minute, last_hour = match["hour24"], match["minute24"], 23
        if int(hour) > last_hour or (minute is not None and int(minute) > 59):
            return True
    return False


def _rewrite(text: str) -> str | None:
    """Put common British answers into forms dateparser reads correctly, or refuse them."""
    bare = _BARE_HHMM.fullmatch(text)
    if bare is not None:
        return f"{bare['hour']}:{bare['minute']}"
    text = _HHMM_HRS.sub(lambda m: f"{m['hour']}:{m['minute']}", text)
    text = _MIDDAY.sub("noon", _FILLER.sub("", text)).strip()
    for match in _AT_BARE_HOUR.finditer(text):
        hour = int(match["hour"])
        if 1 <= hour <= 12:
            return None  # "at 4": four in the morning or the afternoon?
    text = _AT_BARE_HOUR.sub(lambda m: f"at {int(m['hour']):02d}:00", text)
    return text or None


_CLOCK_TIME = re.compile(r"(?i)\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\bnoon\b")


def _from_dateparser(
    text: str, *, now: datetime, tz: ZoneInfo, lean: Literal["past", "future"]
) -> datetime | None:
    base = now.astimezone(tz).replace(tzinfo=None)
    data = _dateparser_data(text, base=base, tz=tz, prefer=lean)
    if data is None:
        return None
    found, period = data
    from dateparser.timezone_parser import pop_tz_offset_from_string

    explicit_zone = pop_tz_offset_from_string(text)[1] is not None
    if explicit_zone:
        # The text named its own zone, so dateparser's instant is right; only the zone changes.
        return found.astimezone(tz)
    # Otherwise dateparser localised a wall time with pytz, which picks the later of two repeated
    # times; take the wall time back and apply this module's rules instead.
    wall = found.replace(tzinfo=None)
    # dateparser reports a typed time as a whole day when it equals the base time to the
    # minute ("today 10am" typed at 10:00), so a clock time in the text counts as well.
    timed = period in _TIMED_PERIODS or _CLOCK_TIME.search(text) is not None
    if timed and _is_same_day_another_year(wall, base):
        # "21/11 14:00" typed at 11:30 on 21/11 means today, not a year ago (or, leaning to the
        # future, "21/11 09:00" not a year ahead): the lean is about the date, not the minute.
        # An explicit year survives the re-read unchanged.
        current = _dateparser_data(text, base=base, tz=tz, prefer="current_period")
        if current is not None and current[0].date() == base.date():
            wall = current[0].replace(tzinfo=None)
    if not timed:
        wall = datetime.combine(wall.date(), time())
    if not _keeps_typed_date(text, wall):
        return None
    return _on_wall_clock(wall, tz)


def _dateparser_data(
    text: str, *, base: datetime, tz: ZoneInfo, prefer: str
) -> tuple[datetime, str | None] | None:
    from dateparser.date import DateDataParser

    settings: dict[str, object] = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": base,
        "TIMEZONE": tz.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        # Tells a typed time ("time", "part_of_day") from a date alone ("day", "week", ...).
        "RETURN_TIME_AS_PERIOD": True,
        "PARSERS": _PARSERS,
    }
    try:
        parser = DateDataParser(languages=["en"], settings=settings)
        data = parser.get_date_data(text)
    except (OverflowError, ValueError):
        return None
    except Exception as exc:  # a third-party parser fed arbitrary text; None means "ask again"
        _log.warning("dateparser raised %s on a when-answer", type(exc).__name__)
        return None
    if data.date_obj is None:
        return None
    return data.date_obj, data.period


def _is_same_day_another_year(wall: datetime, base: datetime) -> bool:
    """Today's date a year before or after: what leaning to the past or future does to a time
    later or earlier today."""
    try:
        return wall.date() in (
            base.date().replace(year=base.year - 1),
            base.date().replace(year=base.year + 1),
        )
    except ValueError:  # 29 February has no twin a year away
        return False


def _keeps_typed_date(text: str, wall: datetime) -> bool:
    """Refuse dateparser's repairs of impossible British dates such as 12/31 or 13/13."""
    for match in (*_SLASH_DATE.finditer(text), *_DOTTED_DATE.finditer(text)):
        if int(match["day"]) != wall.day or int(match["month"]) != wall.month:
            return False
        year = match["year"]
        if year is not None and int(year) != (wall.year if len(year) == 4 else wall.year % 100):
            return False
    return True


def _on_wall_clock(wall: datetime, tz: ZoneInfo) -> datetime:
    """Attach the school's zone to a wall time, applying the module's clock-change rules.

    ``fold=0`` makes zoneinfo use the offset in force before a change: the first of two repeated
    times, and for a skipped time an instant that reads an hour later once normalised through UTC.
    """
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def _is_ambiguous(wall: datetime, tz: ZoneInfo) -> bool:
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    return (
        first.utcoffset() != second.utcoffset()
        and _on_wall_clock(wall, tz).replace(tzinfo=None) == wall
    )
