"""The kinds of question a dialog can ask, each with its own way of understanding an answer.

A prompt never trusts an answer: it either accepts a clean value, or explains kindly what it
needs and the dialog asks again. Values are plain JSON so a dialog survives a restart as it was.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dialogs.services.errors import UploadRejected
from dialogs.services.messages import (
    Button,
    Fact,
    IncomingFile,
    InputKind,
    Message,
    MessageKind,
    StoredFile,
    UserInput,
)
from dialogs.services.school.text import clean_text
from dialogs.when import describe_when, parse_when

Json = Any


class AttachmentSink(Protocol):
    """Where files go the moment they arrive, so a crash later cannot lose them."""

    async def accept(self, file: IncomingFile) -> StoredFile: ...

    async def discard(self, file_ids: Sequence[str]) -> None: ...


@dataclass
class PromptContext:
    now: datetime
    tz: ZoneInfo
    attachments: AttachmentSink
    scratch: dict[str, Json] = field(default_factory=dict)
    # What a prompt may offer that depends on the school (its official accounts, say).
    options: Mapping[str, Sequence[Choice]] = field(default_factory=dict)
    # What the dialog knows so far, for questions whose options depend on earlier answers.
    answers: Mapping[str, Json] = field(default_factory=dict)
    flags: Mapping[str, Json] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    value: Json
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Rejected:
    hint: str


@dataclass(frozen=True)
class Waiting:
    """The answer is not complete yet (more files may come); say where things stand."""

    messages: tuple[Message, ...]


Outcome = Accepted | Rejected | Waiting


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


class Prompt(ABC):
    expects: InputKind = InputKind.TEXT

    def __init__(self, question: str, *, help: str | None = None) -> None:
        self.question = question
        self.help = help

    @property
    @abstractmethod
    def how_to_answer(self) -> str:
        """One sentence on the form of answer expected, used in hints and help."""

    def buttons(self) -> tuple[Button, ...]:
        return ()

    def ask(self, ctx: PromptContext, current: Json | None, *, title: str | None) -> Message:
        facts: tuple[Fact, ...] = ()
        if current is not None:
            facts = (Fact(label="Your answer so far", value=self.show(current, ctx)),)
        return Message(
            kind=MessageKind.PROMPT,
            title=title,
            text=self.question,
            facts=facts,
            buttons=self.buttons(),
            expects=self.expects,
        )

    @abstractmethod
    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome: ...

    def show(self, value: Json, ctx: PromptContext) -> str:
        return str(value)

    def skip_allowed(self, ctx: PromptContext) -> bool:
        return True


class TextPrompt(Prompt):
    expects = InputKind.TEXT

    def __init__(
        self,
        question: str,
        *,
        help: str | None = None,
        min_length: int = 1,
        max_length: int = 4000,
        check: Callable[[str], str | None] | None = None,
        normalise: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(question, help=help)
        self.min_length = min_length
        self.max_length = max_length
        self.check = check
        self.normalise = normalise

    @property
    def how_to_answer(self) -> str:
        if self.min_length > 1:
            return (
                "Please type your answer in a sentence or more "
                f"(at least {self.min_length} characters)."
            )
        return "Please type your answer."

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        text = clean_text(given.answer)
        if given.files and not text:
            return Rejected(
                "I was expecting typed words here rather than a file. " + self.how_to_answer
            )
        if len(text) < self.min_length:
            return Rejected(
                "That's a little short for me to be sure I have what happened. "
                + self.how_to_answer
                if self.min_length > 1
                else self.how_to_answer
            )
        if len(text) > self.max_length:
            return Rejected(
                f"That's longer than I can keep in one answer ({len(text):,} characters; the limit "
                f"is {self.max_length:,}). Could you shorten it? You can add more detail later."
            )
        if self.normalise:
            text = self.normalise(text)
        if self.check and (problem := self.check(text)):
            return Rejected(problem)
        return Accepted(text)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    synonyms: tuple[str, ...] = ()

    def matches(self, key: str) -> bool:
        return key in {_key(self.value), _key(self.label), *(_key(s) for s in self.synonyms)}


class ChoicePrompt(Prompt):
    expects = InputKind.CHOICE

    def __init__(
        self,
        question: str,
        choices: Sequence[Choice],
        *,
        help: str | None = None,
        allow_other: bool = False,
    ) -> None:
        super().__init__(question, help=help)
        self.choices = tuple(choices)
        self.allow_other = allow_other

    @property
    def how_to_answer(self) -> str:
        options = "; ".join(f"{i}. {c.label}" for i, c in enumerate(self.choices, 1))
        extra = " or type your own answer" if self.allow_other else ""
        return f"Please pick one: {options} (type the number or the words{extra})."

    def buttons(self) -> tuple[Button, ...]:
        return tuple(Button(value=c.value, label=c.label) for c in self.choices)

    def _find(self, token: str) -> Choice | None:
        key = _key(token)
        if key.isdigit() and 1 <= int(key) <= len(self.choices):
            return self.choices[int(key) - 1]
        exact = [c for c in self.choices if c.matches(key)]
        if exact:
            return exact[0]
        if len(key) >= 3:
            partial = [c for c in self.choices if _key(c.label).startswith(key)]
            if len(partial) == 1:
                return partial[0]
        return None

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        answer = clean_text(given.answer)
        if not answer:
            return Rejected(self.how_to_answer)
        choice = self._find(answer)
        if choice:
            return Accepted(choice.value)
        if self.allow_other and len(answer) <= 100 and not answer.isdigit():
            return Accepted(answer)
        return Rejected(
            f"I didn't recognise “{answer[:60]}” as one of the options. " + self.how_to_answer
        )

    def show(self, value: Json, ctx: PromptContext) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return str(value)


class MultiChoicePrompt(ChoicePrompt):
    """Pick one or more; typed as "1, 3" or "threatening and sexist", or sent as "a,b" values."""

    expects = InputKind.MULTI_CHOICE

    @property
    def how_to_answer(self) -> str:
        options = "; ".join(f"{i}. {c.label}" for i, c in enumerate(self.choices, 1))
        return f"Pick all that apply: {options} (for example: 1, 3)."

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        answer = clean_text(given.answer)
        tokens = [t for t in re.split(r"\s*(?:,|;|/|&|\band\b|\n)\s*", answer) if t.strip()]
        if len(tokens) == 1 and re.fullmatch(r"\d+(\s+\d+)+", tokens[0]):
            tokens = tokens[0].split()
        if not tokens:
            return Rejected(self.how_to_answer)
        picked: list[str] = []
        unknown: list[str] = []
        for token in tokens:
            choice = self._find(token)
            if choice:
                picked.append(choice.value)
            else:
                unknown.append(token)
        if unknown:
            listed = ", ".join(f"“{u[:40]}”" for u in unknown[:3])
            return Rejected(f"I didn't recognise {listed}. " + self.how_to_answer)
        order = [c.value for c in self.choices]
        return Accepted(sorted(set(picked), key=order.index))

    def show(self, value: Json, ctx: PromptContext) -> str:
        return ", ".join(super(MultiChoicePrompt, self).show(v, ctx) for v in value)


class SchoolOptionsPrompt(Prompt):
    """Pick one or more of options that belong to the school (its official accounts), which
    the dialog cannot know until it knows whose school it is."""

    expects = InputKind.MULTI_CHOICE

    def __init__(
        self,
        question: str,
        key: str,
        *,
        missing: str,
        help: str | None = None,
        one: bool = False,
    ) -> None:
        super().__init__(question, help=help)
        self.key = key
        self.missing = missing  # said when the school has none configured
        self.one = one  # pick exactly one
        if one:
            self.expects = InputKind.CHOICE

    @property
    def how_to_answer(self) -> str:
        if self.one:
            return "Pick one from the list (type its number)."
        return "Pick all that apply from the list (for example: 1, 2)."

    def _choices(self, ctx: PromptContext) -> ChoicePrompt:
        if self.one:
            return ChoicePrompt(self.question, ctx.options.get(self.key, ()))
        return MultiChoicePrompt(self.question, ctx.options.get(self.key, ()))

    def ask(self, ctx: PromptContext, current: Json | None, *, title: str | None) -> Message:
        return self._choices(ctx).ask(ctx, current, title=title)

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        choices = self._choices(ctx)
        if not choices.choices:
            return Rejected(self.missing)
        return await choices.parse(given, ctx)

    def show(self, value: Json, ctx: PromptContext) -> str:
        return self._choices(ctx).show(value, ctx)


_YES = {"yes", "y", "yeah", "yep", "yup", "true", "correct", "i am", "they are", "1"}
_NO = {"no", "n", "nope", "nah", "false", "not", "no they are not", "i am not", "2"}


class YesNoPrompt(Prompt):
    expects = InputKind.YES_NO

    @property
    def how_to_answer(self) -> str:
        return "Please answer yes or no."

    def buttons(self) -> tuple[Button, ...]:
        return (Button(value="yes", label="Yes"), Button(value="no", label="No"))

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        key = _key(given.answer)
        if key in _YES:
            return Accepted(True)
        if key in _NO:
            return Accepted(False)
        return Rejected(self.how_to_answer)

    def show(self, value: Json, ctx: PromptContext) -> str:
        return "Yes" if value else "No"


class DateTimePrompt(Prompt):
    expects = InputKind.DATETIME

    def __init__(
        self,
        question: str,
        *,
        help: str | None = None,
        allow_future: bool = False,
        oldest: timedelta = timedelta(days=365 * 10),
        planning: bool = False,
    ) -> None:
        super().__init__(question, help=help)
        self.allow_future = allow_future or planning
        self.oldest = oldest
        self.planning = planning  # a time still to come: "Friday 3pm" is the coming Friday

    @property
    def how_to_answer(self) -> str:
        if self.planning:
            return (
                "Tell me the date and time in any of these ways: “tomorrow 9am”, “Friday 3pm”, "
                "“27/11 15:30” or “2026-11-27 15:30”."
            )
        return (
            "Tell me the date and time in any of these ways: “yesterday 4pm”, “21/11 09:30”, "
            "“last Monday 3pm” or “2026-11-20 16:00”. An estimate is fine."
        )

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        lean: Literal["past", "future"] = "future" if self.planning else "past"
        moment = parse_when(clean_text(given.answer), now=ctx.now, tz=ctx.tz, lean=lean)
        if moment is None:
            return Rejected("I couldn't work out a date and time from that. " + self.how_to_answer)
        if not self.allow_future and moment > ctx.now + timedelta(minutes=5):
            shown = describe_when(moment, tz=ctx.tz, now=ctx.now)
            return Rejected(
                f"That reads to me as {shown}, which hasn't happened yet. When did it happen? "
                + self.how_to_answer
            )
        if self.planning and moment < ctx.now:
            shown = describe_when(moment, tz=ctx.tz, now=ctx.now)
            return Rejected(
                f"That reads to me as {shown}, which has already passed. When should it go "
                "out? " + self.how_to_answer
            )
        if moment < ctx.now - self.oldest:
            return Rejected(
                "That's a very long time ago; please check the year. " + self.how_to_answer
            )
        return Accepted(moment.isoformat())

    def show(self, value: Json, ctx: PromptContext) -> str:
        return describe_when(datetime.fromisoformat(value), tz=ctx.tz, now=ctx.now)


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{max(1, size // 1024)} KB"


class AttachmentPrompt(Prompt):
    """Collects files over several messages until the person says "done"."""

    expects = InputKind.ATTACHMENTS
    _DONE: ClassVar[frozenset[str]] = frozenset(
        {"done", "finished", "that s all", "thats all", "that is all", "ok done", "all done"}
    )

    def __init__(
        self,
        question: str,
        *,
        help: str | None = None,
        max_files: int = 20,
        what: str = "screenshots",
    ) -> None:
        super().__init__(question, help=help)
        self.max_files = max_files
        self.what = what

    @property
    def how_to_answer(self) -> str:
        return f"Send your {self.what} (one or more), then type done."

    def buttons(self) -> tuple[Button, ...]:
        return (Button(value="done", label="Done", style="primary"),)

    def ask(self, ctx: PromptContext, current: Json | None, *, title: str | None) -> Message:
        if current and not ctx.scratch.get("files"):
            ctx.scratch["files"] = list(current)
        message = super().ask(ctx, None, title=title)
        kept = ctx.scratch.get("files") or []
        if kept:
            names = ", ".join(f["name"] for f in kept)
            facts = (Fact(label="Already received", value=f"{len(kept)}: {names}"),)
            return message.model_copy(update={"facts": facts})
        return message

    def skip_allowed(self, ctx: PromptContext) -> bool:
        return not ctx.scratch.get("files")

    async def parse(self, given: UserInput, ctx: PromptContext) -> Outcome:
        kept: list[dict[str, Json]] = list(ctx.scratch.get("files") or [])
        got: list[StoredFile] = []
        refused: list[str] = []
        over: list[str] = []
        for file in given.files:
            if len(kept) >= self.max_files:
                over.append(f"“{clean_text(file.name)[:80]}”")
                continue
            try:
                stored = await ctx.attachments.accept(file)
            except UploadRejected as exc:
                refused.append(exc.message)
                continue
            kept.append(stored.as_json())
            got.append(stored)
        if over:
            refused.append(
                f"I can keep up to {self.max_files} files in one report, so I didn't keep "
                f"{', '.join(over)}. Type done to carry on."
            )
        # One message for everything sent at once, however many files: thirteen screenshots
        # shared together are one answer, not thirteen.
        notes = [_received(got), *refused]
        ctx.scratch["files"] = kept
        key = _key(given.answer)
        if key == "clear" and kept:
            await ctx.attachments.discard([f["id"] for f in kept])
            ctx.scratch["files"] = []
            return Waiting(
                (
                    Message(
                        kind=MessageKind.INFO, text="I've removed the files. " + self.how_to_answer
                    ),
                )
            )
        if key in self._DONE:
            if not kept:
                return Rejected(
                    f"I haven't received any files yet. Send the {self.what} first, or type "
                    "skip if you have none."
                )
            ctx.scratch.pop("files", None)
            return Accepted(kept, _one_message(notes, refused=bool(refused)))
        if not given.files and key:
            return Rejected(
                "I was expecting files here. "
                + self.how_to_answer
                + f" (Type skip if you have no {self.what}.)"
            )
        count = len(kept)
        summary = f"{count} file{'s' if count != 1 else ''} so far. Send more, or type done."
        return Waiting(
            (
                Message(
                    kind=MessageKind.HINT if refused else MessageKind.INFO,
                    text="\n\n".join(n for n in (*notes, summary) if n),
                    expects=self.expects,
                    buttons=self.buttons(),
                ),
            )
        )

    def show(self, value: Json, ctx: PromptContext) -> str:
        if not value:
            return "None"
        return "; ".join(f"{f['name']} ({_size(f['size'])})" for f in value)


def _received(got: Sequence[StoredFile]) -> str:
    """What was kept of the files sent at once, with names and sizes ("" for none)."""
    if len(got) == 1:
        return f"Got it: “{got[0].name}” ({_size(got[0].size)}) is saved as evidence."
    if not got:
        return ""
    listed = "\n".join(f"• “{f.name}” ({_size(f.size)})" for f in got)
    return f"Got {len(got)} files; each is saved as evidence:\n{listed}"


def _one_message(notes: Sequence[str], *, refused: bool) -> tuple[Message, ...]:
    text = "\n\n".join(n for n in notes if n)
    if not text:
        return ()
    return (Message(kind=MessageKind.HINT if refused else MessageKind.INFO, text=text),)


def check_link(text: str) -> str | None:
    """A link must be a web address; anything else is better typed into "what happened"."""
    parts = urlsplit(text)
    if parts.scheme in {"http", "https"} and parts.netloc and " " not in text:
        return None
    return (
        "That doesn't look like a web address. Copy the link from the browser or app (it starts "
        "with https://), or type skip if there isn't one."
    )


def normalise_link(text: str) -> str:
    if re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", text, re.IGNORECASE) and "://" not in text:
        return "https://" + text
    return text
