"""The pupil-name check on realistic school posts: what it must warn about, and what it must not.

Staff stop reading a checker that cries wolf, so the posts that must stay quiet (sports days,
term dates, values, "Mrs Smith", "Holly Class") matter as much as the names it must find. Every
test states the complete list of findings it expects, so an extra warning fails it as surely as
a missing one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.services.posts.name_scan import GIVEN_NAMES, NameFinding, scan_post_text

REGISTER: tuple[str, ...] = (
    "Amelia Hart",
    "Amelia Jones",
    "Zoë O'Neill",
    "Jamie-Lee Smith",
    "Grace Patel",
    "May Chen",
    "Summer Green",
    "Will Thompson",
    "Holly Brown",
    "Noah Williams",
    "Hart, Oliver (Ollie)",
    "An Nguyen",
    "April Jones",
    "Kit Marlowe",
    "Hope Adams",
    "Faith Okafor",
    "Jack Smith",
    "Isla Mae Roberts",
)

Found = list[tuple[str, str]]


def found(text: str, pupils: Sequence[str] = REGISTER) -> Found:
    """The findings as (kind, text) pairs, which is what most tests need to compare."""
    return [(finding.kind, finding.text) for finding in scan_post_text(text, pupils)]


# --- Registered full names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Congratulations to Amelia Hart in Year 4!", [("pupil", "Amelia Hart")]),
        ("CONGRATULATIONS AMELIA HART", [("pupil", "AMELIA HART")]),
        ("well done amelia hart", [("pupil", "amelia hart")]),
        # Accents and apostrophes either way round.
        ("Zoe O'Neill read her poem.", [("pupil", "Zoe O'Neill")]),
        ("Zoë O\u2019Neill read her poem.", [("pupil", "Zoë O\u2019Neill")]),
        ("Zoe\u0308 ONeill read her poem.", [("pupil", "Zoe\u0308 ONeill")]),
        # Hyphen written, left out, or broken across a line.
        ("Jamie-Lee Smith ran the relay.", [("pupil", "Jamie-Lee Smith")]),
        ("Well done Jamie Lee Smith.", [("pupil", "Jamie Lee Smith")]),
        ("Well done Jamie-\nLee Smith.", [("pupil", "Jamie-\nLee Smith")]),
        # A name wrapped onto the next line, with Windows line endings too.
        ("Well done to Amelia\nHart for her story.", [("pupil", "Amelia\nHart")]),
        ("Well done to Amelia\r\nHart for her story.", [("pupil", "Amelia\r\nHart")]),
        # Middle names and preferred names from the register.
        ("Isla Roberts won the spelling bee.", [("pupil", "Isla Roberts")]),
        ("Isla Mae Roberts won the spelling bee.", [("pupil", "Isla Mae Roberts")]),
        ("Ollie Hart scored twice.", [("pupil", "Ollie Hart")]),
        ("Oliver Hart scored twice.", [("pupil", "Oliver Hart")]),
        # A registered word-name is still a full name at the start of a sentence.
        ("Grace Patel sang a solo.", [("pupil", "Grace Patel")]),
        ("Jack Smith won the maths prize.", [("pupil", "Jack Smith")]),
    ],
)
def test_registered_full_names_are_found_however_they_are_written(
    text: str, expected: Found
) -> None:
    assert found(text) == expected


def test_a_possessive_is_found_and_left_outside_the_highlighted_name() -> None:
    text = "Amelia Hart's painting and Zoë O\u2019Neill\u2019s model are on display."
    findings = scan_post_text(text, REGISTER)
    assert [(f.kind, f.text, f.start, f.end) for f in findings] == [
        ("pupil", "Amelia Hart", 0, 11),
        ("pupil", "Zoë O\u2019Neill", 27, 38),
    ]


@pytest.mark.parametrize(
    "register",
    [
        ["Hart, Amelia"],
        ["HART Amelia"],
        ["  Amelia   Hart "],
        ["Hart,Amelia"],
    ],
)
def test_register_entries_written_surname_first_are_understood(register: list[str]) -> None:
    assert found("A big well done to Amelia Hart.", register) == [("pupil", "Amelia Hart")]


@pytest.mark.parametrize(
    "text",
    [
        "Thank you to Mrs Amelia Hart for running the cake stall.",
        "Thank you to Mrs. Amelia Hart for running the cake stall.",
        "Our headteacher Amelia Hart opened the fair.",
        "Amelia's mum Grace Patel baked the cakes.",
    ],
)
def test_a_registered_name_after_a_title_or_role_is_an_adult(text: str) -> None:
    assert [kind for kind, _ in found(text) if kind == "pupil"] == []


def test_a_full_stop_before_a_name_ends_a_sentence_rather_than_making_a_title() -> None:
    assert found("Well done to Oak House. Amelia Hart won the cup.") == [("pupil", "Amelia Hart")]


def test_a_registered_name_wins_over_a_longer_heuristic_name_that_overlaps_it() -> None:
    assert found("Oliver James Bennett came third.", ["James Bennett"]) == [
        ("pupil", "James Bennett")
    ]
    assert found("Oliver James Bennett came third.", ()) == [("full_name", "Oliver James Bennett")]


def test_the_register_is_believed_over_the_list_of_famous_names() -> None:
    text = "Jack Frost visited Nursery, and Jack Frost in Year 2 met him."
    assert found(text) == []
    assert found(text, ["Jack Frost"]) == [("pupil", "Jack Frost"), ("pupil", "Jack Frost")]


def test_lower_case_word_names_are_ordinary_words_even_when_they_match_the_register() -> None:
    assert found("The trees may green early and summer green is lovely.") == []
    assert found("Summer Green collected the award.") == [("pupil", "Summer Green")]


def test_a_name_inside_a_longer_hyphenated_name_is_not_that_name() -> None:
    # "Jamie" is Jamie Brown's first name, but "Jamie-Lee" is someone else's.
    register = ["Jamie Brown", "Amelia Hart"]
    assert found("Jamie-Lee won and Jamie came second.", register) == [
        ("pupil_first_name", "Jamie")
    ]
    # A registered surname inside a double-barrelled one is not that pupil either.
    assert found("Well done Amelia Hart-Jones.", register) == [("full_name", "Amelia Hart-Jones")]


def test_pupils_sharing_a_full_name_are_all_named() -> None:
    register = ["Sam Taylor", "Sam Taylor", "Taylor, Sam"]
    findings = scan_post_text("Sam Taylor won the egg and spoon race.", register)
    assert [(f.kind, f.pupil) for f in findings] == [("pupil", "Sam Taylor; Taylor, Sam")]


# --- Registered first names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Well done Amelia!", [("pupil_first_name", "Amelia")]),
        ("Amelia scored the winning goal.", [("pupil_first_name", "Amelia")]),
        ("Amelia's class went to the zoo.", [("pupil_first_name", "Amelia")]),
        ("WELL DONE AMELIA", [("pupil_first_name", "AMELIA")]),
        ("Star of the week: Grace!", [("pupil_first_name", "Grace")]),
        (
            "Thank you to Summer and Will for tidying up.",
            [
                ("pupil_first_name", "Summer"),
                ("pupil_first_name", "Will"),
            ],
        ),
        ("Well done to\nGrace for her kindness.", [("pupil_first_name", "Grace")]),
        ("A big thank you to Kit for helping.", [("pupil_first_name", "Kit")]),
        ("Thanks An for helping!", [("pupil_first_name", "An")]),
        ("Well done April!", [("pupil_first_name", "April")]),
        ("Happy birthday May!", [("pupil_first_name", "May")]),
        ("Ollie read to the class.", [("pupil_first_name", "Ollie")]),
        ("We will miss Amelia when she moves.", [("pupil_first_name", "Amelia")]),
    ],
)
def test_registered_first_names_are_found_where_they_read_as_names(
    text: str, expected: Found
) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Ordinary words, lower case.
        "We hope everyone has a restful summer and will come back refreshed.",
        "By the grace of the weather, we may finish early; faith and hope kept us going.",
        # Word-names at the start of a sentence or line.
        "Grace was said before lunch.",
        "Summer is nearly here!",
        "Will parents please return reply slips by Friday?",
        "May we remind families that school closes at 1pm.",
        "Hope you all have a lovely weekend.",
        "An amazing day was had by all.",
        "Dates for your diary:\n- Summer Fair on Saturday\n- Grace period ends Friday",
        "🎉 Summer is here!",
        # Phrases that make the name a thing.
        "Summer term starts on Monday 3 June.",
        "The May half term holiday starts on 27 May.",
        "Please note the Grace period for dinner money ends on Friday.",
        "Holly Class went to the zoo.",
        "Well done to Team Holly and House Grace.",
        "Please bring your PE Kit on Tuesdays.",
        "Our Christian values this term are Hope and Faith.",
        "We sang Amazing Grace in assembly.",
        "Jack Frost came to visit Nursery!",
        "Welcome back to Summer term, everyone.",
        "Congratulations to Holly Class and Amelia House!",
        # Headings written in Title Case.
        "Parents' Evening: Hope To See You There",
        # Months and seasons in dates.
        "Sports Day is on Friday 12 May.",
        "School reopens on 14 April.",
        "School reopens on the 14th of April.",
        "Reports will be sent home in May.",
        "Our trip is booked for May 2025.",
        "Summer 2 starts after half term.",
        # Headings and capitals.
        "Summer Fair Dates For Your Diary",
        "SUMMER FAIR THIS SATURDAY",
        # Titles mean adults: the nursery's Miss Amelia is a teacher.
        "Miss Amelia led the nursery singing.",
        "Thank you to Mrs Grace Adams and Mr. Oliver Bennett.",
        "The children made cards for Grandma Rose.",
        # Named after someone.
        "Oliver Goldsmith Primary School came to play.",
    ],
)
def test_first_names_stay_quiet_where_they_are_words_titles_or_things(text: str) -> None:
    assert found(text) == []


def test_a_sentence_full_of_flower_names_is_not_mistaken_for_a_heading() -> None:
    register = ["Rose Hill", "Lily Moss", "Daisy Ward"]
    assert found("Lots of love from Rose, Lily and Daisy in Nursery.", register) == [
        ("pupil_first_name", "Rose"),
        ("pupil_first_name", "Lily"),
        ("pupil_first_name", "Daisy"),
    ]
    assert found("Love From Rose, Lily And Daisy In Nursery", register) == []


def test_pupils_sharing_a_first_name_are_all_given() -> None:
    findings = scan_post_text("Well done Amelia!", REGISTER)
    assert [f.pupil for f in findings] == ["Amelia Hart; Amelia Jones"]
    assert "2 pupils in the consent register (Amelia Hart; Amelia Jones)" in findings[0].message


def test_a_first_name_inside_a_full_name_gives_way_to_the_full_name() -> None:
    # Amelia is registered, Amelia Smith is not: the stronger full-name finding wins.
    assert found("Well done Amelia Smith and Amelia.") == [
        ("full_name", "Amelia Smith"),
        ("pupil_first_name", "Amelia"),
    ]


# --- Full names without the register -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Congratulations to Oliver Bennett in Year 4", ["Oliver Bennett"]),
        ("Lily Chen and Noah Williams won the quiz", ["Lily Chen", "Noah Williams"]),
        (
            "Well done Ava Thompson, Leo Martin and Isla Brown - our new school councillors!",
            ["Ava Thompson", "Leo Martin", "Isla Brown"],
        ),
        ("Sophie Williams (Year 2) won the drawing competition.", ["Sophie Williams"]),
        ("Oliver James Bennett came third.", ["Oliver James Bennett"]),
        ("Lucas van Dijk and Lily-Mae Chen won.", ["Lucas van Dijk", "Lily-Mae Chen"]),
        ("Well done Yusuf al-Hassan!", ["Yusuf al-Hassan"]),
        ("Mohammed O'Connor's model was amazing.", ["Mohammed O'Connor"]),
        ("Well Done Oliver Bennett!", ["Oliver Bennett"]),
        ("Congratulations to\nOliver Bennett.", ["Oliver Bennett"]),
        ("Thank you Oliver\nBennett for the flowers.", ["Oliver\nBennett"]),
        ("Ella McDonald and Jacob Hall ran well.", ["Ella McDonald", "Jacob Hall"]),
        ("Lily Chen won.", ["Lily Chen"]),
    ],
)
def test_full_names_are_found_without_a_register(text: str, expected: list[str]) -> None:
    assert found(text, ()) == [("full_name", name) for name in expected]


@pytest.mark.parametrize(
    "text",
    [
        "Sports Day is on Friday 12 May.",
        "Year Six and Year 6 will run the Christmas Fair.",
        "Oakfield Primary School raised £500 at the Harvest Festival.",
        "Thank you to Mrs Smith, Mr Jones, Miss Patel, Ms Green and Dr Khan.",
        "Thank you to Mrs Sarah Smith and Mr. Oliver Bennett.",
        "We loved World Book Day and Red Nose Day.",
        "Team Oak beat Team Willow, and House Noah won the cup.",
        "Year 3 visited London and Year 5 went to Manchester.",
        "Year 1 went on a Bear Hunt in Victoria Park, then home from Victoria Station.",
        "SPORTS DAY RESULTS: OLIVER BENNETT WON",
        "Dress up as Harry Potter or Florence Nightingale for World Book Day!",
        "This term we are learning about Neil Armstrong and Tim Peake.",
        "Tickets for Oliver Twist go on sale on Monday.",
        "Congratulations to Oliver B and Amelia H in Year 4.",
        "Thank you Oliver\nPlease bring a coat tomorrow.",
        "Well done Oliver!\nBennett House won the cup.",
        "Thank you Oliver.\n\nBennett's Bakery donated the cakes.",
        "Our Summer Ball and the Poppy Day collection raised £300.",
        "Summer Fair Dates For Your Diary",
        "We visited the Mary Rose in Portsmouth.",
        "Dear Parents and Carers, Will Parents Please Note: Books Are Due Back On Friday.",
        "Lily Class and Ruby Group performed at the Carol Service.",
        "Our headteacher Sarah Jones and our local MP, Sarah Jones, visited.",
        "Lucas from Year 6 met Oliver Goldsmith Primary School's captain.",
        "Thank you for supporting Poppy Day and our Summer Camp.",
        "Will Oakfield families please send in a named water bottle.",
        "May Oakfield families remember the early finish on Friday.",
        "We had lunch at the Lily Pad café after the walk.",
        "Year 4 watched the Charlie Brown Christmas special.",
    ],
)
def test_full_names_stay_quiet_on_school_phrases_titles_and_famous_names(text: str) -> None:
    assert found(text, ()) == []


# --- Whole posts -------------------------------------------------------------------------------


def test_a_celebration_post() -> None:
    post = (
        "🏆 CELEBRATION ASSEMBLY 🏆\n"
        "This week's Stars of the Week are Amelia, Noah Williams and Grace.\n"
        "Well done to Oliver Bennett in Year 4 for his brilliant poem, and to Lily-Mae for "
        "100% attendance.\n"
        "Thank you to Mrs Patel and the PTA for the Summer Fair prizes!"
    )
    assert found(post) == [
        ("pupil_first_name", "Amelia"),
        ("pupil", "Noah Williams"),
        ("pupil_first_name", "Grace"),
        ("full_name", "Oliver Bennett"),
    ]


def test_a_sports_results_post() -> None:
    post = (
        "Football results ⚽\n"
        "Oakfield 3 - 2 St John's. Goals from Will, Holly Brown and Jamie-Lee. "
        "Player of the match: Hope!\n"
        "Netball: Oakfield lost 4-6 to Greenfield Academy. Next fixture Friday 21 June."
    )
    assert found(post) == [
        ("pupil_first_name", "Will"),
        ("pupil", "Holly Brown"),
        ("pupil_first_name", "Jamie-Lee"),
        ("pupil_first_name", "Hope"),
    ]


def test_a_trip_post() -> None:
    post = (
        "Year 5 had a fantastic day at Chester Zoo! The children saw the Komodo dragons and "
        "Amelia Jones and Kacper Kowalski asked the keeper brilliant questions.\n"
        "Thank you to Mr Hart, Miss Green and our parent helpers. Photos to follow."
    )
    assert found(post) == [
        ("pupil", "Amelia Jones"),
        ("full_name", "Kacper Kowalski"),
    ]


def test_a_newsletter_post_with_dates_and_values() -> None:
    post = (
        "SUMMER TERM NEWSLETTER\n\n"
        "Dear Parents and Carers,\n"
        "Summer term has got off to a wonderful start. Our Christian values this half term are "
        "Hope and Faith, and Year 2 led a lovely Collective Worship on them.\n"
        "Dates for your diary:\n"
        "• May half term: 27 May \u2013 31 May\n"
        "• Sports Day: Friday 21 June (reserve day Monday 24 June)\n"
        "• Summer Fair: Saturday 6 July\n"
        "• Grace period for dinner money ends 30 June\n"
        "May we remind you that PE Kit is needed every Tuesday.\n"
        "Best wishes,\n"
        "Mrs Smith\n"
        "Headteacher"
    )
    assert found(post) == []


def test_a_post_about_a_visiting_author_and_a_history_topic() -> None:
    post = (
        "What an exciting World Book Day! Year 3 dressed as characters from Roald Dahl and "
        "Julia Donaldson books, and Year 6 presented their research on Grace Darling and "
        "Mary Seacole. Children's author Sarah Jones ran a writing workshop."
    )
    assert found(post) == []


def test_a_post_naming_a_pupil_in_a_quoted_caption() -> None:
    post = (
        '"I loved meeting the animals!" said Summer, aged 7.\n'
        "Photo: Summer Green feeding the goats."
    )
    assert found(post) == [
        ("pupil_first_name", "Summer"),
        ("pupil", "Summer Green"),
    ]


# --- Messages and the finding itself -------------------------------------------------------------


def test_messages_tell_the_author_what_was_found_and_why() -> None:
    findings = scan_post_text("Amelia Hart, amelia jones, Kit and Oliver Bennett.", REGISTER)
    assert [f.message for f in findings] == [
        "“Amelia Hart” is a pupil's full name (from the consent register). "
        "Pupils must not be named in posts on school accounts.",
        "“amelia jones” is a pupil's full name (Amelia Jones, from the consent register). "
        "Pupils must not be named in posts on school accounts.",
        "“Kit” is the first name of a pupil in the consent register (Kit Marlowe). "
        "With the school's name or a photo, a first name can be enough to identify a child.",
        "“Oliver Bennett” looks like a person's full name. If it is a pupil's name, please "
        "take it out: pupils must not be named in posts on school accounts.",
    ]
    assert [f.pupil for f in findings] == ["Amelia Hart", "Amelia Jones", "Kit Marlowe", None]


def test_findings_are_frozen_records_of_exact_positions() -> None:
    text = "Thank you Noah Williams."
    assert scan_post_text(text, REGISTER) == [
        NameFinding(
            text="Noah Williams",
            start=10,
            end=23,
            kind="pupil",
            pupil="Noah Williams",
            message="“Noah Williams” is a pupil's full name (from the consent register). "
            "Pupils must not be named in posts on school accounts.",
        )
    ]


def test_the_register_decides_between_pupil_and_full_name() -> None:
    text = "Noah Williams and Oliver Bennett won."
    assert found(text) == [("pupil", "Noah Williams"), ("full_name", "Oliver Bennett")]
    assert found(text, ()) == [("full_name", "Noah Williams"), ("full_name", "Oliver Bennett")]
    assert found(text, ["Oliver Bennett"]) == [
        ("full_name", "Noah Williams"),
        ("pupil", "Oliver Bennett"),
    ]


def test_each_register_is_used_only_for_its_own_scans() -> None:
    text = "Well done Priya!"
    assert found(text, ["Priya Shah"]) == [("pupil_first_name", "Priya")]
    assert found(text, ["Amelia Hart"]) == []
    assert found(text, []) == []
    assert found(text, ("Priya Shah",)) == [("pupil_first_name", "Priya")]


@pytest.mark.parametrize("text", ["", "   \n\n", "2024-25 🎉 !!! 12/05", "—"])
def test_text_without_words_has_no_findings(text: str) -> None:
    assert scan_post_text(text, REGISTER) == []


def test_the_given_names_list_is_lower_case_and_plain() -> None:
    assert len(GIVEN_NAMES) > 300
    assert all(name == name.lower() and name.isascii() and name.isalpha() for name in GIVEN_NAMES)


_WORDS = st.sampled_from(
    [
        "Amelia", "Hart", "amelia", "hart's", "Grace", "grace", "Summer", "term", "Oliver",
        "Bennett", "Mrs", "Smith", "May", "12", "the", "Team", "Oak", "Jamie-Lee", "Smith's",
        "Zoë", "O\u2019Neill", "and", "Day", "Sports", "Lily-Mae", "van", "Dijk", "Harry", "Potter",
        "WELL", "DONE", "🎉", "-", "Year", "6",
    ]
)  # fmt: skip
_SEPARATORS = st.sampled_from([" ", " ", " ", "\n", ", ", ". ", "! ", "\n\n", "-", "'"])


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.tuples(_WORDS, _SEPARATORS), max_size=30))
def test_findings_are_exact_sorted_and_never_overlap(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + separator for word, separator in parts)
    findings = scan_post_text(text, REGISTER)
    for finding in findings:
        assert text[finding.start : finding.end] == finding.text
        assert finding.text
        assert finding.text.strip() == finding.text
        assert (finding.pupil is None) == (finding.kind == "full_name")
        assert finding.text in finding.message
    for earlier, later in itertools.pairwise(findings):
        assert earlier.end <= later.start
