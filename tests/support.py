"""A person talking to the bot through the real runner, for dialog tests."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from bot.runtime import Runtime
from dialogs.inbox import Who
from dialogs.services.messages import IncomingFile, Message, MessageKind, UserInput
from storage.conversations import ConversationKey


def png(label: str = "screenshot", size: tuple[int, int] = (320, 200)) -> bytes:
    image = Image.new("RGB", size, "navy")
    ImageDraw.Draw(image).text((10, 10), label, fill="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def phone_screenshot(label: str, megabytes: float = 3.0) -> bytes:
    """A real PNG the size of a phone's screenshot: noise does not compress, so the file is
    about `megabytes` long, and it decodes like any other picture."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    noise = random.Random(label).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def write_png(path: Path, label: str = "screenshot") -> Path:
    path.write_bytes(png(label))
    return path


@dataclass
class Person:
    runtime: Runtime
    person_id: str = "sam"
    school_id: str = "oakfield"
    channel: str = "test"
    seen: list[Message] = field(default_factory=list)

    @property
    def who(self) -> Who:
        school = self.runtime.settings.directory.school(self.school_id)
        assert school is not None
        person = school.person(self.person_id)
        assert person is not None
        return Who(
            person=person,
            school=school,
            key=ConversationKey(self.channel, f"{school.id}:{person.id}", "dm"),
        )

    async def say(
        self,
        text: str = "",
        *files: IncomingFile,
        value: str | None = None,
        question: str | None = None,
    ) -> list[Message]:
        given = UserInput(text=text, value=value, files=tuple(files), question=question)
        replies = await self.runtime.runner.handle(self.who, given)
        await self._shown(replies)
        return replies

    async def _shown(self, replies: list[Message]) -> None:
        """Take the replies as the person's platform does: on Slack and Teams a turn's replies
        wait in the outbox (with any earlier ones still owed) until the channel has sent them,
        so they are marked sent here, as a channel would, and their rows deleted, as the
        delivery worker's next round would."""
        self.seen.extend(replies)
        if any(m.ledger is not None for m in replies):
            await self.runtime.runner.send_replies(self.who, replies, _shown_to_the_person)
            await self.runtime.runner.forget_sent()

    async def press(self, value: str) -> list[Message]:
        return await self.say(value=value)

    async def press_on(self, card: Message, label: str) -> list[Message]:
        """Press a button on a card as a channel does: with the question the card asked."""
        [button] = [b for b in card.buttons if b.label == label]
        return await self.say(value=button.value, question=card.question)

    async def open(self) -> list[Message]:
        replies = await self.runtime.runner.opening(self.who)
        await self._shown(replies)
        return replies

    async def inbox(self) -> list[Message]:
        return await self.runtime.runner.deliver_waiting(self.who)


async def _shown_to_the_person(message: Message) -> None:
    """A platform that takes every reply at once."""


def last_prompt(messages: list[Message]) -> Message:
    prompts = [m for m in messages if m.kind in (MessageKind.PROMPT, MessageKind.SUMMARY)]
    assert prompts, f"no question in {[m.text for m in messages]}"
    return prompts[-1]


def kinds(messages: list[Message]) -> list[MessageKind]:
    return [m.kind for m in messages]


def text_of(messages: list[Message]) -> str:
    parts = []
    for m in messages:
        parts.append(" ".join(filter(None, [m.title, m.text])))
        parts.extend(f"{f.label}: {f.value}" for f in m.facts)
    return "\n".join(parts)


def file(name: str, data: bytes) -> IncomingFile:
    return IncomingFile(name=name, data=data)


# Answers that take the report dialog from the menu to the summary, step by step.
HAPPY_PATH: list[str] = [
    "report",
    "me",  # who is affected
    "no",  # immediate danger
    "Facebook",  # where
    "https://facebook.com/groups/123/posts/456",  # link
    "yesterday 4pm",  # when
    "A parent posted that I am useless and should be sacked, with my photo.",  # what
]
AFTER_EVIDENCE: list[str] = [
    "parent",  # who is responsible
    "Pat Jones",  # their name
    "1, 4",  # nature: threatening + sexist
]


def one_database_unless_marked(metafunc: pytest.Metafunc) -> None:
    """Give a test that uses `database_url` SQLite only, unless it (or its module) is marked
    `both_databases` or chooses its databases itself. Called first from a directory's
    pytest_generate_tests hook, before the fixture's own parameters are applied."""
    if "database_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_databases") is not None:
        return
    chosen = (
        mark
        for mark in metafunc.definition.iter_markers("parametrize")
        if "database_url" in _argnames(mark.args[0])
    )
    if next(chosen, None) is None:
        metafunc.definition.add_marker(
            pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
        )


def _argnames(spec: str | Sequence[str]) -> list[str]:
    return [name.strip() for name in spec.split(",")] if isinstance(spec, str) else list(spec)
