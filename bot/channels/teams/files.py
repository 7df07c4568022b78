"""Giving a lead an exported evidence pack in Teams.

A bot can only put a file into someone's OneDrive after they accept it (Teams' file consent
card). Until then the pack waits in the data directory, readable only by policybot, and it is
deleted as soon as it is uploaded or declined.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import aiohttp
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.channels.teams.cards import card_for, summary_text
from dialogs.messages import Message, MessageKind

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_TOKEN_LENGTH = 32


def _waiting_room(data_dir: Path) -> Path:
    folder = data_dir / "packs-awaiting-consent"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def consent_card(pack: Path, message: Message, *, store: Path) -> Activity:
    token = secrets.token_hex(_TOKEN_LENGTH // 2)
    kept = _waiting_room(store) / f"{token}.zip"
    shutil.copyfile(pack, kept)
    os.chmod(kept, 0o600)
    facts = "; ".join(f"{f.label}: {f.value}" for f in message.facts)
    return Activity(
        type=ActivityTypes.message,
        attachments=[
            Attachment(
                content_type=CONSENT,
                name=pack.name,
                content={
                    "description": f"{summary_text(message)} {facts}".strip()[:1000],
                    "sizeInBytes": kept.stat().st_size,
                    "acceptContext": {"pack": token},
                    "declineContext": {"pack": token},
                },
            )
        ],
    )


def _say(text: str) -> Activity:
    card = card_for(Message(kind=MessageKind.HINT, text=text))
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)],
    )


def _pack_path(store: Path, context: Any) -> Path | None:
    token = str((context or {}).get("pack") or "")
    if len(token) != _TOKEN_LENGTH or not token.isalnum():
        return None
    path = _waiting_room(store) / f"{token}.zip"
    return path if path.is_file() else None


async def settle_consent(value: dict[str, Any], *, store: Path) -> Activity | None:
    """Upload an accepted pack to the URL Teams gave, or discard a declined one.

    Returns the message to show (a file card), or None when there is nothing to say.
    """
    path = _pack_path(store, value.get("context"))
    if path is None:
        return None
    try:
        if value.get("action") != "accept":
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
            # The consent card cannot be answered twice and the pack is discarded below, so
            # "try again" has to mean exporting again.
            return _say(
                "I couldn't put the evidence pack in your OneDrive, so it has been discarded. "
                "Please press “Export evidence pack” on the case card again."
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
