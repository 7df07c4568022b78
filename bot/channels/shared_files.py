"""Reading the files a message hands over (Message.files), for whichever channel sends them.

The bytes come from the evidence store and are checked against the hash recorded when they
were received, so a damaged or missing copy is never passed on as if it were the original:
the person is told which file could not be sent instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.runtime import Runtime
from dialogs.services.messages import ImageRef, Message, MessageKind
from storage.models import Evidence


@dataclass(frozen=True)
class FileContent:
    ref: ImageRef
    data: bytes | None  # None: the stored copy is gone or fails its hash check


async def read_files(runtime: Runtime, refs: Sequence[ImageRef]) -> list[FileContent]:
    if not refs:
        return []
    files: list[FileContent] = []
    async with runtime.db.session() as session:
        evidence = runtime.services(session, runtime.clock()).evidence
        for ref in refs:
            record = await session.get(Evidence, ref.evidence_id)
            content = await evidence.read(record) if record is not None else None
            usable = content is not None and content.intact and bool(content.content)
            files.append(FileContent(ref, content.content if usable and content else None))
    return files


def unreadable_notice(files: Sequence[FileContent]) -> Message | None:
    """What to say about files that could not be sent, or None when all of them were."""
    missing = [f.ref.name for f in files if f.data is None]
    if not missing:
        return None
    names = ", ".join(f"“{name}”" for name in missing)
    return Message(
        kind=MessageKind.HINT,
        text=f"I couldn't send {names}: the copy I keep is damaged or no longer there. "
        "Please ask the person who sent it for it again.",
    )
