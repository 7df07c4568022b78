"""The terminal channel: the same dialogs as Slack and Teams, typed in a terminal or piped in.

Files are given as paths when the bot asks for screenshots. When input is piped, each answer is
echoed after its prompt so a scripted conversation reads like a transcript.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import tempfile
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.channels.shared_files import FileContent, unreadable_notice
from dialogs.conversations import ConversationRunner
from dialogs.inbox import Who
from dialogs.services.messages import (
    Button,
    ImageRef,
    IncomingFile,
    InputKind,
    Message,
    MessageKind,
    UserInput,
)

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NOT_IN_FILE_NAMES = re.compile(r"[^\w .()-]+")
_LEAVE = {"/quit", "/exit", "/q"}
_STYLE = {
    MessageKind.URGENT: "!!! ",
    MessageKind.HINT: "(!) ",
    MessageKind.REMINDER: "Remember: ",
}


def safe(text: str) -> str:
    """Terminal text cannot carry escape sequences that would move the cursor or recolour."""
    return _UNSAFE.sub("", text)


def _wrap(text: str, width: int | None) -> str:
    if not width:
        return text
    return "\n".join(textwrap.fill(line, width) if line else "" for line in text.split("\n"))


def render(message: Message, *, width: int | None = None, first: int = 1) -> str:
    """Plain text for a terminal; `width` wraps long paragraphs at word boundaries, and the
    buttons are numbered from `first`."""
    lines: list[str] = []
    if message.title:
        lines.append(f"── {safe(message.title)} ──")
    lines.append(_wrap(_STYLE.get(message.kind, "") + safe(message.text), width))
    lines.extend(f"  {safe(f.label)}: {safe(f.value)}" for f in message.facts)
    lines.extend(f"  [image] {safe(i.name)}" for i in message.images)
    if message.buttons:
        if message.expects is InputKind.MULTI_CHOICE:
            lines.append("  (type the numbers of all that apply, for example: 1, 3)")
        lines.extend(f"  {n}. {safe(b.label)}" for n, b in enumerate(message.buttons, first))
    if message.expects is InputKind.ATTACHMENTS:
        lines.append("  (type the path of each file; paths with spaces in quotes)")
    return "\n".join(lines)


class TerminalChat:
    def __init__(
        self,
        runner: ConversationRunner,
        who: Who,
        *,
        stdin: TextIO,
        stdout: TextIO,
        echo: bool,
        max_file_bytes: int,
        read_files: Callable[[Sequence[ImageRef]], Awaitable[list[FileContent]]] | None = None,
    ) -> None:
        self.runner = runner
        self.read_files = read_files
        self._files_dir: Path | None = None
        self.who = who
        self.stdin = stdin
        self.stdout = stdout
        self.echo = echo
        self.max_file_bytes = max_file_bytes
        self.last: Message | None = None
        # The buttons a typed number presses: the last question's, with the messages that were
        # waiting since numbered on after them, so each can be pressed; and, for each button,
        # the question it was shown with (Message.question), handed back with the press.
        self.choices: tuple[Button, ...] = ()
        self.asked: tuple[str | None, ...] = ()
        # Wrap for people reading a terminal; keep piped transcripts one line per paragraph.
        self.width = min(shutil.get_terminal_size().columns, 100) - 2 if not echo else None

    def show(self, messages: Sequence[Message], *, numbered_on: bool = False) -> None:
        for message in messages:
            on = numbered_on and bool(message.buttons) and bool(self.choices)
            first = len(self.choices) + 1 if on else 1
            self.stdout.write(render(message, width=self.width, first=first) + "\n\n")
            waited_without_buttons = numbered_on and not message.buttons
            if message.expects is not InputKind.NONE and not waited_without_buttons:
                if not on:
                    self.last = message
                    self.choices, self.asked = (), ()
                self.choices = (*self.choices, *message.buttons)
                self.asked = (*self.asked, *(message.question for _ in message.buttons))
        self.stdout.flush()

    async def present(self, messages: Sequence[Message], *, together: bool = False) -> None:
        """Show the messages, and save any files they hand over where this person can open
        them: a folder of their own that only they can read. Messages shown `together` (those
        that were waiting) number their buttons on from one to the next, after those of the
        question shown last, so each can be pressed, and that question still answered."""
        for message in messages:
            self.show([message], numbered_on=together)
            if message.files and self.read_files is not None:
                files = await self.read_files(message.files)
                saved = [self._save(f.ref.name, f.data) for f in files if f.data is not None]
                if saved:
                    self.stdout.write("Saved for you to open:\n")
                    self.stdout.write("".join(f"  {safe(str(path))}\n" for path in saved) + "\n")
                notice = unreadable_notice(files)
                if notice is not None:
                    self.show([notice])
        self.stdout.flush()

    def _save(self, name: str, data: bytes) -> Path:
        if self._files_dir is None:
            self._files_dir = Path(tempfile.mkdtemp(prefix="policybot-files-"))
        clean = _NOT_IN_FILE_NAMES.sub("_", Path(name).name).strip(" .") or "file"
        number = sum(1 for _ in self._files_dir.iterdir()) + 1
        path = self._files_dir / f"{number} {clean[:100]}"
        with path.open("xb") as handle:
            handle.write(data)
        path.chmod(0o600)
        return path

    async def show_waiting(self) -> list[Message]:
        waiting = await self.runner.deliver_waiting(self.who)
        if waiting:
            self.stdout.write("While you were away:\n")
            await self.present(waiting, together=True)
        return waiting

    async def run(self) -> int:
        waiting = await self.show_waiting()
        opening = await self.runner.opening(self.who)
        if waiting and waiting[-1].buttons and opening[-1].kind is MessageKind.MENU:
            # The menu's numbers would take over the waiting message's buttons ("1. Answer it").
            self.stdout.write("(Type menu for everything else.)\n\n")
        else:
            self.show(opening)
        while True:
            self.stdout.write("> ")
            self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                self.stdout.write("\nGoodbye. Anything unfinished is saved: run the chat again.\n")
                return 0
            line = line.rstrip("\n")
            if self.echo:
                self.stdout.write(line + "\n")
            if line.strip() in _LEAVE:
                self.stdout.write("Goodbye. Anything unfinished is saved.\n")
                return 0
            await self.answer(line)

    async def answer(self, line: str) -> None:
        """One typed line: its turn, its replies, then anything that waited meanwhile."""
        given = self.to_input(line)
        if isinstance(given, str):
            self.stdout.write(f"(!) {safe(given)}\n\n")
            return
        await self.present(await self.runner.handle(self.who, given))
        await self.show_waiting()

    def to_input(self, line: str) -> UserInput | str:
        """Turn a typed line into input: a button's number presses it; in the screenshots
        step, paths become files."""
        buttons = self.choices
        number = line.strip()
        if re.fullmatch("[0-9]{1,3}", number) and 1 <= int(number) <= len(buttons):
            index = int(number) - 1
            return UserInput(value=buttons[index].value, question=self.asked[index])
        if self.last is None or self.last.expects is not InputKind.ATTACHMENTS:
            return UserInput(text=line)
        try:
            tokens = shlex.split(line)
        except ValueError:
            return UserInput(text=line)
        trailing = ""
        if tokens and tokens[-1].casefold() == "done" and len(tokens) > 1:
            trailing, tokens = "done", tokens[:-1]
        paths = [Path(t).expanduser() for t in tokens]
        pairs = list(zip(tokens, paths, strict=True))
        if not pairs or not any(self._looks_like_path(t) or p.exists() for t, p in pairs):
            return UserInput(text=line)
        files: list[IncomingFile] = []
        for token, path in pairs:
            if not path.is_file():
                return f"I can't find a file at {token}. Check the path and try again."
            size = path.stat().st_size
            with path.open("rb") as handle:
                # Past the limit, one byte more than allowed is enough to refuse it.
                data = handle.read(self.max_file_bytes + 1)
            files.append(IncomingFile(name=path.name, data=data, size=size))
        return UserInput(text=trailing, files=tuple(files))

    @staticmethod
    def _looks_like_path(token: str) -> bool:
        return "/" in token or token.startswith(("~", ".")) or bool(re.search(r"\.\w{2,4}$", token))
