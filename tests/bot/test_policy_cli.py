"""`policybot policy ...` and `policybot ask` as an IT admin and a policy owner would run them.

Real processes against real databases (the `database_url` fixture: SQLite and PostgreSQL); the
policies are short ones written here for a fictional school, in every format a school has.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from tests.bot.test_cli import Cli, make_cli
from tests.support import png

POLICY_MD = """# Brookside Academy Staff Social Media Policy

## 1. Personal accounts

1.1 Staff must not follow, friend or message current pupils on personal accounts.

1.2 Staff should set personal profiles to private.

## 2. Official accounts

2.1 Photographs of pupils may only be posted where parental consent covers that platform.

2.2 Every post needs approval from a second member of staff before it is published.
"""

POLICY_V2_MD = POLICY_MD.replace("set personal profiles to private", "review privacy settings")

# The fields `ask --json` has always had, whose meaning never changes; later ones are added.
JSON_KEYS = {"answer", "citation", "confident", "passages", "safeguarding"}
ADDED_KEYS = {"may_help", "child_safety_note"}


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return make_cli(tmp_path, database_url, in_process=True)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def docx_policy(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Brookside Academy Staff Social Media Policy", level=0)
    document.add_heading("Personal accounts", level=1)
    document.add_paragraph(
        "Staff must not follow, friend or message current pupils on personal accounts."
    )
    document.add_heading("Official accounts", level=1)
    document.add_paragraph(
        "Photographs of pupils may only be posted where parental consent covers that platform."
    )
    document.sections[0].header.paragraphs[0].text = "CONFIDENTIAL DRAFT HEADER"
    document.save(str(path))
    return path


def pdf_policy(path: Path) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page, clause in enumerate(
        [
            "1.1 Staff must not follow, friend or message current pupils on personal accounts.",
            "2.1 Photographs of pupils may only be posted where parental consent covers that "
            "platform.",
        ],
        start=1,
    ):
        pdf.add_page()
        pdf.cell(0, 8, "Brookside Academy", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, clause, new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 8, f"Page {page} of 2", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_ask_with_a_policy_file_prints_the_documented_json(cli: Cli, tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.md", POLICY_MD)
    found = cli.run("ask", "can I add a student on instagram?", "--policy", str(policy), "--json")
    result = found.json()
    assert set(result) == JSON_KEYS | ADDED_KEYS
    assert result["may_help"] == []  # an answer, so nothing that merely may help
    assert result["confident"] is True
    assert "current pupils" in result["answer"]
    assert "1.1" in result["citation"]
    assert result["passages"]
    assert set(result["passages"][0]) == {"citation", "text", "score"}
    assert isinstance(result["passages"][0]["score"], float)
    assert result["passages"][0]["citation"] == result["citation"]

    missing = cli.run(
        "ask", "how much holiday do teachers get?", "--policy", str(policy), "--json"
    ).json()
    assert missing["confident"] is False
    assert missing["citation"] == ""
    assert "doesn't say" in missing["answer"]
    assert missing["may_help"] == []  # nothing in the policy touches holidays


def test_ask_json_adds_the_clauses_that_may_help_and_keeps_every_other_field(
    cli: Cli, tmp_path: Path
) -> None:
    policy = write(tmp_path, "policy.md", POLICY_MD)
    question = "Can a parent helper take photographs on the school trip?"
    result = cli.run("ask", question, "--policy", str(policy), "--json").json()
    assert set(result) == JSON_KEYS | ADDED_KEYS
    # The fields that were there before mean what they meant: no answer, no citation.
    assert result["confident"] is False
    assert result["answer"] == "The policy doesn't say."
    assert result["citation"] == ""
    assert result["safeguarding"] is False
    assert all(set(p) == {"citation", "text", "score"} for p in result["passages"])
    assert result["may_help"] == [
        {
            "citation": "2 Official accounts \u203a 2.1",
            "text": "Photographs of pupils may only be posted where parental consent covers "
            "that platform.",
        }
    ]
    assert result["passages"][0]["citation"] == result["may_help"][0]["citation"]


def test_ask_without_json_shows_what_may_help_as_not_an_answer_and_who_can_answer(
    cli: Cli, tmp_path: Path
) -> None:
    question = "Can a parent helper take photos on the school trip?"
    shown = cli.run("ask", question, "--school", "oakfield")
    assert shown.code == 0
    assert shown.out.startswith("The policy doesn't say.")
    assert "These parts of the policy come close and may help, but they are not an answer:" in (
        shown.out
    )
    assert "  3 Official school accounts \u203a 3.4: \u201cPhotos for official accounts" in (
        shown.out
    )
    assert "For an answer, ask Dana Okafor, who looks after the policy." in shown.out
    from_file = cli.run("ask", question, "--policy", str(write(tmp_path, "p.md", POLICY_MD)))
    assert "For an answer, ask the policy owner." in from_file.out
    unrelated = cli.run("ask", "Where can staff park?", "--school", "oakfield")
    assert "may help" not in unrelated.out
    assert "\u201c" not in unrelated.out


def test_ask_without_json_reads_as_a_quote(cli: Cli, tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.md", POLICY_MD)
    shown = cli.run("ask", "do posts need approving?", "--policy", str(policy))
    assert shown.code == 0
    assert "\u201cEvery post needs approval" in shown.out
    assert "2.2" in shown.out


@pytest.mark.parametrize("maker", [docx_policy, pdf_policy], ids=["docx", "pdf"])
def test_word_and_pdf_policies_are_answered_from(cli: Cli, tmp_path: Path, maker: object) -> None:
    assert callable(maker)
    suffix = ".docx" if maker is docx_policy else ".pdf"
    policy = maker(tmp_path / f"policy{suffix}")
    result = cli.run(
        "ask", "photos of kids on the school facebook?", "--policy", str(policy), "--json"
    ).json()
    assert result["confident"] is True
    assert "parental consent" in result["answer"]
    assert "HEADER" not in json.dumps(result)
    assert "Page 1" not in json.dumps(result)


def test_importing_versions_keeps_each_and_reimporting_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    first = write(tmp_path, "policy.md", POLICY_MD)
    imported = cli.run("policy", "import", str(first), "--school", "oakfield")
    assert imported.code == 0, imported.err
    assert "as version 1" in imported.out
    assert "1 Personal accounts" in imported.out
    again = cli.run("policy", "import", str(first), "--school", "oakfield")
    assert "nothing was imported" in again.out

    second = write(tmp_path, "policy-2027.md", POLICY_V2_MD)
    later = cli.run(
        "policy",
        "import",
        str(second),
        "--school",
        "oakfield",
        "--effective-from",
        "2099-09-01",
        "--as",
        "dana",
        "--json",
    ).json()
    assert later["version"] == 2
    assert later["in_force"] is False
    assert later["effective_from"] == "2099-09-01"
    assert later["imported_by"] == "dana"

    listed = cli.run("policy", "versions", "--school", "oakfield", "--json").json()
    assert [(v["version"], v["in_force"], v["file"]) for v in listed] == [
        (1, True, "policy.md"),
        (2, False, "policy-2027.md"),
    ]
    assert all(len(v["sha256"]) == 64 for v in listed)
    # Until its date, version 1 answers.
    result = cli.run("ask", "privacy on my profile?", "--school", "oakfield", "--json").json()
    assert "set personal profiles to private" in result["answer"]


def test_import_refuses_what_is_not_a_policy_and_people_who_may_not(
    cli: Cli, tmp_path: Path
) -> None:
    picture = write(tmp_path, "policy.pdf", png("not a policy"))
    refused = cli.run("policy", "import", str(picture), "--school", "oakfield")
    assert refused.code == 1
    assert refused.err.strip()
    assert "Traceback" not in refused.err
    policy = write(tmp_path, "policy.md", POLICY_MD)
    staff = cli.run("policy", "import", str(policy), "--school", "oakfield", "--as", "sam")
    assert staff.code == 3
    assert "not the policy owner" in staff.err
    # Nothing refused was stored: the only version is the configured sample, read on demand.
    listed = cli.run("policy", "versions", "--school", "oakfield", "--json").json()
    assert [(v["version"], v["imported_by"]) for v in listed] == [(1, "configuration")]
    both = cli.run("ask", "anything?", "--school", "oakfield", "--policy", str(policy))
    assert both.code == 2
    assert "exactly one" in both.err


def test_gaps_list_what_staff_asked_that_the_policy_missed_and_the_owner_answers_it(
    cli: Cli,
) -> None:
    asked = cli.chat("sam", ["Is there a dress code for the staff Christmas party?", "1"])
    assert "The policy doesn't say" in asked.out
    assert "sending your question" in asked.out
    cli.chat("sam", ["Can I accept a friend request from a pupil?", "2"])  # unhelpful

    gaps = cli.run("policy", "gaps", "--school", "oakfield", "--json").json()
    assert [g["question"] for g in gaps] == [
        "Is there a dress code for the staff Christmas party?",
        "Can I accept a friend request from a pupil?",
    ]
    assert gaps[0]["why"] == "not found in the policy; passed to the policy owner"
    assert gaps[1]["why"] == "answer marked unhelpful"
    assert gaps[1]["confident"] is True
    text = cli.run("policy", "gaps", "--school", "oakfield")
    assert "2 of 2 questions" in text.out
    assert "Waiting for an answer" in text.out

    refused = cli.run("policy", "answer", gaps[0]["id"], "No dress code.", "--as", "sam")
    assert refused.code == 3
    assert "Only the policy owner" in refused.err
    sent = cli.run("policy", "answer", gaps[0]["id"], "Smart casual, please.", "--as", "dana")
    assert sent.code == 0
    assert "Sam Patel" in sent.out
    later = cli.chat("sam", [])
    assert "While you were away" in later.out
    assert "Smart casual, please." in later.out


def test_gaps_need_a_known_school(cli: Cli) -> None:
    ran = cli.run("policy", "gaps", "--school", "nowhere")
    assert ran.code == 2
    assert "no school 'nowhere'" in ran.err


def test_a_corrupt_docx_gets_a_kind_message(cli: Cli, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<not really word>")
    policy = write(tmp_path, "policy.docx", buffer.getvalue())
    ran = cli.run("ask", "anything?", "--policy", str(policy))
    assert ran.code == 1
    assert ran.err.strip()
    assert "Traceback" not in ran.err


DISCLOSURE = "a pupil messaged me on instagram to say she is being abused, what do I do?"


def test_ask_sends_a_disclosure_to_the_safeguarding_lead_and_never_quotes_a_clause(
    cli: Cli, tmp_path: Path
) -> None:
    policy = write(tmp_path, "policy.md", POLICY_MD)
    from_file = cli.run("ask", DISCLOSURE, "--policy", str(policy), "--json").json()
    from_school = cli.run("ask", DISCLOSURE, "--school", "oakfield", "--json").json()
    for result in (from_file, from_school):
        assert set(result) >= JSON_KEYS  # the documented fields are all still there
        assert result["safeguarding"] is True
        assert result["confident"] is False
        assert not result["citation"]
        assert result["passages"] == []  # never searched
        assert result["may_help"] == []  # so nothing that may help either
        assert "safeguarding lead" in result["answer"]
        assert "999" in result["answer"]
    # The school's configuration names its lead and deputy, and how to reach them.
    assert "Dana Okafor" in from_school["answer"]
    assert "01632 960001" in from_school["answer"]
    assert "Lee Brown" in from_school["answer"]

    shown = cli.run("ask", DISCLOSURE, "--school", "oakfield")
    assert shown.code == 0
    assert "safeguarding lead" in shown.out
    assert "Dana Okafor" in shown.out
    assert "\u201c" not in shown.out
    assert "Closest passages" not in shown.out
    assert "may help" not in shown.out

    near_miss = cli.run(
        "ask", "can I message a pupil on instagram?", "--policy", str(policy), "--json"
    ).json()
    assert near_miss["safeguarding"] is False
    assert near_miss["confident"] is True


def test_the_terminal_chat_shows_the_lead_and_offers_the_report_for_online_abuse(cli: Cli) -> None:
    shown = cli.chat(
        "sam", ["a year 7 boy is getting nasty messages from other kids on whatsapp", "1"]
    ).out
    assert "!!! Thank you for telling me" in shown  # shown as urgent
    assert "Designated safeguarding lead: Dana Okafor, phone 01632 960001" in shown
    assert "Deputy designated safeguarding lead: Lee Brown" in shown
    assert "1. Report online abuse" in shown
    assert "Who is being targeted?" in shown  # "1" pressed it
    gaps = cli.run("policy", "gaps", "--school", "oakfield", "--json").json()
    assert gaps == []


def test_ask_names_the_lead_when_a_question_could_be_a_worry_about_a_child(
    cli: Cli, tmp_path: Path
) -> None:
    policy = write(tmp_path, "policy.md", POLICY_MD)
    question = "a pupil in my form seems really scared, can I message her on instagram?"
    result = cli.run("ask", question, "--policy", str(policy), "--json").json()
    assert set(result) == JSON_KEYS | ADDED_KEYS
    assert result["safeguarding"] is False  # not recognised as a worry, so searched...
    assert result["may_help"] == []  # ...but no clause is offered as one that may help
    assert "safeguarding lead" in result["child_safety_note"]
    # Not answered from the policy either, so the lead is the answer, as for a disclosure.
    assert result["confident"] is False
    assert not result["citation"]
    assert "safeguarding lead" in result["answer"]
    plain = cli.run("ask", question, "--policy", str(policy)).out
    assert "If this is about a child's safety or wellbeing" in plain
    assert plain.index("safeguarding lead") < plain.index("The policy doesn't say")
    calm = cli.run("ask", "can I add a student on instagram?", "--policy", str(policy), "--json")
    assert calm.json()["child_safety_note"] is None
