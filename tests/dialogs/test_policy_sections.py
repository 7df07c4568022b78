"""Splitting policies into citable sections, one test per shape real school policies come in.

Every document here is invented for the test, in the style of an English school's staff social
media policy, except the bundled sample policy, which is ours. Expectations are exact: a changed
heuristic that moves a clause or renames a citation should fail here, not in front of a teacher.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.services.policy.sections import (
    FRONT_MATTER,
    SEPARATOR,
    WHOLE_DOCUMENT,
    Clause,
    ParsedPolicy,
    Section,
    clause_citation,
    parse_policy,
)

SAMPLE = Path(__file__).resolve().parents[2] / "bot" / "sample" / "policy.md"


def path(*parts: str) -> str:
    return SEPARATOR.join(parts)


def outline(policy: ParsedPolicy) -> list[tuple[str, list[str | None]]]:
    return [(s.citation, [c.number for c in s.clauses]) for s in policy.sections]


def texts(section: Section) -> list[str]:
    return [c.text for c in section.clauses]


def by_citation(policy: ParsedPolicy, citation: str) -> Section:
    return next(s for s in policy.sections if s.citation == citation)


# --- Numbered clauses --------------------------------------------------------------------------

NUMBERED = """\
1. INTRODUCTION

1.1 This policy sets out how staff at Brookside Academy use social media.

1.2 It applies to teaching and support staff, governors and volunteers.

2. PERSONAL ACCOUNTS

2.1 Keeping Boundaries
2.1.1 Staff must not follow or message current pupils from a personal
account, whatever the platform.
2.1.2
Staff should set personal profiles to private.

2.2 Parents
2.2.1 Staff must not discuss pupils with parents on social media.
"""


def test_numbered_clauses_and_headings_at_several_levels() -> None:
    policy = parse_policy(NUMBERED)

    assert policy.title is None
    assert outline(policy) == [
        ("1 INTRODUCTION", ["1.1", "1.2"]),
        ("2.1 Keeping Boundaries", ["2.1.1", "2.1.2"]),
        ("2.2 Parents", ["2.2.1"]),
    ]
    boundaries = policy.sections[1]
    assert boundaries.heading_path == ("PERSONAL ACCOUNTS", "Keeping Boundaries")
    assert boundaries.number == "2.1"
    assert texts(boundaries) == [
        "Staff must not follow or message current pupils from a personal account, "
        "whatever the platform.",
        "Staff should set personal profiles to private.",
    ]
    assert boundaries.text == "\n".join(texts(boundaries))
    assert clause_citation(boundaries, boundaries.clauses[0]) == path(
        "2.1 Keeping Boundaries", "2.1.1"
    )
    assert policy.dropped == ()
    assert SEPARATOR == " \u203a "  # a single right-pointing angle quote: reads well in chat


def test_clause_numbers_without_headings_still_group_into_sections() -> None:
    policy = parse_policy(
        "1.1 Staff must keep their passwords to themselves.\n"
        "1.2 Shared devices must be locked when left.\n"
        "\n"
        "2.1 Concerns go to the designated safeguarding lead.\n"
    )

    assert outline(policy) == [("1", ["1.1", "1.2"]), ("2", ["2.1"])]
    assert policy.sections[1].number == "2"
    assert clause_citation(policy.sections[1], policy.sections[1].clauses[0]) == "2.1"


def test_a_numbered_list_of_short_items_is_not_a_run_of_headings() -> None:
    policy = parse_policy(
        "Scope\n\nThe policy applies to:\n1. Teachers\n2. Teaching Assistants\n3. Volunteers\n"
        "\nIt also applies to visiting coaches.\n"
    )

    (scope,) = policy.sections
    assert scope.citation == "Scope"
    assert [(c.number, c.text, c.lead_in) for c in scope.clauses] == [
        (None, "The policy applies to:", None),
        ("1", "Teachers", "The policy applies to:"),
        ("2", "Teaching Assistants", "The policy applies to:"),
        ("3", "Volunteers", "The policy applies to:"),
        (None, "It also applies to visiting coaches.", None),
    ]


# --- Markdown ----------------------------------------------------------------------------------

MARKDOWN = """\
# Greenfield Trust Online Conduct Policy

## Staff use

### Personal accounts

Staff keep **personal** and professional accounts apart.

- Do not add pupils as contacts.
* Check privacy settings every term.

### Official accounts

Only the communications lead may post on the trust's channels, and only
after a second person has checked the post.

## Cyberbullying

### Reporting

Staff should:

- keep screenshots of anything abusive;
- tell the safeguarding lead the same day.
"""


def test_markdown_headings_paragraphs_and_bullets() -> None:
    policy = parse_policy(MARKDOWN, kind="markdown")

    assert policy.title == "Greenfield Trust Online Conduct Policy"
    assert outline(policy) == [
        (path("Staff use", "Personal accounts"), [None, None, None]),
        (path("Staff use", "Official accounts"), [None]),
        (path("Cyberbullying", "Reporting"), [None, None, None]),
    ]
    personal, official, reporting = policy.sections
    assert personal.heading_path == ("Staff use", "Personal accounts")
    assert personal.number is None
    assert texts(personal) == [
        "Staff keep personal and professional accounts apart.",
        "Do not add pupils as contacts.",
        "Check privacy settings every term.",
    ]
    assert texts(official) == [
        "Only the communications lead may post on the trust's channels, and only after a second "
        "person has checked the post."
    ]
    assert reporting.clauses[1:] == (
        Clause(None, "keep screenshots of anything abusive;", "Staff should:"),
        Clause(None, "tell the safeguarding lead the same day.", "Staff should:"),
    )


def test_numbered_markdown_headings_keep_their_numbers() -> None:
    policy = parse_policy(
        "## 4. Media enquiries\n\n4.1 Journalists are referred to the headteacher.\n",
        kind="markdown",
    )

    assert outline(policy) == [("4 Media enquiries", ["4.1"])]
    assert policy.sections[0].heading_path == ("Media enquiries",)
    assert policy.sections[0].number == "4"


def test_a_heading_that_introduces_a_list_is_cited_not_repeated_as_a_lead_in() -> None:
    policy = parse_policy(
        "## When you post\n\n### Check that:\n\n- the post names no pupil\n- consent is on file\n"
    )

    (section,) = policy.sections
    assert section.citation == path("When you post", "Check that")
    # The heading's words are in every citation; as a lead-in they were shown twice.
    assert [c.lead_in for c in section.clauses] == [None, None]


# --- Title lines -------------------------------------------------------------------------------

TITLED = """\
RIVERSIDE SCHOOL SOCIAL MEDIA POLICY

PURPOSE

This policy explains what the school expects of staff who use social
media, at work and at home.

PERSONAL USE

Friend Requests

\u00b7 Decline requests from pupils and from former pupils under eighteen.
\u2022 Tell your line manager if a pupil keeps trying to connect.

Posting

- Keep your accounts private.
\u2013 Do not name the school in your profile.
* Think before you post.
o Log out of shared computers.
"""


def test_title_lines_followed_by_paragraphs_and_every_kind_of_bullet() -> None:
    policy = parse_policy(TITLED)

    assert policy.title == "RIVERSIDE SCHOOL SOCIAL MEDIA POLICY"
    assert outline(policy) == [
        ("PURPOSE", [None]),
        (path("PERSONAL USE", "Friend Requests"), [None, None]),
        (path("PERSONAL USE", "Posting"), [None, None, None, None]),
    ]
    assert texts(policy.sections[0]) == [
        "This policy explains what the school expects of staff who use social media, at work "
        "and at home."
    ]
    assert texts(policy.sections[2]) == [
        "Keep your accounts private.",
        "Do not name the school in your profile.",
        "Think before you post.",
        "Log out of shared computers.",
    ]
    assert policy.sections[1].heading_path == ("PERSONAL USE", "Friend Requests")


HEADED_LINES = (
    "Who This Covers\n"
    "\u2022 Everyone employed by the trust, including supply staff and trainees, whether they "
    "are working in a school, at the central office or from home.\n"
    "\u2022 Volunteers and governors when they act on the trust's behalf.\n"
    "Account Security\n"
    "Every account used for trust business must have a strong password that is not used "
    "anywhere else, and two-step sign-in must be switched on wherever it is offered.\n"
    "Passwords are never shared by message or email.\n"
)


def test_one_line_per_paragraph_with_headings_and_no_blank_lines() -> None:
    policy = parse_policy(HEADED_LINES)

    assert outline(policy) == [
        ("Who This Covers", [None, None]),
        ("Account Security", [None, None]),
    ]
    assert texts(policy.sections[1])[1] == "Passwords are never shared by message or email."


def test_sub_headings_ending_in_a_colon_sit_under_the_heading_before_them() -> None:
    policy = parse_policy(
        "Posting With Care\n\n"
        "Photographs and video:\n\nOnly school devices are used to take photographs.\n\n"
        "Staff must not make the following posts:\n\n- posts naming a pupil\n\n"
        "Reviewing This Policy\n\nThe governors review this policy every two years.\n"
    )

    assert outline(policy) == [
        (path("Posting With Care", "Photographs and video"), [None, None, None]),
        ("Reviewing This Policy", [None]),
    ]
    photos = policy.sections[0]
    assert photos.clauses[2] == Clause(
        None, "posts naming a pupil", "Staff must not make the following posts:"
    )


def test_a_heading_restated_with_a_dash_starts_the_rules_for_someone_else() -> None:
    policy = parse_policy(
        "Online Conduct\n"
        "The Head and Deputies\n"
        "\u00b7 should not post anonymously.\n"
        "\u00b7 must not post content that damages the Trust.\n\n"
        "Online Conduct \u2013 Partner schools are responsible for following these guidelines;\n"
        "\u00b7 Partner schools must not post content that damages the Trust.\n\n"
        "Tone\n\nBe kind and brief.\n"
    )

    assert [s.citation for s in policy.sections] == [
        "Online Conduct \u203a The Head and Deputies",
        "Online Conduct \u2013 Partner schools are responsible for following these guidelines",
        "Tone",
    ]
    assert texts(policy.sections[1]) == [
        "Partner schools must not post content that damages the Trust."
    ]


def test_a_dash_sentence_that_restates_no_heading_stays_a_lead_in() -> None:
    policy = parse_policy(
        "Online Conduct\n\n"
        "Staff \u2013 including volunteers \u2013 must follow these rules;\n"
        "\u00b7 be kind.\n"
    )

    [section] = policy.sections
    assert section.citation == "Online Conduct"
    assert section.clauses[-1].lead_in == (
        "Staff \u2013 including volunteers \u2013 must follow these rules;"
    )


# --- Lettered lists ----------------------------------------------------------------------------

LETTERED = """\
4. CONDUCT ONLINE

4.1 Staff must not use social media to:
a) share information about pupils;
b) criticise colleagues or parents; or
c) post anything that could bring the school into disrepute.

4.2 Where a post breaches 4.1, the headteacher will:
(a) ask for it to be removed;
(b) decide whether it is a disciplinary matter, taking into account:
   i) how many people saw it;
   ii) whether it was repeated;
(c) record the outcome.

4.3 Personal devices include:
a. phones;
b. tablets.

Warning signs that an account has been taken over are:
(i) posts you did not write;
(ii) new followers you do not know;
(iii) changed passwords;
(iv) messages sent in your name.
"""


def test_lettered_and_roman_items_continue_the_clause_before_them() -> None:
    policy = parse_policy(LETTERED)

    (conduct,) = policy.sections
    assert conduct.citation == "4 CONDUCT ONLINE"
    assert [c.number for c in conduct.clauses] == [
        "4.1", "4.1(a)", "4.1(b)", "4.1(c)",
        "4.2", "4.2(a)", "4.2(b)", "4.2(b)(i)", "4.2(b)(ii)", "4.2(c)",
        "4.3", "4.3(a)", "4.3(b)",
        None, "(i)", "(ii)", "(iii)", "(iv)",
    ]  # fmt: skip
    clauses = {c.number: c for c in conduct.clauses}
    assert clauses["4.1(b)"] == Clause(
        "4.1(b)", "criticise colleagues or parents; or", "Staff must not use social media to:"
    )
    assert clauses["4.2(b)(ii)"].lead_in == (
        "decide whether it is a disciplinary matter, taking into account:"
    )
    assert clauses["4.2(c)"].lead_in == "Where a post breaches 4.1, the headteacher will:"
    assert clauses["(iv)"] == Clause(
        "(iv)",
        "messages sent in your name.",
        "Warning signs that an account has been taken over are:",
    )
    assert clause_citation(conduct, clauses["4.2(b)(i)"]) == path("4 CONDUCT ONLINE", "4.2(b)(i)")


# --- Page furniture ----------------------------------------------------------------------------

PAGED = (
    "Hillcrest Primary School | Staff Social Media Policy\n"
    "\n"
    "1. Scope\n"
    "\n"
    "1.1 This policy covers every adult who works or volunteers at the school.\n"
    "\n"
    "1.2 Staff remain responsible for what they post, even when they use a\n"
    "\n"
    "Page 1 of 3\n"
    "\f"
    "Hillcrest Primary School | Staff Social Media Policy\n"
    "\n"
    "nickname or a private account.\n"
    "\n"
    "2. Reporting\n"
    "\n"
    "2.1 Anything worrying is reported to the designated safeguarding lead.\n"
    "\n"
    "Page 2 of 3\n"
    "\f"
    "Hillcrest Primary School | Staff Social Media Policy\n"
    "\n"
    "2.2 Reports are recorded on the safeguarding system.\n"
    "\n"
    "Page 3 of 3\n"
)


def test_running_headers_page_numbers_and_a_paragraph_across_a_page_break() -> None:
    policy = parse_policy(PAGED)

    assert policy.title == "Hillcrest Primary School | Staff Social Media Policy"
    assert outline(policy) == [("1 Scope", ["1.1", "1.2"]), ("2 Reporting", ["2.1", "2.2"])]
    assert policy.sections[0].clauses[1].text == (
        "Staff remain responsible for what they post, even when they use a nickname or a "
        "private account."
    )
    assert policy.dropped == (
        "Page 1 of 3",
        "Hillcrest Primary School | Staff Social Media Policy",
        "Page 2 of 3",
        "Hillcrest Primary School | Staff Social Media Policy",
        "Page 3 of 3",
    )


def test_a_short_line_recurring_without_form_feeds_is_a_footer_and_bare_numbers_are_pages() -> None:
    policy = parse_policy(
        "Purpose\n\nStaff use social media in a way that keeps pupils safe.\n\n"
        "Ashdown Federation \u2013 staff only\n2\n\n"
        "Reporting\n\nConcerns are reported on the same day.\n\n"
        "Ashdown Federation \u2013 staff only\n3\n\n"
        "Breaches\n\nBreaches may lead to disciplinary action.\n\n"
        "Ashdown Federation \u2013 staff only\n4\n"
    )

    assert outline(policy) == [("Purpose", [None]), ("Reporting", [None]), ("Breaches", [None])]
    assert policy.dropped == (
        "Ashdown Federation \u2013 staff only",
        "2",
        "Ashdown Federation \u2013 staff only",
        "3",
        "Ashdown Federation \u2013 staff only",
        "4",
    )


SIGNED = """\
Social Media Policy for Staff

Approved by: Full Governing Body
Date approved: 12 March 2024
Review date: March 2026

1. Purpose
1.1 Staff use social media in ways that protect pupils and the school.

Signed: ____________________
Chair of Governors
Mrs P. Example
Date: ____________
"""


def test_signature_and_approval_blocks_are_dropped_not_quoted() -> None:
    policy = parse_policy(SIGNED)

    assert policy.title == "Social Media Policy for Staff"
    assert outline(policy) == [("1 Purpose", ["1.1"])]
    assert policy.dropped == (
        "Approved by: Full Governing Body",
        "Date approved: 12 March 2024",
        "Review date: March 2026",
        "Signed: ____________________",
        "Chair of Governors",
        "Mrs P. Example",
        "Date: ____________",
    )


def test_an_approval_line_inside_a_paragraph_is_policy_text() -> None:
    policy = parse_policy(
        "Purpose\n\nApproved accounts only may be used to contact parents, and never personal\n"
        "ones.\n"
    )

    assert texts(policy.sections[0]) == [
        "Approved accounts only may be used to contact parents, and never personal ones."
    ]
    assert policy.dropped == ()


CONTENTS = """\
Staff Social Media Policy

Contents
1. Introduction ............ 2
2. Personal Use ............ 3
3. Reporting Concerns\t4

1. Introduction

1.1 Every member of staff follows this policy.

2. Personal Use

2.1 Staff do not connect with pupils online.

3. Reporting Concerns

3.1 Concerns are reported to the safeguarding lead.
"""


def test_a_table_of_contents_makes_no_empty_or_duplicate_sections() -> None:
    policy = parse_policy(CONTENTS)

    assert policy.title == "Staff Social Media Policy"
    assert outline(policy) == [
        ("1 Introduction", ["1.1"]),
        ("2 Personal Use", ["2.1"]),
        ("3 Reporting Concerns", ["3.1"]),
    ]
    assert policy.dropped == (
        "Contents",
        "1. Introduction ............ 2",
        "2. Personal Use ............ 3",
        "3. Reporting Concerns    4",
    )


# --- Titles, duplicates and edge cases ---------------------------------------------------------


def test_a_first_heading_that_does_not_name_the_policy_is_not_the_title() -> None:
    policy = parse_policy(
        "Introduction\n\nThe school encourages positive use of social media.\n\n"
        "Introduction\n\nA second introduction for new starters.\n"
    )

    assert policy.title is None
    assert outline(policy) == [("Introduction", [None]), ("Introduction (2)", [None])]


def test_text_before_the_first_heading_is_front_matter() -> None:
    policy = parse_policy(
        "Everyone who works here should read this.\n\nScope\n\nIt covers all platforms.\n"
    )

    assert [s.citation for s in policy.sections] == [FRONT_MATTER, "Scope"]
    assert policy.sections[0].heading_path == ()


def test_a_document_without_headings_is_one_section() -> None:
    policy = parse_policy("Staff should keep accounts private.\n\nPupils are never followed.\n")

    assert outline(policy) == [(WHOLE_DOCUMENT, [None, None])]


def test_a_heading_with_nothing_under_it_becomes_a_clause() -> None:
    policy = parse_policy(
        "## Breaches\n\nBreaches are investigated.\n\n## Appendix A\n", kind="markdown"
    )

    assert outline(policy) == [("Breaches", [None, None])]
    assert texts(policy.sections[0]) == ["Breaches are investigated.", "Appendix A"]


@pytest.mark.parametrize("text", ["", "   \n\n\t\n", "\f\f", "\r\n\r\n", "12\n", "Page 1 of 1"])
@pytest.mark.parametrize("kind", ["text", "markdown"])
def test_empty_input_gives_no_sections(text: str, kind: str) -> None:
    policy = parse_policy(text, kind=kind)

    assert policy.title is None
    assert policy.sections == ()


def test_windows_line_endings_and_tabs_parse_like_unix_text() -> None:
    unix = "1. POSTING\n\n1.1 Staff must check a post before it goes live.\n  - twice\n"
    windows = (
        "1. POSTING\r\n\r\n1.1\tStaff must check a post before it goes live.\r\n\t-\ttwice\r\n"
    )

    assert parse_policy(windows) == parse_policy(unix)
    assert outline(parse_policy(windows)) == [("1 POSTING", ["1.1", "1.1"])]


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy format"):
        parse_policy("Text", kind="docx")


# --- The bundled sample ------------------------------------------------------------------------


def test_the_bundled_sample_policy() -> None:
    policy = parse_policy(SAMPLE.read_text(encoding="utf-8"), kind="markdown")

    assert policy.title == "Oakfield Primary School — Staff Social Media Policy (sample)"
    assert outline(policy) == [
        (FRONT_MATTER, [None]),
        ("1 Purpose and scope", ["1.1", "1.2"]),
        ("2 Personal use of social media", ["2.1", "2.2", "2.3", "2.4"]),
        ("3 Official school accounts", ["3.1", "3.2", "3.3", "3.4", "3.5"]),
        ("4 Cyberbullying and online abuse", ["4.1", "4.2", "4.3", "4.4"]),
        ("5 Media enquiries", ["5.1"]),
        ("6 Breaches", ["6.1"]),
    ]
    assert policy.dropped == ()
    assert policy.sections[0].clauses[0].text.startswith("Version 1.0. Owner: the Headteacher.")
    friends = by_citation(policy, "2 Personal use of social media").clauses[0]
    assert friends.text == (
        "Staff must not accept or send friend or follower requests to current pupils on personal "
        "accounts. Requests from former pupils under 18 must also be declined."
    )


# --- Properties --------------------------------------------------------------------------------

VOCABULARY = [
    "Staff", "pupils", "must", "not", "post", "images", "parents", "Official", "Accounts",
    "safeguarding", "lead", "report", "PERSONAL", "USE", "the", "school", "of", "and", "Reporting",
    "consent", "24", "hours", "Signed", "Date", "Page", "Contents", "policy", "well-", "being",
]  # fmt: skip
FIXED_LINES = [
    "", "", "", "   ", "\t", "\f", "# Social Media Policy", "## 2. Personal use",
    "### Reporting concerns", "3. PERSONAL USE", "3.1 Official Accounts",
    "3.1.4 Staff must not share account passwords.", "3.1.4", "2.1", "12", "Cyberbullying",
    "OFFICIAL ACCOUNTS", "Photographs and video:", "\u2022 Report it to the safeguarding lead.",
    "\u00b7 Keep screenshots", "- never reply", "* block the sender", "o Tell a colleague",
    "\u2013 Save messages", "a) posting images of pupils;", "(ii) sharing passwords",
    "iv. using personal devices", "Staff must not accept friend requests from pupils",
    "or former pupils under eighteen.", "Page 3 of 12", "Oakfield Staff Social Media Policy",
    "Signed: ________", "Chair of Governors", "Date: 1 September 2024",
    "Approved by: Full Governing Body", "Review date: July 2025", "Contents",
    "Introduction ........ 3", "Reporting 5", "**Breaches**", "Quick Reminders.", "Staff should:",
    "---", "===", "> quoted guidance", "[the trust site](https://example.org/policy)",
]  # fmt: skip
PREFIXES = ["", "", "", "3.1 ", "a) ", "(iv) ", "\u2022 ", "- ", "# ", "## ", "o ", "  ", "1. "]
SUFFIXES = ["", "", ".", ":", ";", "?"]

generated_line = st.builds(
    lambda prefix, words, suffix: prefix + " ".join(words) + suffix,
    st.sampled_from(PREFIXES),
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=14),
    st.sampled_from(SUFFIXES),
)
policy_text = st.builds(
    lambda lines, newline: newline.join(lines),
    st.lists(st.one_of(st.sampled_from(FIXED_LINES), generated_line), max_size=40),
    st.sampled_from(["\n", "\r\n"]),
)

WORD = re.compile(r"[^\W_]+")


def words_kept(policy: ParsedPolicy) -> set[str]:
    found = [policy.title or "", *policy.dropped]
    for section in policy.sections:
        found += [section.citation, section.text, section.number or "", *section.heading_path]
        found += [c.number or "" for c in section.clauses]
    return set(WORD.findall(" ".join(found)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=policy_text, kind=st.sampled_from(["text", "markdown"]))
def test_parsing_never_fails_and_never_loses_a_word(text: str, kind: str) -> None:
    policy = parse_policy(text, kind=kind)

    # "o" is only ever a bullet marker in this alphabet; every other word must survive.
    missing = set(WORD.findall(text)) - words_kept(policy) - {"o"}
    assert not missing, (missing, policy)
    citations = [s.citation for s in policy.sections]
    assert len(citations) == len(set(citations))
    assert all(s.clauses and all(c.text for c in s.clauses) for s in policy.sections)


sentence = st.builds(
    lambda first, rest: " ".join([first, *rest]) + ".",
    st.sampled_from(["Staff", "Pupils", "Parents", "Governors", "Posts", "Accounts"]),
    st.lists(st.sampled_from([w for w in VOCABULARY if w.islower()]), min_size=2, max_size=20),
)
clause_line = st.builds(
    lambda prefix, text: prefix + text,
    st.sampled_from(["", "\u2022 ", "- ", "5.1 ", "5.2 ", "(a) "]),
    sentence,
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(clause_line, min_size=1, max_size=8, unique=True))
def test_reparsing_the_clause_texts_of_a_section_gives_the_same_clauses(lines: list[str]) -> None:
    policy = parse_policy("Online Safety\n\n" + "\n\n".join(lines) + "\n")
    (section,) = policy.sections

    again = parse_policy("\n\n".join(texts(section)))

    assert [texts(s) for s in again.sections] == [texts(section)]


# --- Layouts met in policies the project did not write (issue 20) ------------------------------


def quotes(policy: ParsedPolicy) -> list[tuple[str, str | None, str]]:
    return [(clause_citation(s, c), c.lead_in, c.text) for s in policy.sections for c in s.clauses]


def test_items_under_a_numbered_clause_cite_its_number() -> None:
    policy = parse_policy(
        "7 Personal accounts\n\n"
        "7.1 Staff must keep personal profiles private.\n\n"
        "7.2 Staff may post about their own life outside school, provided it does not:\n"
        "\u2022 name the school or any pupil;\n"
        "\u2022 show pupils or their work.\n\n"
        "7.3 Breaches will be handled under the disciplinary procedure.\n"
    )

    assert [citation for citation, _, _ in quotes(policy)] == [
        path("7 Personal accounts", "7.1"),
        path("7 Personal accounts", "7.2"),
        path("7 Personal accounts", "7.2"),
        path("7 Personal accounts", "7.2"),
        path("7 Personal accounts", "7.3"),
    ]


def test_a_lettered_item_s_bullets_cite_the_letter() -> None:
    policy = parse_policy(
        "4 Official accounts\n\n"
        "4.1 Staff must check each post before it goes live:\n"
        "(a) a second member of staff checks it, looking for:\n"
        "\u2022 pupils' surnames;\n"
        "\u2022 uniform badges in photographs.\n"
    )

    assert [citation for citation, _, _ in quotes(policy)][-2:] == [
        path("4 Official accounts", "4.1(a)"),
        path("4 Official accounts", "4.1(a)"),
    ]


def test_a_lead_in_is_not_carried_onto_the_sentence_after_its_list() -> None:
    policy = parse_policy(
        "Personal use\n\n"
        "Staff may use social media in their own time, provided that they:\n"
        "\u2022 keep their profiles private\n"
        "\u2022 do not mention pupils\n"
        "Staff must not use school devices for personal posts.\n"
        "Breaches may lead to disciplinary action.\n"
    )

    lead = "Staff may use social media in their own time, provided that they:"
    assert quotes(policy) == [
        ("Personal use", None, lead),
        ("Personal use", lead, "keep their profiles private"),
        ("Personal use", lead, "do not mention pupils"),
        ("Personal use", None, "Staff must not use school devices for personal posts."),
        ("Personal use", None, "Breaches may lead to disciplinary action."),
    ]


def test_a_wrapped_list_item_still_continues_on_its_next_line() -> None:
    policy = parse_policy(
        "Personal use\n\n"
        "Staff may use social media in their own time, provided that they keep to these rules:\n"
        "\u2022 keep their profiles private and check the privacy settings every term, because\n"
        "  Sites change them without warning\n"
        "\u2022 do not mention pupils\n"
    )

    assert [text for _, _, text in quotes(policy)][1] == (
        "keep their profiles private and check the privacy settings every term, because "
        "Sites change them without warning"
    )


def test_a_heading_ending_in_a_colon_is_not_repeated_as_its_items_lead_in() -> None:
    policy = parse_policy(
        "## Online conduct\n\n"
        "### Staff should make sure that:\n\n"
        "- they never name pupils in posts\n"
        "- their profiles are private\n",
        kind="markdown",
    )

    heading = path("Online conduct", "Staff should make sure that")
    assert quotes(policy) == [
        (heading, None, "they never name pupils in posts"),
        (heading, None, "their profiles are private"),
    ]


def test_each_role_heading_over_a_list_of_duties_names_whose_duty_it_is() -> None:
    policy = parse_policy(
        "Roles and responsibilities\n\n"
        "Headteacher\n"
        "\u2022 approves every new school account\n"
        "\u2022 decides who may post on school accounts\n\n"
        "Designated Safeguarding Lead\n"
        "\u2022 receives reports of online abuse involving pupils\n\n"
        "All staff\n"
        "\u2022 read this policy and follow it\n\n"
        "Personal use\n\n"
        "Staff keep their own accounts private.\n"
    )

    assert [s.citation for s in policy.sections] == [
        path("Roles and responsibilities", "Headteacher"),
        path("Roles and responsibilities", "Designated Safeguarding Lead"),
        path("Roles and responsibilities", "All staff"),
        "Personal use",
    ]


def test_front_matter_labels_and_names_are_not_passages() -> None:
    policy = parse_policy(
        "Greenfield Primary School\n\n"
        "Staff Social Media Policy\n\n"
        "Version 3\n\n"
        "Designated Safeguarding Lead:\n"
        "Online Safety Lead\n\n"
        "Priya Patel\n"
        "Tom Hughes\n\n"
        "Designated Senior Leader: Ruth Evans\n\n"
        "Introduction\n\n"
        "This policy applies to all staff.\n"
    )

    assert policy.title == "Greenfield Primary School \u2014 Staff Social Media Policy"
    assert quotes(policy) == [
        (FRONT_MATTER, None, "Designated Senior Leader: Ruth Evans"),
        ("Introduction", None, "This policy applies to all staff."),
    ]
    for line in ("Version 3", "Designated Safeguarding Lead:", "Priya Patel", "Tom Hughes"):
        assert line in policy.dropped


def test_bullets_after_a_plain_numbered_list_do_not_cite_its_last_number() -> None:
    policy = parse_policy(
        "Who this covers\n\n"
        "\u2022 It applies to everyone who works with the school, including:\n"
        "1. Teachers\n"
        "2. Volunteers\n"
        "\u2022 It applies to posts made at any time and from anywhere.\n"
    )

    assert [citation for citation, _, _ in quotes(policy)][-1] == "Who this covers"
