"""The staff question set: loading it, checking it against the policy texts, and judging answers.

`staff_questions.toml` says where each policy answers a question in the terms a teacher uses to
find it in the document (a clause number as printed, or the heading the text sits under, plus a
few words of the clause), not in terms of our parser's output. So the parser can change, and the
measurement still asks the same thing: would a teacher following the bot's citation land on the
clause that answers the question, and does the quote show it?

The goalposts cannot move silently: loading the file checks every heading, clause label and
phrase against the raw text of its policy, and re-draws the dev/held-out split from its seed.
Only the standard library and the citation separator are used, so the check runs anywhere,
including in the test suite (which must not depend on ../shared).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from dialogs.services.policy.sections import SEPARATOR

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "bench" / "staff_questions.toml"
SPLITS = ("dev", "heldout")
KINDS = ("covered", "uncovered", "disclosure")
Kind = Literal["covered", "uncovered", "disclosure"]


def shared_dir() -> Path:
    """The folder of real policies kept outside the repository (a user's clone does not have it)."""
    override = os.environ.get("POLICYBOT_SHARED_POLICIES")
    return Path(override) if override else ROOT.parent / "shared" / "policies"


def policy_file(name: str, location: str) -> Path:
    """Where a question file's policy lives: bundled with the project, or in the shared folder."""
    return ROOT / "bot" / "sample" / name if location == "sample" else shared_dir() / name


def note_missing(missing: list[str], note: Callable[[str], object]) -> None:
    """Say which policies' questions are skipped because their files are absent, and why."""
    if missing:
        where = shared_dir()
        why = "is missing" if not where.is_dir() else "does not have them"
        note(
            f"Skipping the questions on {len(missing)} policies: the folder {where} {why} "
            f"(set POLICYBOT_SHARED_POLICIES to the folder of real policies): "
            f"{', '.join(missing)}"
        )


class InvalidQuestions(ValueError):
    """The question file is malformed or no longer matches its policies; every problem is listed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Place:
    """Where a policy answers a question, as a teacher would find it (see the question file)."""

    has: str
    heading: str | None = None
    clause: str | None = None

    def describe(self) -> str:
        where = " ".join(part for part in (self.heading, self.clause) if part)
        return f"{where} ({self.has!r})"


@dataclass(frozen=True)
class StaffQuestion:
    id: str
    policy: str
    kind: Kind
    split: str
    text: str
    places: tuple[Place, ...] = ()
    near_miss: bool = False

    def answered_by(self, citation: str, text: str) -> bool:
        """Whether a passage (its citation and quote) is at one of the places that answer this."""
        return any(at_place(place, citation, text) for place in self.places)


@dataclass(frozen=True)
class Policy:
    name: str
    path: Path
    kind: str  # the parser's kind: "markdown" or "text"
    headings: tuple[str, ...]
    wrapped: bool = False  # lines break inside paragraphs, which end at blank lines


@dataclass(frozen=True)
class QuestionSet:
    path: Path
    sha256: str
    seed: int
    policies: dict[str, Policy]  # the policies whose files are present
    missing: tuple[str, ...]  # policies whose files are absent: their questions are left out
    questions: tuple[StaffQuestion, ...]  # the questions on present policies, in file order


# --- Comparing text the way a reader does ------------------------------------------------------

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "*": None,  # Markdown emphasis, and nothing a reader would look for
    }
)
_NUMBER_PREFIX = re.compile(r"\d+(?:\.\d+)*[.)]?\s+")
_DUPLICATE_MARK = re.compile(r"\s\(\d+\)$")  # "Monitoring (2)": a second section of that name
_LABEL = re.compile(
    r"(?:[-\u00b7\u2022\u2023\u25aa\u25e6]\s*)?"  # a bullet before the label, if any
    r"(?P<label>\(?(?:\d{1,3}(?:\.\d{1,3})*|[a-z]|[ivx]{1,5})[.)]|\d{1,3}(?:\.\d{1,3})+)\s"
)
_BULLET_START = "-\u00b7\u2022\u2023\u25aa\u25e6"


def plain(text: str) -> str:
    """Case, quote style, dash style, emphasis marks and spacing are not what a reader compares."""
    return " ".join(text.translate(_PLAIN).split()).casefold()


def heading_key(text: str) -> str:
    """A heading as compared: without Markdown hashes, its number, or closing punctuation."""
    key = _DUPLICATE_MARK.sub("", plain(text)).lstrip("#").strip()
    return _NUMBER_PREFIX.sub("", key, count=1).rstrip(":;.,?! ")


def label_key(label: str) -> str:
    """A clause label as compared: "(e)", "e)" and "e." are the same label; so are "5." and "5"."""
    return re.sub(r"[()\s]", "", label).rstrip(".").casefold()


def citation_label(segment: str) -> str | None:
    """The clause number a citation's last part names: the part itself, or its leading number."""
    segment = segment.strip()
    if segment and not any(ch.isspace() for ch in segment):
        return label_key(segment)
    number = re.match(r"\d+(?:\.\d+)*", segment)
    return number.group(0) if number else None


def at_place(place: Place, citation: str, text: str) -> bool:
    """Whether a passage (its citation and quote) is the clause `place` names.

    The citation must name the place's most specific locator: its last part is the clause label
    (and the part before it the heading, when the place gives both), or, for unnumbered text, the
    heading. A citation of "2" is not "2.1". The quote must contain the place's words.
    """
    parts = citation.split(SEPARATOR)
    if place.clause is not None:
        if citation_label(parts[-1]) != label_key(place.clause):
            return False
        if place.heading is not None and (
            len(parts) < 2 or heading_key(parts[-2]) != heading_key(place.heading)
        ):
            return False
    elif place.heading is None or heading_key(parts[-1]) != heading_key(place.heading):
        return False
    return plain(place.has) in plain(text)


# --- Checking places against the raw text ------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """A paragraph or list item of the raw text, under the heading it follows (None: none yet)."""

    heading: int | None
    label: str | None
    text: str


def _items(raw: str, headings: tuple[str, ...], wrapped: bool) -> tuple[list[_Item], list[str]]:
    """Split the raw text into paragraphs and list items, each under its heading.

    A new item starts after a blank line and at a bullet or a clause label; in text that is not
    wrapped (exports from Word put each paragraph on one line), at every line. Each heading must
    be a line of the text, in the order given.
    """
    lines = raw.splitlines()
    problems: list[str] = []
    heading_at: dict[int, int] = {}
    start = 0
    for number, heading in enumerate(headings):
        key = heading_key(heading)
        found = next((i for i in range(start, len(lines)) if heading_key(lines[i]) == key), None)
        if found is None:
            problems.append(f"heading {heading!r} is not a line of the text after the one before")
            continue
        heading_at[found] = number
        start = found + 1

    items: list[_Item] = []
    current: list[str] = []
    label: str | None = None
    under: int | None = None

    def close() -> None:
        if current:
            items.append(_Item(under, label, " ".join(current)))
            current.clear()

    for index, raw_line in enumerate(lines):
        line = plain(raw_line)
        if index in heading_at:
            close()
            under = heading_at[index]
            continue
        if not line:
            close()
            continue
        match = _LABEL.match(line + " ")
        if not current or match or line[0] in _BULLET_START or not wrapped:
            close()
            label = label_key(match.group("label")) if match else None
        current.append(line)
    close()
    return items, problems


def check_places(policy: Policy, raw: str, questions: Iterable[StaffQuestion]) -> list[str]:
    """Every problem with the policy's headings and its questions' places, against its raw text."""
    items, problems = _items(raw, policy.headings, policy.wrapped)
    problems = [f"{policy.name}: {p}" for p in problems]
    keys = [heading_key(h) for h in policy.headings]
    for q in questions:
        for place in q.places:
            where = f"{policy.name}: {q.id}: {place.describe()}"
            scope = items
            if place.heading is not None:
                if heading_key(place.heading) not in keys:
                    problems.append(f"{where}: heading is not in the policy's headings")
                    continue
                number = keys.index(heading_key(place.heading))
                scope = [item for item in items if item.heading == number]
            has = plain(place.has)
            if place.clause is not None:
                labelled = [item for item in scope if item.label == label_key(place.clause)]
                if len(labelled) != 1:
                    problems.append(f"{where}: {len(labelled)} items carry this label, not 1")
                elif has not in labelled[0].text:
                    problems.append(f"{where}: the words are not in the labelled item")
            else:
                holding = [item for item in scope if has in item.text]
                if len(holding) != 1:
                    problems.append(f"{where}: the words are in {len(holding)} items, not 1")
    return problems


# --- The split ---------------------------------------------------------------------------------


def draw_splits(questions: Iterable[StaffQuestion], seed: int) -> dict[str, str]:
    """The split for each question id, drawn as the question file's header describes.

    Grouped by policy, kind and near miss, so every group is about half held out; shuffled by a
    generator seeded from the group, so adding a question to one group cannot move another's.
    """
    groups: dict[tuple[str, str, bool], list[str]] = {}
    for q in questions:
        groups.setdefault((q.policy, q.kind, q.near_miss), []).append(q.id)
    splits: dict[str, str] = {}
    for (policy, kind, near_miss), ids in groups.items():
        # Not for security: a reproducible draw, recorded by its seed.
        rng = random.Random(f"{seed}|{policy}|{kind}|{str(near_miss).lower()}")  # noqa: S311
        order = list(ids)
        rng.shuffle(order)
        held = len(order) // 2 + (len(order) % 2 == 1 and rng.random() < 0.5)
        splits.update((qid, "heldout" if i < held else "dev") for i, qid in enumerate(order))
    return splits


# --- Loading -----------------------------------------------------------------------------------

_QUESTION_KEYS = {"id", "policy", "kind", "split", "q", "places", "near_miss", "checked", "about"}
_PLACE_KEYS = {"has", "heading", "clause"}
_NEEDS = {"covered": "places", "uncovered": "checked", "disclosure": "about"}  # one field each


def _question(
    entry: dict[str, Any], policies: dict[str, Any], problems: list[str]
) -> StaffQuestion:
    qid = str(entry.get("id", "?"))
    unknown = set(entry) - _QUESTION_KEYS
    if unknown:
        problems.append(f"{qid}: unknown fields {sorted(unknown)}")
    kind = entry.get("kind")
    if kind not in KINDS:
        problems.append(f"{qid}: kind {kind!r} is not one of {KINDS}")
        kind = "covered"
    if entry.get("policy") not in policies:
        problems.append(f"{qid}: policy {entry.get('policy')!r} is not in [policies]")
    if entry.get("split") not in SPLITS:
        problems.append(f"{qid}: split {entry.get('split')!r} is not one of {SPLITS}")
    if not str(entry.get("q", "")).strip():
        problems.append(f"{qid}: no question text")
    places: list[Place] = []
    for spec in entry.get("places", []):
        if (
            set(spec) - _PLACE_KEYS
            or not spec.get("has")
            or not (spec.keys() & {"heading", "clause"})
        ):
            problems.append(f"{qid}: a place needs `has` and a heading or clause: {spec}")
            continue
        places.append(Place(spec["has"], spec.get("heading"), spec.get("clause")))
    needs = _NEEDS[kind]
    if not entry.get(needs) or any(entry.get(k) for k in set(_NEEDS.values()) - {needs}):
        problems.append(f"{qid}: a {kind} question has `{needs}` and none of the others")
    if entry.get("near_miss") and kind == "disclosure":
        problems.append(f"{qid}: a disclosure cannot be a near miss")
    return StaffQuestion(
        qid,
        str(entry.get("policy")),
        cast(Kind, kind),
        str(entry.get("split")),
        str(entry.get("q", "")),
        tuple(places),
        bool(entry.get("near_miss", False)),
    )


def load(path: Path = QUESTIONS, note: Callable[[str], object] = print) -> QuestionSet:
    """The question set, checked; questions on policies whose files are absent are left out.

    Raises InvalidQuestions listing every problem: a malformed entry, a split that is not the
    seeded draw, or a place that the policy's raw text does not have.
    """
    data = path.read_bytes()
    table = tomllib.loads(data.decode("utf-8"))
    problems: list[str] = []
    policies_table: dict[str, Any] = table["policies"]
    every = [_question(entry, policies_table, problems) for entry in table["question"]]

    seen: set[str] = set()
    texts: set[tuple[str, str]] = set()
    for q in every:
        if q.id in seen:
            problems.append(f"{q.id}: the id is used twice")
        if (q.policy, plain(q.text)) in texts:
            problems.append(f"{q.id}: the same question is asked twice on {q.policy}")
        seen.add(q.id)
        texts.add((q.policy, plain(q.text)))

    seed = int(table["split"]["seed"])
    drawn = draw_splits(every, seed)
    problems += [
        f"{q.id}: split {q.split!r}, but the seeded draw gives {drawn[q.id]!r}"
        for q in every
        if drawn[q.id] != q.split
    ]

    policies: dict[str, Policy] = {}
    missing: list[str] = []
    for name, meta in policies_table.items():
        policy = Policy(
            name,
            policy_file(name, meta["location"]),
            meta["kind"],
            tuple(meta["headings"]),
            bool(meta.get("wrapped", False)),
        )
        if not policy.path.is_file():
            missing.append(name)
            continue
        policies[name] = policy
        raw = policy.path.read_text(encoding="utf-8")
        problems += check_places(policy, raw, [q for q in every if q.policy == name])
    if problems:
        raise InvalidQuestions(problems)
    note_missing(missing, note)
    return QuestionSet(
        path,
        hashlib.sha256(data).hexdigest(),
        seed,
        policies,
        tuple(missing),
        tuple(q for q in every if q.policy in policies),
    )
