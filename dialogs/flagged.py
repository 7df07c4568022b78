"""Something flagged as abuse (a chat message, a comment on an official account) kept as
evidence, with the files it carried, in the report under way or in a new one started with it.

Used by the runner for a message flagged on the platform itself, and by a comment's "report
as abuse" button: both keep the flagged words before anything is asked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dialogs.engine import DialogContext, DialogState
from dialogs.inbox import Who
from dialogs.services.errors import UploadRejected
from dialogs.services.messages import IncomingFile, Message, MessageKind, StoredFile
from dialogs.turn import Turn


async def report_with(
    turn: Turn,
    current: DialogState | None,
    dialog: str,
    captured: dict[str, Any],
    files: Sequence[IncomingFile] = (),
) -> tuple[DialogState, list[Message]]:
    """Keep the flagged item as evidence, in the report under way (`current`) or in a new
    `dialog` started with it, prefilled from what was captured."""
    who = turn.who
    state = current or DialogState(dialog=dialog)
    ctx = turn.context(state)
    kept_files, notes = await _keep_flagged_files(ctx, who, files)
    stored = await ctx.services.evidence.keep_capture(
        json.dumps(captured, ensure_ascii=False, indent=2, sort_keys=True).encode(),
        name=f"{captured.get('platform', 'chat')} message.json",
        media_type="application/json",
        extension=".json",
        school_id=who.school.id,
        person_id=who.person.id,
        draft_key=state.draft_id,
    )
    with_files = ""
    if kept_files:
        names = ", ".join(f"“{f.name}”" for f in kept_files)
        which = "file" if len(kept_files) == 1 else "files"
        with_files = f" I've also kept the {which} it carried: {names}."
    kept = Message(
        kind=MessageKind.INFO,
        text="I've saved the message you flagged as evidence: its words, who posted it, "
        f"where and when, and a link to it.{with_files}",
    )
    evidence = [stored.as_json(), *(f.as_json() for f in kept_files)]
    if current is not None:
        state.scratch.setdefault("files", [])
        if state.step == "evidence" or "evidence" not in state.answers:
            state.scratch["files"].extend(evidence)
        else:
            state.answers["evidence"] = [*(state.answers["evidence"] or []), *evidence]
        messages = [kept, *notes, *turn.engine.resume(ctx)]
    else:
        prefill: dict[str, Any] = {
            "platform": captured.get("platform", "Slack"),
            "evidence": evidence,
        }
        if captured.get("permalink"):
            prefill["link"] = captured["permalink"]
        if captured.get("ts"):
            moment = datetime.fromtimestamp(float(captured["ts"]), UTC)
            prefill["occurred_at"] = moment.isoformat()
        elif captured.get("posted_at"):
            prefill["occurred_at"] = str(captured["posted_at"])
        started = await turn.engine.start(dialog, ctx, prefill=prefill)
        state, messages = started.state or state, [kept, *notes, *started.messages]
    return state, messages


async def _keep_flagged_files(
    ctx: DialogContext, who: Who, files: Sequence[IncomingFile]
) -> tuple[list[StoredFile], list[Message]]:
    """Check and keep a flagged message's files; each refusal is said, none stops the rest."""
    kept: list[StoredFile] = []
    notes: list[Message] = []
    for file in files:
        try:
            kept.append(
                await ctx.services.evidence.receive(
                    file,
                    school_id=who.school.id,
                    person_id=who.person.id,
                    draft_key=ctx.state.draft_id,
                )
            )
        except UploadRejected as refused:
            notes.append(Message(kind=MessageKind.HINT, text=refused.message))
    return kept, notes
