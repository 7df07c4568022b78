"""The frozen staff question set (bench/staff_questions.toml) loads and still fits its policies.

The set measures policy answers on questions nobody tuned on, so it must not change unnoticed:
every place it names is checked against the policy's raw text, the split against its seed, and
the file against the SHA-256 recorded in bench/README.md. The real policies live outside the
repository (a user's clone does not have them), so only the bundled sample's questions are
checked when they are absent.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from bench.staff_questions import (
    QUESTIONS,
    ROOT,
    InvalidQuestions,
    Place,
    StaffQuestion,
    at_place,
    draw_splits,
    load,
    shared_dir,
)

SHARED = ("school-policy-titled-sections.txt", "trust-policy-headed-bullets.txt")


def test_every_place_is_in_its_policy_and_every_split_is_the_seeded_draw() -> None:
    notes: list[str] = []
    questions = load(note=notes.append)

    assert "policy.md" in questions.policies
    assert any(q.policy == "policy.md" for q in questions.questions)
    if shared_dir().is_dir():
        assert set(SHARED) <= set(questions.policies)
        assert not notes
    else:
        assert set(SHARED) <= set(questions.missing)


def test_without_the_shared_policies_the_samples_questions_are_still_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POLICYBOT_SHARED_POLICIES", str(tmp_path / "absent"))
    notes: list[str] = []

    questions = load(note=notes.append)

    assert set(questions.policies) == {"policy.md"}
    assert {q.policy for q in questions.questions} == {"policy.md"}
    assert len(questions.questions) >= 30
    assert "absent is missing" in notes[0]


def test_the_file_is_the_one_bench_readme_records_as_frozen() -> None:
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"`staff_questions\.toml`, SHA-256\s+`([0-9a-f]{64})`", readme)
    held_out = re.search(r"of which (\d+)\s+are held out", readme)
    assert recorded, "bench/README.md must record the frozen file's SHA-256"
    assert held_out, "bench/README.md must record how many questions are held out"

    entries = tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))["question"]
    assert hashlib.sha256(QUESTIONS.read_bytes()).hexdigest() == recorded.group(1)
    assert sum(e["split"] == "heldout" for e in entries) == int(held_out.group(1))


def test_the_set_has_what_issue_20_asks_for() -> None:
    entries = tomllib.loads(QUESTIONS.read_text(encoding="utf-8"))["question"]
    kinds = Counter(e["kind"] for e in entries)
    per_policy = Counter(e["policy"] for e in entries if e["kind"] != "disclosure")

    assert kinds["covered"] + kinds["uncovered"] >= 150
    assert kinds["uncovered"] >= 25
    assert kinds["disclosure"] >= 20
    assert sum(bool(e.get("near_miss")) for e in entries) >= 20
    assert len(per_policy) == 4
    assert min(per_policy.values()) >= 30


def _one_question_file(tmp_path: Path, place: str, split: str | None = None) -> Path:
    question = StaffQuestion("q1", "policy.md", "covered", "", "x")
    drawn = split or draw_splits([question], 7)["q1"]
    path = tmp_path / "questions.toml"
    path.write_text(
        f"""
[split]
seed = 7

[policies."policy.md"]
location = "sample"
kind = "markdown"
wrapped = true
headings = ["2. Personal use of social media"]

[[question]]
id = "q1"
policy = "policy.md"
kind = "covered"
split = "{drawn}"
q = "can i add a pupil on insta"
places = [{place}]
""",
        encoding="utf-8",
    )
    return path


def test_a_place_the_policy_does_not_have_is_refused(tmp_path: Path) -> None:
    fine = _one_question_file(tmp_path, '{ clause = "2.1", has = "former pupils under 18" }')
    assert len(load(fine).questions) == 1

    for place, problem in [
        ('{ clause = "2.1", has = "words the clause never uses" }', "not in the labelled item"),
        ('{ clause = "2.9", has = "former pupils under 18" }', "0 items carry this label"),
        ('{ heading = "Posting rules", has = "former pupils" }', "not in the policy's headings"),
        ('{ heading = "2. Personal use of social media", has = "personal" }', "in 4 items, not 1"),
    ]:
        with pytest.raises(InvalidQuestions, match=re.escape(problem)):
            load(_one_question_file(tmp_path, place))


def test_a_question_moved_to_the_other_split_is_refused(tmp_path: Path) -> None:
    place = '{ clause = "2.1", has = "former pupils under 18" }'
    drawn = load(_one_question_file(tmp_path, place)).questions[0].split
    moved = "dev" if drawn == "heldout" else "heldout"

    with pytest.raises(InvalidQuestions, match="the seeded draw gives"):
        load(_one_question_file(tmp_path, place, split=moved))


def test_a_citation_is_right_only_at_the_most_specific_place() -> None:
    numbered = Place(has="former pupils under 18", clause="2.1")
    quote = "Requests from former pupils under 18 must also be declined."
    assert at_place(numbered, "2 Personal use of social media \u203a 2.1", quote)
    assert at_place(numbered, "2.1", quote)
    assert not at_place(numbered, "2 Personal use of social media", quote)  # the section only
    assert not at_place(numbered, "2.1", "Staff must not accept friend requests.")  # not the words

    headed = Place(has="within a day", heading="Replies:")
    assert at_place(headed, "Accounts \u203a Replies", "Answer WITHIN a  day.")
    assert at_place(headed, "Replies (2)", "Answer within a day.")
    assert not at_place(headed, "Accounts", "Answer within a day.")

    listed = Place(has="ask the head", heading="Steps", clause="5.")
    assert at_place(listed, "Posting \u203a Steps \u203a 5", "Ask the head first.")
    assert not at_place(listed, "Posting \u203a Steps \u203a 4", "Ask the head first.")
    assert not at_place(listed, "Posting \u203a Other steps \u203a 5", "Ask the head first.")
    lettered = Place(has="suppliers", clause="e)")
    assert at_place(lettered, "Rules \u203a (e)", "Do not disparage suppliers.")
