"""The terminal channel: what a person sees in their terminal, and how what they type is read.

`render` must never let text from a report (or anyone's name) move the cursor, recolour the
terminal or reverse what it shows; `TerminalChat.to_input` turns a typed line into a button press,
files or plain text; and `TerminalChat.run` holds a whole conversation over stdin and stdout.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import cast

import pytest
from sqlmodel import select

from bot.channels.shared_files import FileContent, read_files
from bot.channels.terminal.chat import TerminalChat, render
from bot.config import load_settings
from bot.jobs.accounts import run_account_checks
from bot.runtime import Runtime
from dialogs.conversations import ConversationRunner
from dialogs.inbox import Who
from dialogs.services.messages import (
    Button,
    Fact,
    ImageRef,
    IncomingFile,
    InputKind,
    Message,
    MessageKind,
    UserInput,
)
from storage.conversations import ConversationKey
from storage.models import Evidence
from tests.conftest import SAMPLE
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, write_png

ESC = "\x1b"
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]

WHO_IS_TARGETED = Message(
    kind=MessageKind.PROMPT,
    title="Report of online abuse: question 1 of 9",
    text="Who is being targeted?",
    buttons=(
        Button(value="me", label="Me"),
        Button(value="colleague", label="A colleague"),
        Button(value="pupil", label="A pupil"),
        Button(value="school", label="The school"),
    ),
    expects=InputKind.CHOICE,
)
WHAT_HAPPENED = Message(
    kind=MessageKind.PROMPT,
    text="In your own words, what happened?",
    expects=InputKind.TEXT,
)
SCREENSHOTS = Message(
    kind=MessageKind.PROMPT,
    text="Please send your screenshots (photos or PDFs), one or more, then type done.",
    buttons=(Button(value="done", label="Done"), Button(value="skip", label="Skip")),
    expects=InputKind.ATTACHMENTS,
)


def who(person_id: str) -> Who:
    school = load_settings({"POLICYBOT_CONFIG": str(SAMPLE)}).directory.school("oakfield")
    assert school is not None
    person = school.person(person_id)
    assert person is not None
    return Who(
        person=person,
        school=school,
        key=ConversationKey("terminal", f"{school.id}:{person.id}", "terminal"),
    )


def terminal_after(prompt: Message | None, *, max_file_bytes: int = 1_000_000) -> TerminalChat:
    """A terminal that has just shown `prompt`; reading input never talks to the runner."""
    chat = TerminalChat(
        cast(ConversationRunner, None),
        who("sam"),
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        echo=False,
        max_file_bytes=max_file_bytes,
    )
    if prompt is not None:
        chat.show([prompt])
    return chat


# -- render ------------------------------------------------------------------------------------


def test_render_shows_a_prompt_with_numbered_buttons() -> None:
    assert render(WHO_IS_TARGETED) == (
        "── Report of online abuse: question 1 of 9 ──\n"
        "Who is being targeted?\n"
        "  1. Me\n"
        "  2. A colleague\n"
        "  3. A pupil\n"
        "  4. The school"
    )


def test_render_strips_escape_sequences_from_every_part() -> None:
    message = Message(
        kind=MessageKind.HINT,
        title="Report\x1b]0;owned\x07 sent",
        text="Hello\x1b[2J\x1b[H there\r",
        facts=(Fact(label="Name\x1b[8m", value="\x1b[31mPat\x1b[0m O\u2019Brien\x08\x08"),),
        images=(ImageRef(evidence_id="e1", name="shot\x1b[5m.png", media_type="image/png"),),
        buttons=(Button(value="yes", label="Yes\x9b2J\x00"),),
        expects=InputKind.CHOICE,
    )

    shown = render(message)

    assert shown == (
        "── Report]0;owned sent ──\n"
        "(!) Hello[2J[H there\n"
        "  Name[8m: [31mPat[0m O\u2019Brien\n"
        "  [image] shot[5m.png\n"
        "  1. Yes2J"
    )
    assert not {ESC, "\x07", "\r", "\x08", "\x9b", "\x00"} & set(shown)


def test_a_fact_value_with_a_colour_code_comes_out_without_the_escape() -> None:
    shown = render(
        Message(
            kind=MessageKind.DONE,
            text="Report sent.",
            facts=(Fact(label="Reference", value="\x1b[31mCB-2026-0001"),),
        )
    )

    assert ESC not in shown
    assert "  Reference: [31mCB-2026-0001" in shown.splitlines()


@pytest.mark.parametrize("mark", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_render_strips_direction_overrides(mark: str) -> None:
    message = Message(
        kind=MessageKind.PROMPT,
        title=f"Check{mark}",
        text=f"Sent by {mark}gnp.exe",
        facts=(Fact(label=f"File{mark}", value=f"evil{mark}fdp.png"),),
        buttons=(Button(value="a", label=f"{mark}Send it"),),
        expects=InputKind.CHOICE,
    )

    shown = render(message)

    assert mark not in shown
    assert shown == "── Check ──\nSent by gnp.exe\n  File: evilfdp.png\n  1. Send it"


def test_render_keeps_ordinary_text_and_line_breaks() -> None:
    text = (
        "Pat O\u2019Brien wrote: «you\u2019re useless» 😡\n"
        "Then: “leave the school”. Ünïcödé, tabs\tstay."
    )

    assert render(Message(kind=MessageKind.INFO, text=text)) == text


def test_render_wraps_long_paragraphs_for_a_terminal_without_losing_words() -> None:
    text = " ".join(["Screenshots are the best evidence."] * 6) + "\n\nKeep the originals."

    shown = render(Message(kind=MessageKind.REMINDER, text=text), width=40)

    assert all(len(line) <= 40 for line in shown.splitlines())
    assert shown.split() == ("Remember: " + text).split()
    assert "\n\nKeep the originals." in shown  # paragraphs stay apart


@pytest.mark.parametrize(
    "control",
    ["\x9d", "\x90", "\x85"],
    ids=["OSC", "DCS", "NEL"],
)
def test_render_strips_the_other_8_bit_controls(control: str) -> None:
    shown = render(
        Message(
            kind=MessageKind.INFO,
            text="See the report.",
            facts=(Fact(label="Name", value=f"{control}52;c;cm0gLXJmIH4=\x9cPat"),),
        )
    )

    assert control not in shown


# -- to_input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "value"), [("1", "me"), ("4", "school"), (" 2 ", "colleague")])
def test_a_number_presses_that_button_of_the_last_prompt(typed: str, value: str) -> None:
    assert terminal_after(WHO_IS_TARGETED).to_input(typed) == UserInput(value=value)


@pytest.mark.parametrize("typed", ["0", "5", "12", "-1", "1.5"])
def test_a_number_without_a_button_stays_text(typed: str) -> None:
    assert terminal_after(WHO_IS_TARGETED).to_input(typed) == UserInput(text=typed)


def test_a_number_before_any_prompt_stays_text() -> None:
    assert terminal_after(None).to_input("1") == UserInput(text="1")


def test_words_are_sent_as_typed() -> None:
    chat = terminal_after(WHO_IS_TARGETED)

    assert chat.to_input("a colleague") == UserInput(text="a colleague")


def test_a_superscript_digit_stays_text() -> None:
    assert terminal_after(WHO_IS_TARGETED).to_input("²") == UserInput(text="²")


def test_a_path_in_the_screenshots_step_becomes_a_file(tmp_path: Path) -> None:
    shot = write_png(tmp_path / "shot.png", "the post")

    given = terminal_after(SCREENSHOTS).to_input(str(shot))

    assert given == UserInput(
        files=(IncomingFile(name="shot.png", data=shot.read_bytes(), size=shot.stat().st_size),)
    )


def test_quoted_paths_with_spaces_become_files(tmp_path: Path) -> None:
    first = write_png(tmp_path / "my first shot.png", "one")
    second = write_png(tmp_path / "and another.png", "two")

    given = terminal_after(SCREENSHOTS).to_input(f"\"{first}\" '{second}'")

    assert isinstance(given, UserInput)
    assert [(f.name, f.data) for f in given.files] == [
        ("my first shot.png", first.read_bytes()),
        ("and another.png", second.read_bytes()),
    ]
    assert given.text == ""


@pytest.mark.parametrize("done", ["done", "DONE"])
def test_a_path_then_done_sends_the_file_and_done(tmp_path: Path, done: str) -> None:
    shot = write_png(tmp_path / "shot.png")

    given = terminal_after(SCREENSHOTS).to_input(f"{shot} {done}")

    assert isinstance(given, UserInput)
    assert [f.name for f in given.files] == ["shot.png"]
    assert given.text == "done"


def test_a_missing_path_is_explained(tmp_path: Path) -> None:
    shot = write_png(tmp_path / "shot.png")
    missing = tmp_path / "gone.png"

    given = terminal_after(SCREENSHOTS).to_input(f"{shot} {missing}")

    assert given == f"I can't find a file at {missing}. Check the path and try again."


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    given = terminal_after(SCREENSHOTS).to_input(f"{tmp_path}/")

    assert given == f"I can't find a file at {tmp_path}/. Check the path and try again."


@pytest.mark.parametrize(
    "typed", ["skip", "done", "no screenshots, sorry", "I don't have any", "that's all"]
)
def test_words_in_the_screenshots_step_stay_text(typed: str) -> None:
    assert terminal_after(SCREENSHOTS).to_input(typed) == UserInput(text=typed)


def test_a_number_in_the_screenshots_step_presses_its_button() -> None:
    assert terminal_after(SCREENSHOTS).to_input("2") == UserInput(value="skip")


def test_a_path_outside_the_screenshots_step_stays_text(tmp_path: Path) -> None:
    shot = write_png(tmp_path / "shot.png")

    assert terminal_after(WHAT_HAPPENED).to_input(str(shot)) == UserInput(text=str(shot))


def test_a_huge_file_is_read_only_far_enough_to_refuse_it(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"\0" * 5000)

    given = terminal_after(SCREENSHOTS, max_file_bytes=100).to_input(str(big))

    assert isinstance(given, UserInput)
    [incoming] = given.files
    assert (len(incoming.data), incoming.size) == (101, 5004)


# -- run: whole conversations over stdin and stdout ---------------------------------------------


def terminal(runtime: Runtime, person_id: str, typed: str) -> tuple[TerminalChat, io.StringIO]:
    stdout = io.StringIO()
    chat = TerminalChat(
        runtime.runner,
        who(person_id),
        stdin=io.StringIO(typed),
        stdout=stdout,
        echo=True,
        max_file_bytes=10 * 1024 * 1024,
        read_files=partial(read_files, runtime),
    )
    return chat, stdout


async def test_a_report_typed_with_numbers_and_paths_is_sent(
    runtime: Runtime, tmp_path: Path
) -> None:
    shot = write_png(tmp_path / "my shot.png", "the post")
    missing = tmp_path / "gone.png"
    typed = [
        "1",  # menu: report
        "1",  # me
        "2",  # no one in danger
        "1",  # Facebook
        "1",  # link: skip
        HAPPY_PATH[5],  # yesterday 4pm
        HAPPY_PATH[6],  # what happened
        str(missing),
        f'"{shot}" done',
        "2",  # a parent
        AFTER_EVIDENCE[1],  # Pat Jones
        AFTER_EVIDENCE[2],  # 1, 4
        "1",  # send it
    ]
    chat, stdout = terminal(runtime, "sam", "".join(f"{line}\n" for line in typed))

    assert await chat.run() == 0

    transcript = stdout.getvalue()
    assert transcript.startswith("Hello Sam.")
    for line in typed:
        assert f"> {line}\n" in transcript
    assert f"> {missing}\n(!) I can't find a file at {missing}." in transcript
    assert "Got it: “my shot.png”" in transcript
    for fact in (
        "Who is affected: Me",
        "Immediate danger: No",
        "Where it happened: Facebook",
        "Link: Not given",
        "Screenshots: my shot.png (1 KB)",
        "Who is responsible: A parent or carer",
        "Nature of the content: Threatening or intimidating, Sexist",
    ):
        assert f"  {fact}\n" in transcript
    assert "── Report sent: CB-2026-0001 ──" in transcript
    assert transcript.endswith("> \nGoodbye. Anything unfinished is saved: run the chat again.\n")

    # The file was read from the path byte for byte.
    async with runtime.db.session() as session:
        kept = (await session.execute(select(Evidence))).scalars().all()
    assert [(e.original_name, e.sha256) for e in kept] == [
        ("my shot.png", hashlib.sha256(shot.read_bytes()).hexdigest())
    ]


async def test_a_conversation_left_at_end_of_input_is_resumed_next_time(runtime: Runtime) -> None:
    chat, stdout = terminal(runtime, "sam", "report\nme\n")
    assert await chat.run() == 0
    assert "Is anyone in immediate danger right now?" in stdout.getvalue()

    again, stdout = terminal(runtime, "sam", "/quit\n")
    assert await again.run() == 0

    transcript = stdout.getvalue()
    assert transcript.startswith("Welcome back.")
    assert "Is anyone in immediate danger right now?\n  1. Yes\n  2. No\n" in transcript
    assert transcript.endswith("> /quit\nGoodbye. Anything unfinished is saved.\n")


async def test_messages_that_waited_are_shown_first_and_only_once(runtime: Runtime) -> None:
    sam = Person(runtime)
    for answer in [*HAPPY_PATH, "skip", *AFTER_EVIDENCE, "submit"]:
        await sam.say(answer)

    chat, stdout = terminal(runtime, "dana", "/q\n")
    assert await chat.run() == 0
    first = stdout.getvalue()
    assert first.startswith(
        "While you were away:\n── New report of online abuse: CB-2026-0001 ──\n"
    )
    assert "  Reported by: Sam Patel\n" in first
    assert "useless" not in first  # the alert does not carry the report itself
    assert first.index("While you were away") < first.index("Hello Dana.")

    again, stdout = terminal(runtime, "dana", "/q\n")
    assert await again.run() == 0
    assert "While you were away" not in stdout.getvalue()
    assert stdout.getvalue().startswith("Hello Dana.")


async def test_a_waiting_question_for_the_owner_is_answered_by_its_number(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    await sam.say("Is there a dress code for the staff Christmas party?")
    await sam.say("yes")  # pass it on

    typed = "1\nSmart casual.\n1\n/q\n"
    chat, stdout = terminal(runtime, "dana", typed)
    assert await chat.run() == 0
    shown = stdout.getvalue()
    assert "  1. Answer it\n" in shown
    assert "Hello Dana." not in shown  # the menu's "1." would have taken the button's place
    assert "(Type menu for everything else.)" in shown
    assert "Answer sent (Q-1)" in shown
    [reply] = await sam.inbox()
    assert "Smart casual." in [f.value for f in reply.facts]


async def test_an_approver_is_given_the_photo_in_a_folder_only_they_can_read(
    runtime: Runtime, tmp_path: Path
) -> None:
    shot = write_png(tmp_path / "class trip.png", "the trip")
    typed = ["post", "1", "Year 4 loved the science museum!", f'"{shot}"', "done", "no"]
    typed += ["next Friday 3pm", "1, 2, 3, 4, 5", "submit"]
    sam, said = terminal(runtime, "sam", "".join(f"{line}\n" for line in typed))
    assert await sam.run() == 0
    assert "Sent for approval: PR-2026-0001" in said.getvalue()

    priya, stdout = terminal(runtime, "priya", "approvals\n4\n")
    assert await priya.run() == 0
    transcript = stdout.getvalue()
    assert "  4. See the photo\n" in transcript
    assert "Here is the photo for PR-2026-0001" in transcript
    saved, data, mode, folder_mode = saved_file(transcript)
    assert saved.name == "1 class trip.png"
    assert data == png_bytes(shot)
    assert (mode, folder_mode) == (0o600, 0o700)


def saved_file(transcript: str) -> tuple[Path, bytes, int, int]:
    """The first file the terminal said it saved: its path, bytes, and the file's and its
    folder's permissions."""
    saved = Path(transcript.split("Saved for you to open:\n", 1)[1].splitlines()[0].strip())
    return (
        saved,
        saved.read_bytes(),
        saved.stat().st_mode & 0o777,
        saved.parent.stat().st_mode & 0o777,
    )


def png_bytes(path: Path) -> bytes:
    return path.read_bytes()


async def test_a_file_name_cannot_climb_out_of_the_folder_or_move_the_cursor(
    tmp_path: Path,
) -> None:
    async def read(refs: Sequence[ImageRef]) -> list[FileContent]:
        return [FileContent(ref, b"picture") for ref in refs] + [
            FileContent(ImageRef(evidence_id="gone", name="lost.png", media_type="image/png"), None)
        ]

    stdout = io.StringIO()
    chat = TerminalChat(
        cast(ConversationRunner, None),
        who("priya"),
        stdin=io.StringIO(""),
        stdout=stdout,
        echo=True,
        max_file_bytes=1000,
        read_files=read,
    )
    hostile = ImageRef(
        evidence_id="e1", name=f"../../{ESC}[2Jevil\u202e.png", media_type="image/png"
    )
    await chat.present([Message(kind=MessageKind.INFO, text="Here it is.", files=(hostile,))])
    shown = stdout.getvalue()
    assert ESC not in shown
    assert "\u202e" not in shown
    saved, data, _, _ = saved_file(shown)
    assert saved.parent.name.startswith("policybot-files-")
    assert saved.name == "1 _2Jevil_.png"
    assert data == b"picture"
    assert "I couldn't send “lost.png”" in shown


async def test_several_waiting_cards_are_numbered_on_so_each_can_be_answered(
    runtime: Runtime,
) -> None:
    await run_account_checks(runtime)
    chat, stdout = terminal(runtime, "jo", "4\n/q\n")
    assert await chat.run() == 0
    shown = stdout.getvalue()
    website = shown.index("── Do you still run Oakfield Primary website? ──")
    facebook = shown.index("── Do you still run Oakfield Primary on Facebook? ──")
    assert "  1. Yes, and its password is safe\n" in shown[website:facebook]
    assert "  4. Yes, and its password is safe\n" in shown[facebook:]
    assert "  7. Yes, and its password is safe\n" in shown[facebook:]
    assert "Oakfield Primary on Facebook is confirmed for this year." in shown


# -- buttons know their question ---------------------------------------------------------------


async def test_a_stale_yes_typed_in_another_window_does_not_answer_immediate_danger(
    runtime: Runtime,
) -> None:
    """Two terminals open on the same conversation: the first still shows the post's "Do any
    pupils appear?" when the second has moved on to a report's "Is anyone in danger?"."""
    first, shown = terminal(runtime, "sam", "post\n1\nYear 4 loved the museum!\nskip\n")
    assert await first.run() == 0
    assert "Do any pupils appear" in shown.getvalue().rsplit("Goodbye", 1)[0][-300:]
    second, _ = terminal(runtime, "sam", "cancel\nyes\nreport\n1\n")
    assert await second.run() == 0

    before = len(shown.getvalue())
    await first.answer("1")  # "1. Yes" on the first window's card

    said = shown.getvalue()[before:]
    assert "That question has moved on" in said
    assert "999" not in said
    assert "Is anyone in immediate danger right now?\n  1. Yes\n  2. No\n" in said
    assert await Person(runtime, person_id="dana").inbox() == []


async def test_a_number_typed_after_a_message_that_waited_answers_the_list_shown(
    runtime: Runtime,
) -> None:
    dana, shown = terminal(runtime, "dana", "")
    assert await dana.run() == 0
    sam = Person(runtime)  # meanwhile Sam sends a report, which waits for Dana
    for answer in [*HAPPY_PATH, "skip", *AFTER_EVIDENCE, "submit"]:
        await sam.say(answer)
    await dana.answer("my reports")  # her reports and the menu, then what waited
    assert "While you were away:" in shown.getvalue()
    assert "  1. Report cyberbullying or online abuse\n" in shown.getvalue()

    before = len(shown.getvalue())
    await dana.answer("1")

    assert "Who is being targeted?" in shown.getvalue()[before:]


async def test_a_request_shown_once_can_be_reached_again_after_quitting(
    runtime: Runtime,
) -> None:
    sam = Person(runtime)
    for answer in ["website", "badsite.example", "today 9am", "skip", "skip", "submit"]:
        await sam.say(answer)
    morgan, shown = terminal(runtime, "morgan", "/q\n")
    assert await morgan.run() == 0
    assert "While you were away:\n── Please block a website" in shown.getvalue()

    again, shown = terminal(runtime, "morgan", "approvals\n1\n/q\n")
    assert await again.run() == 0

    transcript = shown.getvalue()
    assert "── Please block a website on school equipment: WB-2026-0001 ──" in transcript
    assert "  1. Blocked\n" in transcript
    assert "WB-2026-0001 is marked as blocked" in transcript


async def test_an_unsure_answer_shows_the_clauses_that_may_help_then_passes_it_on(
    runtime: Runtime,
) -> None:
    chat, stdout = terminal(
        runtime, "sam", "Can a parent helper take photos on the school trip?\n1\n/q\n"
    )
    assert await chat.run() == 0
    shown = stdout.getvalue()
    assert "── The policy doesn't say exactly ──" in shown
    assert "may help, but they are not an answer" in shown
    assert "  3 Official school accounts \u203a 3.4: “Photos for official accounts" in shown
    assert "  3 Official school accounts \u203a 3.3: “Images of pupils" in shown
    assert "shall I pass it to Dana Okafor" in shown
    assert "  1. Yes, pass it on\n  2. No, thanks\n" in shown
    assert "sending your question to Dana Okafor" in shown.split("> 1\n", 1)[1]
    [alert] = await Person(runtime, person_id="dana").inbox()
    assert "Can a parent helper take photos on the school trip?" in [f.value for f in alert.facts]


@pytest.mark.parametrize(
    "typed",
    [
        "Where can staff park?",  # unrelated: nothing in the policy touches it
        "a year 7 boy is getting nasty messages from other kids on whatsapp",  # a worry
    ],
)
async def test_no_clause_may_help_an_unrelated_question_or_a_worry_about_a_child(
    runtime: Runtime, typed: str
) -> None:
    chat, stdout = terminal(runtime, "sam", f"{typed}\n/q\n")
    assert await chat.run() == 0
    shown = stdout.getvalue()
    assert "may help" not in shown
    assert "“" not in shown  # no quote
    assert "\u203a" not in shown  # no citation
