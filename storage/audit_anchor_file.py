"""The anchor file: the audit chain's head, kept outside the database.

A chain shows what was changed inside it, but not that its newest entries were removed with
their seals: what is left is a shorter chain that is whole. So every transaction that seals
entries appends the new head (its chain position and hash) to this file once it has committed,
and every retention run appends what it removed; `policybot audit verify` compares the database
with the file. The file is opened for appending only and each line is flushed to disk (fsync)
before the process goes on; it grows by one short line per transaction that writes the log.

A line is written after its transaction commits, never before: a head that was rolled back
would otherwise look like entries removed. A process stopped in between leaves the file one
head behind, which hides nothing (the next head covers it).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnchoredHead:
    """The chain reached `seq`, whose seal's hash was `hash`, at `at`."""

    seq: int
    hash: str
    at: datetime


@dataclass(frozen=True)
class AnchoredRetention:
    """Retention removed the chain up to `through`; `mac` is the removal record's own seal."""

    through: int
    last_hash: str
    removed: int
    at: datetime
    mac: str


Anchored = AnchoredHead | AnchoredRetention


def head_line(seq: int, hash_: str, at: datetime) -> dict[str, object]:
    return {"kind": "head", "seq": seq, "hash": hash_, "at": at.isoformat()}


def retention_line(
    *, through: int, last_hash: str, removed: int, at: datetime, mac: str
) -> dict[str, object]:
    return {
        "kind": "retention",
        "through": through,
        "last_hash": last_hash,
        "removed": removed,
        "at": at.isoformat(),
        "mac": mac,
    }


class AnchorFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, lines: Sequence[Mapping[str, object]]) -> None:
        """Append `lines` and flush them to disk. A failure is logged, not raised: the
        transaction they describe has committed already, and the next head covers this one."""
        data = "".join(
            json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in lines
        ).encode("ascii")
        try:
            new = not self.path.exists()
            if new:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if _ends_mid_line(descriptor):
                    data = b"\n" + data  # a line cut short stays on its own, unread
                written = 0
                while written < len(data):
                    written += os.write(descriptor, data[written:])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if new:
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
        except OSError as exc:
            log.error(
                "the audit chain's head could not be written to the anchor file %s (%s)",
                self.path,
                type(exc).__name__,
            )

    def size(self) -> int:
        """How far the file goes now: a check reads only this far, so heads appended while it
        walks the database (which it may not have seen) are not taken for removed entries."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self, upto: int) -> Iterator[Anchored | None]:
        """Each line up to byte `upto`, in the order written; None for a line that cannot be
        read (a line cut short when the machine stopped mid-write, or one edited by hand)."""
        with self.path.open("rb") as handle:
            consumed = 0
            for raw in handle:
                consumed += len(raw)
                if consumed > upto:
                    return  # appended after the check began
                if not raw.endswith(b"\n"):
                    yield None  # cut short
                elif raw.strip():
                    yield _parse(raw)


def _ends_mid_line(descriptor: int) -> bool:
    size = os.fstat(descriptor).st_size
    return size > 0 and os.pread(descriptor, 1, size - 1) != b"\n"


def _parse(raw: bytes) -> Anchored | None:
    try:
        line = json.loads(raw)
        at = datetime.fromisoformat(line["at"])
        if at.tzinfo is None:
            return None
        if line["kind"] == "head":
            return AnchoredHead(int(line["seq"]), str(line["hash"]), at)
        if line["kind"] == "retention":
            return AnchoredRetention(
                int(line["through"]),
                str(line["last_hash"]),
                int(line["removed"]),
                at,
                str(line["mac"]),
            )
    except (ValueError, KeyError, TypeError):
        return None
    return None
