"""Giving someone a file in Teams: a lead's evidence pack, an approver's look at a post's photos.

A bot can only put a file into someone's OneDrive after they accept it (Teams' file consent
card). Until then the file waits in the data directory, readable only by policybot. It is
deleted as soon as it is uploaded or declined, and after a day if the offer is ignored, so
copies of evidence and of pupils' photos do not pile up outside the evidence store.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Literal

import aiohttp
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.channels.teams.cards import card_for, summary_text
from dialogs.services.messages import Message, MessageKind

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_TOKEN_LENGTH = 32
KEEP_OFFERS_SECONDS = 24 * 3600

FileKind = Literal["pack", "media"]
_AGAIN: dict[str, str] = {
    "pack": "Please press “Export evidence pack” on the case card again.",
    "media": "Please press the “See …” button on the post request again.",
}


def waiting_room(data_dir: Path) -> Path:
    folder = data_dir / "files-awaiting-consent"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _clear_old_offers(folder: Path, now: float) -> None:
    for path in folder.iterdir():
        try:
            if now - path.stat().st_mtime > KEEP_OFFERS_SECONDS:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue  # settled meanwhile


def consent_card(
    name: str, source: Path | bytes, description: str, *, store: Path, kind: FileKind
) -> Activity:
    """A file consent card offering `source` (a file to copy, or the bytes) as `name`."""
    folder = waiting_room(store)
    _clear_old_offers(folder, time.time())
    token = secrets.token_hex(_TOKEN_LENGTH // 2)
    kept = folder / token
    if isinstance(source, Path):
        shutil.copyfile(source, kept)
    else:
        kept.write_bytes(source)
    os.chmod(kept, 0o600)
    context = {"file": token, "kind": kind}
    return Activity(
        type=ActivityTypes.message,
        attachments=[
            Attachment(
                content_type=CONSENT,
                name=name,
                content={
                    "description": description.strip()[:1000],
                    "sizeInBytes": kept.stat().st_size,
                    "acceptContext": context,
                    "declineContext": context,
                },
            )
        ],
    )


def pack_card(pack: Path, message: Message, *, store: Path) -> Activity:
    facts = "; ".join(f"{f.label}: {f.value}" for f in message.facts)
    return consent_card(
        pack.name, pack, f"{summary_text(message)} {facts}", store=store, kind="pack"
    )


def _say(text: str) -> Activity:
    card = card_for(Message(kind=MessageKind.HINT, text=text))
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
    )


def _waiting_file(store: Path, context: Any) -> tuple[Path, str] | None:
    """The offered file and its kind; None for a context that is not one of ours."""
    context = context if isinstance(context, dict) else {}
    token = str(context.get("file") or "")
    kind = str(context.get("kind") or "")
    if len(token) != _TOKEN_LENGTH or not token.isalnum() or kind not in _AGAIN:
        return None
    return waiting_room(store) / token, kind


async def settle_consent(value: dict[str, Any], *, store: Path) -> Activity | None:
    """Upload an accepted file to the URL Teams gave, or discard a declined one.

    Returns the message to show (a file card, or why not), or None when there is nothing to
    say.
    """
    found = _waiting_file(store, value.get("context"))
    if found is None:
        return None
    path, kind = found
    accepted = value.get("action") == "accept"
    if not path.is_file():
        if not accepted:
            return None
        return _say(f"That offer has expired, so the file is no longer here. {_AGAIN[kind]}")
    try:
        if not accepted:
            return None
        info = value.get("uploadInfo") or {}
        upload_url = str(info.get("uploadUrl") or "")
        if not upload_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            return None
        data = path.read_bytes()
        headers = {
            "Content-Length": str(len(data)),
            "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
                session.put(upload_url, data=data, headers=headers) as response,
            ):
                response.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            # The consent card cannot be answered twice and the file is discarded below, so
            # "try again" has to mean asking for it again.
            what = "the evidence pack" if kind == "pack" else "the file"
            return _say(
                f"I couldn't put {what} in your OneDrive, so it has been discarded. " + _AGAIN[kind]
            )
        return Activity(
            type=ActivityTypes.message,
            attachments=[
                Attachment(
                    content_type=FILE_INFO,
                    content_url=info.get("contentUrl"),
                    name=info.get("name"),
                    content={"uniqueId": info.get("uniqueId"), "fileType": info.get("fileType")},
                )
            ],
        )
    finally:
        path.unlink(missing_ok=True)
