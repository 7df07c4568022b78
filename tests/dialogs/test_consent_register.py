"""Reading MIS consent exports and answering "may these pupils appear on these platforms?".

Every file is written here, in the shapes SIMS, Arbor and Bromcom exports take, with invented
children at the demo school. Reading is tested on its own; importing, finding and checking run
on SQLite and on PostgreSQL (the `runtime` fixture uses `database_url`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlmodel import col, func, select

from bot.runtime import Runtime
from dialogs.services.errors import InvalidRequest
from dialogs.services.posts.consent import (
    MAX_CONSENT_BYTES,
    MAX_PUPILS,
    ConsentCheck,
    ConsentRegister,
    ConsentStatus,
    ParsedRegister,
    match_key,
    parse_consent_csv,
    split_qualifier,
)
from dialogs.services.privacy.audit import AuditAction, AuditLog
from dialogs.services.school.platforms import Platform
from dialogs.services.school.schools import School
from storage.models import AuditEntry, ConsentImport, PupilConsent
from tests.conftest import Clock

T = TypeVar("T")

W, F, IG, X, TT = (
    Platform.WEBSITE,
    Platform.FACEBOOK,
    Platform.INSTAGRAM,
    Platform.X,
    Platform.TIKTOK,
)

REGISTER = """Pupil name,Year,School website,Facebook,Instagram,Never publish
Amelia Hart,4,yes,yes,no,
Amelia Hart,6,yes,yes,yes,
Zoë O'Neill,3,yes,yes,yes,
Noah Fairweather,5,yes,no,no,
Noah James Fairweather,3,yes,yes,yes,
Isla Brennan,2,yes,yes,yes,yes
Ruby Okonkwo-Lane,R,yes,yes,yes,
Theo Marsh-Whitley,1,yes,yes,yes,
Theodore James Lund,1,yes,no,yes,
"""
NAMES = [
    "Amelia Hart",
    "Zoë O'Neill",
    "Noah Fairweather",
    "Noah James Fairweather",
    "Isla Brennan",
    "Ruby Okonkwo-Lane",
    "Theo Marsh-Whitley",
    "Theodore James Lund",
]


def parse(text: str | bytes, name: str = "consent.csv") -> ParsedRegister:
    return parse_consent_csv(text.encode() if isinstance(text, str) else text, name)


def refusal(text: str | bytes, name: str = "consent.csv") -> str:
    with pytest.raises(InvalidRequest) as raised:
        parse(text, name)
    return raised.value.message


def summary(register: ParsedRegister) -> list[tuple[str, str | None, dict[Platform, bool], bool]]:
    return [(p.name, p.year_group, p.consent, p.never_publish) for p in register.pupils]


# -- reading the shapes MIS exports take ----------------------------------------------------------


def test_a_single_name_column_with_a_column_per_platform() -> None:
    register = parse(REGISTER)
    assert register.platforms == (W, F, IG)
    assert summary(register)[:2] == [
        ("Amelia Hart", "Year 4", {W: True, F: True, IG: False}, False),
        ("Amelia Hart", "Year 6", {W: True, F: True, IG: True}, False),
    ]
    assert [p.name for p in register.pupils if p.never_publish] == ["Isla Brennan"]
    assert register.pupils[6].year_group == "R"
    # Row numbers are the spreadsheet's: the header is row 1.
    assert [p.line for p in register.pupils][:3] == [2, 3, 4]


def test_forename_and_surname_columns_with_the_preferred_name_first() -> None:
    register = parse(
        "Legal forename,Preferred forename,Legal surname,Reg group,Instagram\n"
        "Theodora,Teddy,Lund,4B,yes\n"
        "Amelia,,Hart,4C,no\n"
    )
    assert summary(register) == [
        ("Teddy Lund", "4B", {IG: True}, False),
        ("Amelia Hart", "4C", {IG: False}, False),
    ]


def test_surname_first_names_are_turned_round() -> None:
    register = parse('"Surname, Forename",Facebook\n"O\'Neill, Zoë",yes\n"Hart, Amelia",no\n')
    assert [p.name for p in register.pupils] == ["Zoë O'Neill", "Amelia Hart"]


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_semicolon_and_tab_delimited_exports(delimiter: str) -> None:
    rows = [
        ["Surname, Forename", "Year group", "Website", "Instagram"],
        ["Hart, Amelia", "Year 4", "Yes", "No"],
        ["Brennan, Isla", "Year 2", "Yes", "Yes"],
    ]
    register = parse("\r\n".join(delimiter.join(r) for r in rows) + "\r\n")
    assert summary(register) == [
        ("Amelia Hart", "Year 4", {W: True, IG: False}, False),
        ("Isla Brennan", "Year 2", {W: True, IG: True}, False),
    ]


def test_windows_1252_files_keep_their_accents() -> None:
    data = "Name,Instagram\r\nZoë O'Neill,yes\r\nRenée Dubois,no\r\n".encode("cp1252")
    assert b"Zo\xeb" in data  # not valid UTF-8, as Excel on Windows writes it
    register = parse(data)
    assert [p.name for p in register.pupils] == ["Zoë O'Neill", "Renée Dubois"]


def test_a_byte_order_mark_is_not_part_of_the_first_heading() -> None:
    register = parse(("\ufeffPupil name,Instagram\nZoë O'Neill,yes\n").encode())
    assert [p.name for p in register.pupils] == ["Zoë O'Neill"]
    tabbed = ("Pupil name\tInstagram\r\nZoë O'Neill\tyes\r\n").encode("utf-16")
    assert [p.name for p in parse(tabbed).pupils] == ["Zoë O'Neill"]


def test_a_title_line_above_the_headings_is_skipped_and_rows_keep_their_numbers() -> None:
    register = parse(
        "Photo consent report \u2013 printed 01/09/2026\n"
        "Oakfield Primary School,,\n"
        "\n"
        "Name,Year,Instagram\n"
        "Amelia Hart,4,yes\n"
        "\n"
        "Isla Brennan,2,no\n"
    )
    assert [(p.name, p.line) for p in register.pupils] == [("Amelia Hart", 5), ("Isla Brennan", 7)]
    message = refusal(
        "Photo consent report \u2013 printed 01/09/2026\nName,Instagram\nAmelia Hart,maybe\n"
    )
    assert "Row 3:" in message


def test_a_heading_naming_two_platforms_applies_to_both() -> None:
    register = parse(
        "Name,Photo consent - Facebook/Instagram,Twitter/X consent,School website\n"
        "Amelia Hart,yes,no,yes\n"
    )
    assert register.platforms == (F, IG, X, W)
    assert register.pupils[0].consent == {F: True, IG: True, X: False, W: True}


def test_two_columns_for_one_platform_both_need_a_yes() -> None:
    register = parse(
        "Name,Facebook/Instagram,Instagram\nAmelia Hart,yes,no\nIsla Brennan,yes,yes\n"
    )
    assert [p.consent for p in register.pupils] == [{F: True, IG: False}, {F: True, IG: True}]


@pytest.mark.parametrize(
    "heading", ["Never publish", "Do not publish", "No photographs", "Media opt-out", "Withdrawn"]
)
def test_never_publish_columns(heading: str) -> None:
    register = parse(
        f"Name,Instagram,{heading}\nAmelia Hart,yes,Yes\nIsla Brennan,yes,\nNoah Fairweather,no,x\n"
    )
    assert [p.never_publish for p in register.pupils] == [True, False, True]
    assert [p.consent for p in register.pupils] == [{IG: True}, {IG: True}, {IG: False}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        ("Consent given", True),
        ("Granted", True),
        ("\u2713", True),
        ("x", True),
        ("X", True),
        ("No", False),
        ("n", False),
        ("0", False),
        ("Not given", False),
        ("Refused", False),
        ("Withdrawn", False),
        ("", False),
        ("   ", False),
        ("Not returned", False),
    ],
)
def test_consent_values(value: str, expected: bool) -> None:
    register = parse(f"Name,Instagram,Facebook\nAmelia Hart,{value},yes\n")
    assert register.pupils[0].consent[IG] is expected


def test_completely_blank_rows_and_repeated_headings_are_skipped() -> None:
    register = parse("Name,Instagram\n,\n\nAmelia Hart,yes\n , \nName,Instagram\nIsla Brennan,no\n")
    assert [(p.name, p.line) for p in register.pupils] == [("Amelia Hart", 4), ("Isla Brennan", 7)]


def test_the_same_pupil_twice_with_the_same_answers_is_kept_once() -> None:
    register = parse("Name,Year,Instagram\nAmelia Hart,4,yes\nAMELIA HART,Year 4,Yes\n")
    assert [(p.name, p.line) for p in register.pupils] == [("Amelia Hart", 2)]


# -- refusing a file whole, with every problem listed -------------------------------------------


def test_every_row_problem_is_listed_with_its_spreadsheet_row_number() -> None:
    message = refusal(
        "Name,Year,Instagram,Facebook,Never publish\n"
        "Amelia Hart,4,yes,maybe,\n"  # row 2: unknown value
        ",5,yes,yes,\n"  # row 3: no name
        "Isla Brennan,2,yes,yes,\n"
        "Isla Brennan,2,no,yes,\n"  # rows 4 and 5: the same pupil, different answers
        "Noah Fairweather,5,yes,yes,refused\n"  # row 6: ambiguous in a never-publish column
    )
    assert "4 problems" in message
    assert "nothing was imported" in message
    assert 'Row 2: "maybe" under "Facebook" isn\'t yes or no.' in message
    assert "Row 3: there is no pupil name." in message
    assert "Rows 4 and 5 are the same pupil" in message
    assert 'Row 6: "refused" under "Never publish"' in message
    assert message.index("Row 2") < message.index("Row 3") < message.index("Rows 4")
    assert '"Instagram" (Instagram), "Facebook" (Facebook)' in message


def test_only_twenty_problems_are_listed_then_a_count() -> None:
    rows = "".join(f"Pupil {n} Example,perhaps\n" for n in range(25))
    message = refusal("Name,Instagram\n" + rows)
    assert "25 problems" in message
    assert "Row 21:" in message
    assert "Row 22:" not in message
    assert "- and 5 more." in message


def test_no_consent_columns_names_the_headings_found() -> None:
    message = refusal("Name,Year,Photo consent\nAmelia Hart,4,yes\n")
    assert message.startswith("I couldn't find any consent columns in the file")
    assert 'Headings I found: "Name", "Year", "Photo consent"' in message


def test_no_name_column_is_said_plainly() -> None:
    message = refusal("UPN,Instagram\nA123,yes\n")
    assert "couldn't find a column of pupils' names" in message
    assert '"UPN", "Instagram"' in message


def test_a_platform_heading_that_reads_as_a_refusal_is_not_guessed_at() -> None:
    message = refusal("Name,Instagram opt-out\nAmelia Hart,yes\n")
    assert '"Instagram opt-out"' in message
    assert "rename the heading" in message


def test_no_rows() -> None:
    assert "no pupils under them" in refusal("Name,Instagram\n\n,\n")
    assert "is empty" in refusal(b"")


def test_a_file_too_big_or_too_long() -> None:
    big = b"Name,Instagram\n" + b"Amelia Hart,yes\n" * (MAX_CONSENT_BYTES // 16 + 1)
    assert len(big) > MAX_CONSENT_BYTES
    assert "larger than 5 MB" in refusal(big)
    long = "Name,Instagram\n" + "".join(f"Pupil {n} Example,yes\n" for n in range(MAX_PUPILS + 1))
    assert f"more than {MAX_PUPILS:,} rows" in refusal(long)


def test_a_workbook_is_asked_for_as_csv() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    message = refusal(buffer.getvalue(), "consent.xlsx")
    assert "Excel workbook" in message
    assert "CSV" in message
    assert "isn't a CSV file" in refusal(b"Name,Instagram\x00\x01\x02\nA,yes\n")


# -- names and how staff type them ----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["zoe oneill", "ZOE O\u2019NEILL", " Zoë  O'Neill ", "ZOË O\u2018NEILL", "Zoe ONeill"]
)
def test_match_key_ignores_case_accents_apostrophes_and_spacing(typed: str) -> None:
    assert match_key(typed) == match_key("Zoë O'Neill") == "zoe oneill"
    assert match_key("Okonkwo-Lane") == match_key("okonkwo  lane") == "okonkwo lane"
    assert match_key("Søren Ærø-Łukasz") == "soren aero lukasz"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Amelia Hart (Year 4)", ("Amelia Hart", "Year 4")),
        ("Amelia Hart, 4B", ("Amelia Hart", "4B")),
        ("Amelia Hart Y4", ("Amelia Hart", "Y4")),
        ("Amelia Hart (Willow)", ("Amelia Hart", "Willow")),
        ("Hart, Amelia", ("Hart, Amelia", None)),
        ("Amelia Hart", ("Amelia Hart", None)),
    ],
)
def test_split_qualifier(typed: str, expected: tuple[str, str | None]) -> None:
    assert split_qualifier(typed) == expected


# -- importing, finding and checking, on SQLite and PostgreSQL ------------------------------------


def school_of(runtime: Runtime) -> School:
    school = runtime.settings.directory.school("oakfield")
    assert school is not None
    return school


async def with_register(
    runtime: Runtime, clock: Clock, work: Callable[[ConsentRegister], Awaitable[T]]
) -> T:
    async with runtime.db.session() as session:
        now = clock()
        return await work(ConsentRegister(session=session, audit=AuditLog(session, now), now=now))


async def import_text(runtime: Runtime, clock: Clock, text: str, by: str = "morgan") -> int:
    school = school_of(runtime)

    async def go(register: ConsentRegister) -> int:
        record = await register.import_csv(
            school, text.encode(), source_name="consent.csv", imported_by=by
        )
        assert record.id is not None
        return record.id

    return await with_register(runtime, clock, go)


async def stored(runtime: Runtime) -> list[tuple[int, str]]:
    async with runtime.db.session() as session:
        result = await session.execute(
            select(PupilConsent.import_id, PupilConsent.name).order_by(col(PupilConsent.id))
        )
        return [(i, n) for i, n in result.all()]


async def test_an_import_replaces_the_schools_rows_and_keeps_a_record(
    runtime: Runtime, clock: Clock
) -> None:
    first = await import_text(runtime, clock, REGISTER)
    assert len(await stored(runtime)) == 9
    clock.advance(days=30)
    second = await import_text(
        runtime, clock, "Name,Year,Instagram,TikTok\nAmelia Hart,4,yes,no\nIsla Brennan,2,no,no\n"
    )
    assert second != first
    assert await stored(runtime) == [(second, "Amelia Hart"), (second, "Isla Brennan")]

    async def look(register: ConsentRegister) -> tuple[ConsentImport | None, list[str]]:
        return await register.current("oakfield"), [
            p.name for p in await register.pupils("oakfield")
        ]

    current, pupils = await with_register(runtime, clock, look)
    assert current is not None
    assert (current.id, current.pupils, current.platforms) == (second, 2, ["instagram", "tiktok"])
    assert (current.imported_by, current.source_name, len(current.sha256)) == (
        "morgan",
        "consent.csv",
        64,
    )
    assert current.imported_at == clock.now
    assert pupils == ["Amelia Hart", "Isla Brennan"]
    async with runtime.db.session() as session:
        records = (await session.execute(select(func.count()).select_from(ConsentImport))).one()
    assert records[0] == 2  # where consent came from is kept; the old children's rows are not


async def test_a_bad_file_leaves_the_register_in_use_untouched(
    runtime: Runtime, clock: Clock
) -> None:
    first = await import_text(runtime, clock, REGISTER)
    before = await stored(runtime)
    with pytest.raises(InvalidRequest, match="Row 3"):
        await import_text(runtime, clock, "Name,Instagram\nAmelia Hart,yes\nIsla Brennan,perhaps\n")
    assert await stored(runtime) == before

    async def current(register: ConsentRegister) -> ConsentImport | None:
        return await register.current("oakfield")

    record = await with_register(runtime, clock, current)
    assert record is not None
    assert record.id == first


async def test_the_audit_entry_has_counts_and_no_names(runtime: Runtime, clock: Clock) -> None:
    first = await import_text(runtime, clock, REGISTER)
    second = await import_text(runtime, clock, REGISTER, by="dana")
    async with runtime.db.session() as session:
        result = await session.execute(
            select(AuditEntry).where(AuditEntry.action == AuditAction.CONSENT_IMPORT.value)
        )
        entries = list(result.scalars().all())
    assert [(e.actor_id, e.target_type, e.target_id) for e in entries] == [
        ("morgan", "consent_import", str(first)),
        ("dana", "consent_import", str(second)),
    ]
    assert entries[1].detail.startswith("9 pupils, 1 never publish; platforms website,facebook,")
    assert f"replaced {first}" in entries[1].detail
    everything = " ".join(str(v) for e in entries for v in e.model_dump().values()).casefold()
    for name in NAMES:
        for word in match_key(name).split():
            assert word not in match_key(everything).split()


async def test_another_schools_register_is_not_consulted(runtime: Runtime, clock: Clock) -> None:
    await import_text(runtime, clock, REGISTER)

    async def elsewhere(register: ConsentRegister) -> tuple[object, object, bool]:
        found = await register.find("brookside", "Isla Brennan")
        checked = await register.check("brookside", ["Isla Brennan"], [IG])
        return found, await register.current("brookside"), checked.blocked

    assert await with_register(runtime, clock, elsewhere) == ([], None, True)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Zoe ONeill", ["Zoë O'Neill"]),
        ("zoë o\u2019neill", ["Zoë O'Neill"]),
        ("O'Neill Zoë", ["Zoë O'Neill"]),
        ("O'Neill, Zoe", ["Zoë O'Neill"]),
        ("Ruby Okonkwo Lane", ["Ruby Okonkwo-Lane"]),
        ("Theodore Lund", ["Theodore James Lund"]),  # a middle name need not be typed
        ("Noah Fairweather", ["Noah Fairweather"]),  # exact wins over a longer name
        ("Fairweather Noah James", ["Noah James Fairweather"]),
        ("Amelia Hart", ["Amelia Hart", "Amelia Hart"]),
        ("Amelia Hart (Year 6)", ["Amelia Hart"]),
        ("Amelia H", []),  # an initial could be another child
        ("Zoë", []),
        ("Zoe O'Neil", []),
    ],
)
async def test_find_matches_names_as_staff_type_them(
    runtime: Runtime, clock: Clock, typed: str, expected: list[str]
) -> None:
    await import_text(runtime, clock, REGISTER)

    async def find(register: ConsentRegister) -> list[str]:
        return [p.name for p in await register.find("oakfield", typed)]

    assert await with_register(runtime, clock, find) == expected


async def test_check_says_why_each_pupil_is_blocked_or_cleared(
    runtime: Runtime, clock: Clock
) -> None:
    await import_text(runtime, clock, REGISTER)

    async def check(register: ConsentRegister) -> ConsentCheck:
        return await register.check(
            "oakfield",
            [
                "zoe o'neill",
                "Noah Fairweather",
                "Isla Brennan",
                "Oliver Quint",
                "Amelia Hart",
                "Ruby Okonkwo-Lane",
                "Zoë O'Neill",  # the same pupil again is checked once...
                "O'Neill, Zoe",  # ...however it is typed
            ],
            [IG, F, TT],
        )

    result = await with_register(runtime, clock, check)
    assert result.blocked is True
    statuses = [(o.given, o.status) for o in result.outcomes]
    assert statuses == [
        ("zoe o'neill", ConsentStatus.NO_CONSENT),
        ("Noah Fairweather", ConsentStatus.NO_CONSENT),
        ("Isla Brennan", ConsentStatus.NEVER_PUBLISH),
        ("Oliver Quint", ConsentStatus.NOT_IN_REGISTER),
        ("Amelia Hart", ConsentStatus.AMBIGUOUS),
        ("Ruby Okonkwo-Lane", ConsentStatus.NO_CONSENT),
    ]
    zoe, noah, isla, oliver, amelia, _ = result.problems
    assert zoe == (
        "Zoë O'Neill (Year 3) has no consent for TikTok (the register has no column for that "
        "platform). Remove TikTok from this post, or leave Zoë O'Neill out."
    )
    assert noah.startswith(
        "Noah Fairweather (Year 5) has no consent for Instagram or Facebook (the register says "
        "no) or TikTok (the register has no column for that platform). Remove Instagram, "
        "Facebook and TikTok from this post"
    )
    assert result.outcomes[1].missing == (IG, F, TT)
    assert "must never be published, on any platform" in isla
    assert "Leave Isla Brennan out" in isla
    assert '"Oliver Quint"' in oliver
    assert "no consent on record" in oliver
    assert "Amelia Hart (Year 4) and Amelia Hart (Year 6)" in amelia
    assert '"Amelia Hart (Year 4)"' in amelia
    assert result.cleared == []


@pytest.mark.parametrize("typed", ["Amelia Hart (Year 6)", "Amelia Hart, 6", "Hart Amelia Y6"])
async def test_a_year_group_resolves_two_pupils_with_one_name(
    runtime: Runtime, clock: Clock, typed: str
) -> None:
    await import_text(runtime, clock, REGISTER)

    async def check(register: ConsentRegister) -> tuple[bool, list[str], list[str]]:
        result = await register.check("oakfield", [typed], [IG, W])
        return result.blocked, result.problems, result.cleared

    assert await with_register(runtime, clock, check) == (
        False,
        [],
        ["Amelia Hart (Year 6): consent on record for Instagram and School website."],
    )

    async def year_four(register: ConsentRegister) -> list[str]:
        return (await register.check("oakfield", ["Amelia Hart (Year 4)"], [IG])).problems

    assert await with_register(runtime, clock, year_four) == [
        "Amelia Hart (Year 4) has no consent for Instagram (the register says no). Remove "
        "Instagram from this post, or leave Amelia Hart out."
    ]


async def test_a_class_resolves_by_its_year_and_a_wrong_year_is_said(
    runtime: Runtime, clock: Clock
) -> None:
    await import_text(
        runtime,
        clock,
        "Name,Class,Facebook\nAmelia Hart,4B,yes\nAmelia Hart,6C,no\n",
    )

    async def check(register: ConsentRegister) -> list[tuple[ConsentStatus, str]]:
        result = await register.check(
            "oakfield", ["Amelia Hart, 4B", "Amelia Hart (Year 6)", "Amelia Hart (Year 5)"], [F]
        )
        return [(o.status, o.message) for o in result.outcomes]

    ok, six, five = await with_register(runtime, clock, check)
    assert ok == (ConsentStatus.OK, "Amelia Hart (4B): consent on record for Facebook.")
    assert six[0] is ConsentStatus.NO_CONSENT
    assert five[0] is ConsentStatus.NOT_IN_REGISTER
    assert "(I found 4B and 6C)" in five[1]


async def test_with_no_register_every_pupil_blocks_and_says_who_can_import(
    runtime: Runtime, clock: Clock
) -> None:
    async def check(register: ConsentRegister) -> tuple[bool, list[str], list[ConsentStatus]]:
        result = await register.check("oakfield", ["Amelia Hart", "Isla Brennan", " "], [W])
        return result.blocked, result.problems, [o.status for o in result.outcomes]

    blocked, problems, statuses = await with_register(runtime, clock, check)
    assert blocked is True
    assert statuses == [ConsentStatus.NO_REGISTER, ConsentStatus.NO_REGISTER]
    assert "has not imported a consent register" in problems[0]
    assert "policybot consent import" in problems[0]
    assert "Amelia Hart" in problems[0]

    async def nobody(register: ConsentRegister) -> bool:
        return (await register.check("oakfield", [], [W])).blocked

    assert await with_register(runtime, clock, nobody) is False


async def test_only_the_newest_imports_rows_are_ever_consulted(
    runtime: Runtime, clock: Clock
) -> None:
    """Rows an older import left behind (say, by a concurrent import) are never read."""
    first = await import_text(runtime, clock, REGISTER)
    await import_text(runtime, clock, "Name,Instagram\nAmelia Hart,no\n")
    async with runtime.db.session() as session:
        session.add(
            PupilConsent(
                school_id="oakfield",
                import_id=first,
                name="Isla Brennan",
                match_key="isla brennan",
                consent={"instagram": True},
            )
        )

    async def look(register: ConsentRegister) -> tuple[list[str], list[str], ConsentStatus]:
        found = [p.name for p in await register.find("oakfield", "Isla Brennan")]
        pupils = [p.name for p in await register.pupils("oakfield")]
        checked = await register.check("oakfield", ["Isla Brennan"], [IG])
        return found, pupils, checked.outcomes[0].status

    assert await with_register(runtime, clock, look) == (
        [],
        ["Amelia Hart"],
        ConsentStatus.NOT_IN_REGISTER,
    )
