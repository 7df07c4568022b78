"""The inbound journal: what a person sent, kept on local disk until the turn that used it is saved.

Slack and Teams hand a message over once. If the database is away when it arrives (a restart, a
failover, a cut network) or the process is killed half-way through the turn, the transaction is
rolled back and, without this, the person's words would be gone. So each input is written here
first, durably (written, flushed to disk and renamed into place), and removed only after its turn
has committed. Whatever is still here is taken again, in the order it arrived; the delivery id
it carries makes a turn that did commit (the process died just before the removal) a no-op.
Inputs arriving together are kept as one batch file that shares one sync (`write_group`,
storage.journal_batches, storage.group_commit), each still acknowledged only once it is on disk.
An entry kept in a batch by a running server is written at its own place only if its turn does
not finish (then it waits there, or is set aside) or the server stops (the next start puts back
what a batch holds): a turn that is saved leaves no file of its own to write and remove.

Entries are files rather than rows because the database is exactly what may be missing. They
hold what people wrote, so they are encrypted with the evidence key when one is configured, and
readable only by the service's own user. An entry whose turn fails for any other reason than the
database is moved aside to `failed/`, never deleted, for IT to retry once the fault is fixed.

Each entry's name says who wrote it, as `pid@host`. On one machine a process that has gone
leaves its entries to the others at once (its pid no longer runs). Several hosts may share the
folder (POLICYBOT_JOURNAL_DIR on shared storage): a pid means nothing on another machine, so a
host leaves other hosts' entries alone until that host's lease has run out, and then exactly one
host takes them over (storage.host_leases), renaming them as its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken

from storage.conversations import ConversationKey
from storage.crypto import KeyMissing, Keyring
from storage.journal_batches import BATCH_SUFFIX, Coverage, decode_batch, encode_batch
from storage.processes import running
from storage.unique_ids import unique_hex

log = logging.getLogger(__name__)

_SUFFIX = ".entry"
_STALE_TEMPORARY_SECONDS = 3600
# How old this process's picture of the pending folder may be before a conversation's entries
# are looked up in the folder itself again (see Journal.pending).
_LISTING_FRESH_SECONDS = 0.25
_PLAIN, _SEALED = b"pbj-plain1\n", b"pbj-fernet1\n"


def conversation_tag(key: ConversationKey) -> str:
    """A short, stable file-name prefix for one conversation: entries of a conversation are
    found by name alone, and the name reveals nothing about who it is."""
    raw = "\x1f".join((key.channel, key.user_key, key.conversation_key)).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Entry:
    """One input waiting for its turn. `payload` is the channel-neutral input as the dialogs
    layer wrote it (dialogs.inbox); storage only keeps it."""

    key: ConversationKey
    delivery_id: str
    received_at: datetime
    payload: dict[str, Any]
    attempts: int = 0
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": [self.key.channel, self.key.user_key, self.key.conversation_key],
            "delivery_id": self.delivery_id,
            "received_at": self.received_at.isoformat(),
            "payload": self.payload,
            "attempts": self.attempts,
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        channel, user_key, conversation_key = data["key"]
        return cls(
            key=ConversationKey(channel, user_key, conversation_key),
            delivery_id=data["delivery_id"],
            received_at=datetime.fromisoformat(data["received_at"]),
            payload=data["payload"],
            attempts=int(data.get("attempts") or 0),
            problem=data.get("problem"),
        )


@dataclass(frozen=True)
class Kept:
    """An entry made durable in a batch (Journal.keep_batch): its place, and its file's bytes."""

    path: Path
    data: bytes


@dataclass(frozen=True)
class Backlog:
    """How much is waiting, for `policybot journal status` and the readiness check; never
    what it says."""

    pending: int
    failed: int
    oldest: datetime | None


class Journal:
    def __init__(self, root: Path, *, keys: Sequence[bytes] = (), host: str | None = None) -> None:
        self.root = root
        self.host = host or socket.gethostname()
        self.pending_dir = root / "pending"
        self.failed_dir = root / "failed"
        self._keyring = Keyring(keys) if keys else None
        for directory in (root, self.pending_dir, self.failed_dir):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clear_stale_temporaries()
        # Pending entries' names by conversation tag, as this process last saw the folder plus
        # what it has written and removed since (see `pending`). The folder is the truth: the
        # index starts empty, is rebuilt from the folder by every full listing, and writer
        # threads and the event loop both change it, so under a lock.
        self._index: dict[str, set[str]] = {}
        self._listed_at: float | None = None
        self._index_lock = threading.Lock()
        # Batch files standing for entries whose own files are not synced (keep_batch).
        self._coverage = Coverage()
        self.recover_batches()

    def _clear_stale_temporaries(self) -> None:
        """Half-written files from a process killed mid-write: never entries, so safe to remove
        once old enough that no live process can still be writing them."""
        cutoff = time.time() - _STALE_TEMPORARY_SECONDS
        for directory in (self.pending_dir, self.failed_dir):
            for temporary in directory.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    if temporary.stat().st_mtime < cutoff:
                        temporary.unlink()

    # -- writing -------------------------------------------------------------------------

    def write(self, entry: Entry, path: Path | None = None) -> Path:
        """Keep an entry durably; it is on disk (not just in a cache) when this returns. `path`
        is a place taken earlier with `place`, so the entry's place in the order is the moment
        it arrived, not the moment the disk finished writing it."""
        [written] = self._write_entries([(entry, path or self.place(entry))])
        if isinstance(written, Exception):
            raise written
        return written

    def write_group(self, entries: Sequence[tuple[Entry, Path]]) -> list[Path | Exception]:
        """Keep several entries durably at once, each at the place taken for it: the group is
        kept as one batch (`keep_batch`), then each entry is put at its place (`place_kept`).
        For each entry, its path once it is on disk at its place, or the reason it is not (the
        disk refused it, or it could not be encoded). A group of one is a plain `write`."""
        if len(entries) == 1:
            try:
                return [self.write(*entries[0])]
            except (OSError, ValueError) as exc:
                return [exc]
        outcomes: list[Kept | Path | Exception] = list(self.keep_batch(entries))
        kept = [(n, o) for n, o in enumerate(outcomes) if isinstance(o, Kept)]
        for (n, _), placed in zip(kept, self.place_kept([k for _, k in kept]), strict=True):
            outcomes[n] = placed
        return [o for o in outcomes if not isinstance(o, Kept)]

    def keep_batch(self, entries: Sequence[tuple[Entry, Path]]) -> list[Kept | Exception]:
        """Keep several entries durably as one batch file (storage.journal_batches): for each,
        its bytes once the batch is on disk (then `place_kept` puts it at its own place), or
        the reason it is not kept (it could not be encoded, or the disk refused the batch)."""
        outcomes = self.seal(entries)
        refused = self.keep_sealed([o for o in outcomes if isinstance(o, Kept)])
        if refused is None:
            return outcomes
        return [refused if isinstance(outcome, Kept) else outcome for outcome in outcomes]

    def seal(self, entries: Sequence[tuple[Entry, Path]]) -> list[Kept | Exception]:
        """Each entry's file bytes (encrypted when a key is configured), or why it cannot be
        encoded; pure work, with no disk, for `keep_sealed`."""
        outcomes: list[Kept | Exception] = []
        for entry, path in entries:
            try:
                outcomes.append(Kept(path, self._encode(entry)))
            except ValueError as exc:  # UnicodeEncodeError: what no encoding can write
                outcomes.append(exc)
        return outcomes

    def keep_sealed(self, kept: Sequence[Kept]) -> OSError | None:
        """Make sealed entries durable as one batch file: None once it is on disk, or why
        the disk refused it (then none of them is kept, and nothing is left behind)."""
        if not kept:
            return None
        batch = self.pending_dir / (
            f"batch-{time.time_ns():020d}-{os.getpid()}@{self.host}-{unique_hex()}{BATCH_SUFFIX}"
        )
        # Covered before it exists: an entry done before this returns still releases it.
        self._coverage.cover(batch, (k.path.name for k in kept))
        try:
            self._write_synced(batch, encode_batch([(k.path.name, k.data) for k in kept]))
        except OSError as exc:
            self._coverage.release(k.path.name for k in kept)
            _remove(batch)
            return exc
        return None

    def place_kept(self, kept: Sequence[Kept]) -> list[Path | Exception]:
        """Put entries kept in a batch at their own places, where turns and replays find them:
        written and renamed, not synced (their batch stands for them until they are done). For
        each, its path, or why the disk refused it (it stays in its batch: a restart takes it)."""
        outcomes: list[Path | Exception] = []
        for one in kept:
            try:
                descriptor, temporary = self._write_bytes(one.path, one.data)
                os.close(descriptor)
                os.replace(temporary, one.path)
            except OSError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(one.path)
        self._note_written(p for p in outcomes if isinstance(p, Path))
        return outcomes

    def _write_synced(self, path: Path, data: bytes) -> None:
        """`data` at `path`, atomically and durably: synced, renamed, the folder synced."""
        descriptor, temporary = self._write_bytes(path, data)
        try:
            os.fsync(descriptor)
        except BaseException:
            os.close(descriptor)
            _remove(temporary)
            raise
        os.close(descriptor)
        try:
            os.replace(temporary, path)
        except BaseException:
            _remove(temporary)
            raise
        _synced(path.parent)

    def batches(self) -> list[Path]:
        """The batch files in the pending folder, this process's and others'."""
        return sorted(self.pending_dir.glob(f"*{BATCH_SUFFIX}"))

    def recover_batches(self) -> int:
        """Put back, synced, every entry of each batch a process that has gone left behind,
        then delete the batch; how many batches. A batch of a process still running, or of
        another host (`adopt_batch`, once its lease has run out), is left alone."""
        recovered = 0
        for batch in self.batches():
            if self._coverage.tracks(batch):
                continue
            if belongs_to_another_live_process(batch, host=self.host):
                continue
            recovered += self.adopt_batch(batch)
        return recovered

    def adopt_batch(self, batch: Path) -> int:
        """Put a batch's entries back at their places, synced, and delete it: 1, or 0 if it
        has gone meanwhile. An entry already in place as its batch holds it is only synced."""
        try:
            records = decode_batch(batch.read_bytes())
        except FileNotFoundError:
            return 0
        except ValueError:
            log.error("journal batch %s is damaged; set aside", batch.name)
            os.replace(batch, self.failed_dir / batch.name)
            _synced(self.failed_dir)
            return 0
        restored: list[Path] = []
        for name, data in records:
            path = self.pending_dir / name
            try:
                on_disk: bytes | None = path.read_bytes()
            except FileNotFoundError:
                on_disk = None
            if on_disk is not None and (
                on_disk == data or self._decodes(on_disk) or not self._decodes(data)
            ):
                # Whole as the batch holds it, or rewritten since (newer, and synced then).
                _synced(path)
            else:
                descriptor, temporary = self._write_bytes(path, data)
                os.fsync(descriptor)
                os.close(descriptor)
                os.replace(temporary, path)
            restored.append(path)
        _synced(self.pending_dir)
        self._note_written(restored)
        _remove(batch)
        _synced(self.pending_dir)
        log.info("journal batch recovered: %d entries back in line", len(restored))
        return 1

    def place(self, entry: Entry) -> Path:
        """Where an entry arriving now goes: its name orders it among its conversation's, and
        names this process as its owner."""
        name = (
            f"{conversation_tag(entry.key)}-{time.time_ns():020d}-{os.getpid()}@{self.host}-"
            f"{unique_hex()}{_SUFFIX}"
        )
        return self.pending_dir / name

    def adopt(self, path: Path) -> Path | None:
        """Make another host's entry this process's own, keeping its place in the order (call
        only once the entry is claimed: storage.host_leases). None if it has gone meanwhile."""
        parts = path.name.split("-")
        target = path.with_name(
            f"{parts[0]}-{parts[1]}-{os.getpid()}@{self.host}-{unique_hex()}{_SUFFIX}"
        )
        try:
            os.rename(path, target)
        except FileNotFoundError:
            self._note_removed([path])
            return None
        self._note_removed([path])
        _synced(self.pending_dir)
        self._note_written([target])
        return target

    def _write_entries(
        self, entries: Sequence[tuple[Entry, Path]], *, new: bool = True
    ) -> list[Path | Exception]:
        """The disk work of `write` and of rewrites: each entry is written to a temporary file,
        its data synced, then renamed into place, and the folder synced, which is what makes
        the rename survive a power cut. (Groups of new entries go as batches: `keep_batch`.)

        `new` entries (arriving inputs) whose folder sync fails are taken away again; an entry
        rewritten in place (`new` False) stays, as it is the only copy there is."""
        paths = [path for _, path in entries]
        outcomes: list[Path | Exception] = list(paths)
        renamed: list[tuple[int, Path]] = []
        for place, (entry, path) in enumerate(entries):
            try:
                descriptor, temporary = self._write_temporary(path, entry)
            except (OSError, ValueError) as exc:
                outcomes[place] = exc
                continue
            try:
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
                os.replace(temporary, path)
            except OSError as exc:
                _remove(temporary)
                outcomes[place] = exc
            else:
                renamed.append((place, path))
        self._sync_folders(renamed, outcomes, new=new)
        return outcomes

    def _sync_folders(
        self, renamed: list[tuple[int, Path]], outcomes: list[Path | Exception], *, new: bool
    ) -> None:
        """Sync each folder entries were renamed into, once, so the renames survive a power
        cut; if it fails, so does every entry renamed into it."""
        for directory in {path.parent for _, path in renamed}:
            in_directory = [(place, path) for place, path in renamed if path.parent == directory]
            try:
                _synced(directory)
            except OSError as exc:
                for place, _ in in_directory:
                    outcomes[place] = exc
                if not new:
                    continue
                # Not known to be durable, so not journaled: taken away again (as far as the
                # disk allows), so that what was not promised is not taken a second time later.
                for _, path in in_directory:
                    _remove(path)
                self._note_removed(path for _, path in in_directory)
            else:
                self._note_written(path for _, path in in_directory)
                self._release(path.name for _, path in in_directory)

    def _write_temporary(self, path: Path, entry: Entry) -> tuple[int, Path]:
        """An entry's bytes written (not yet synced) to a new temporary file beside `path`:
        its open descriptor, and its name."""
        return self._write_bytes(path, self._encode(entry))

    def _encode(self, entry: Entry) -> bytes:
        """An entry's file bytes: sealed under the current key when there is one."""
        payload = json.dumps(entry.to_json(), ensure_ascii=False).encode()
        if self._keyring is not None:
            return _SEALED + self._keyring.encrypt_bytes(payload)
        return _PLAIN + payload

    def _write_bytes(self, path: Path, data: bytes) -> tuple[int, Path]:
        """`data` written (not synced) to a new temporary file beside `path`."""
        # Unique, so a temporary file left by a process killed mid-write never blocks a later
        # write of the same entry (stale ones are cleared when a journal is opened).
        temporary = path.with_name(f".{path.name}.{unique_hex()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        except BaseException:
            os.close(descriptor)
            _remove(temporary)
            raise
        return descriptor, temporary

    def _write_file(self, path: Path, entry: Entry) -> None:
        """Write one entry in place, atomically (rewrites, attempts, setting aside)."""
        [written] = self._write_entries([(entry, path)], new=False)
        if isinstance(written, Exception):
            raise written

    # -- reading -------------------------------------------------------------------------

    def read(self, path: Path) -> Entry:
        return self._decode(path.read_bytes(), path.name)

    def _decode(self, data: bytes, name: str) -> Entry:
        if data.startswith(_SEALED):
            if self._keyring is None:
                raise KeyMissing("a journal entry is encrypted and no key is configured")
            try:
                payload = self._keyring.decrypt_bytes(data[len(_SEALED) :])
            except InvalidToken as exc:  # another key, or damaged: either way, not readable
                raise KeyMissing("a journal entry cannot be read with the configured keys") from exc
        elif data.startswith(_PLAIN):
            payload = data[len(_PLAIN) :]
        else:
            raise ValueError(f"{name} is not a journal entry")
        return Entry.from_json(json.loads(payload))

    def _decodes(self, data: bytes) -> bool:
        try:
            self._decode(data, "a journal entry")
        except (KeyMissing, ValueError, KeyError, TypeError):
            return False
        return True

    def pending(self, key: ConversationKey | None = None) -> list[Path]:
        """Entries waiting, oldest first (one conversation's, given its key).

        Every turn looks for its conversation's, and under a burst a thousand entries may wait
        here: listing the folder for each turn would cost every turn more the longer the queue.
        So one conversation's are looked up in this process's index of the folder, which holds
        what the last listing found plus what this process has written and removed since; the
        folder is listed again (in one pass, with plain string tests) when that listing is
        older than a quarter of a second, so entries other processes write are seen within
        that; and each name found is checked still to be there, since others remove entries
        too. All entries (key None: the replay, the status) are always listed afresh."""
        if key is None or self._listing_is_stale():
            names = self._list()
            if key is None:
                return self._in_order(names)
        tag = conversation_tag(key)
        with self._index_lock:
            known = list(self._index.get(tag, ()))
        present = [name for name in known if os.path.exists(self.pending_dir / name)]
        if len(present) < len(known):
            self._note_removed(self.pending_dir / n for n in set(known) - set(present))
        return self._in_order(present)

    def only_in_batch(self, path: Path) -> bool:
        """Whether the entry is kept only in one of this process's batches: never at its own
        place (storage.group_commit), so no other process can see it, let alone take it."""
        return self._coverage.covers(path.name) and not os.path.exists(path)

    def _listing_is_stale(self) -> bool:
        listed_at = self._listed_at
        return listed_at is None or time.monotonic() - listed_at > _LISTING_FRESH_SECONDS

    def _list(self) -> list[str]:
        """Every pending entry's name, from the folder itself; the index is rebuilt from it.
        Listed under the index's lock: a write or removal finishing meanwhile changes the index
        only after the listing, so it is neither lost nor brought back by it."""
        with self._index_lock:
            listed_at = time.monotonic()
            with os.scandir(self.pending_dir) as entries:
                names = [
                    e.name
                    for e in entries
                    if e.name.endswith(_SUFFIX) and not e.name.startswith(".")
                ]
            self._index = {}
            for name in names:
                self._index.setdefault(name.split("-", 1)[0], set()).add(name)
            self._listed_at = listed_at
        return names

    def _in_order(self, names: Iterable[str]) -> list[Path]:
        return sorted((self.pending_dir / name for name in names), key=_arrival)

    def _note_written(self, paths: Iterable[Path]) -> None:
        with self._index_lock:
            for path in paths:
                if path.parent == self.pending_dir:
                    self._index.setdefault(path.name.split("-", 1)[0], set()).add(path.name)

    def _note_removed(self, paths: Iterable[Path]) -> None:
        removed = [path.name for path in paths]
        with self._index_lock:
            for name in removed:
                tag = name.split("-", 1)[0]
                names = self._index.get(tag)
                if names is not None:
                    names.discard(name)
                    if not names:
                        del self._index[tag]
        self._release(removed)

    def _release(self, names: Iterable[str]) -> None:
        """Entries gone, or synced on their own: a batch standing for none of them any more is
        deleted (not synced: if that is lost in a crash, its entries are taken again, and
        their delivery ids make that a no-op)."""
        for batch in self._coverage.release(names):
            _remove(batch)

    def _in_batches(self) -> list[str]:
        """The names of entries that batches still stand for: this process's from its own
        record, others' from their batch files."""
        names = self._coverage.names()
        for batch in self.batches():
            if self._coverage.tracks(batch):
                continue
            try:
                names += [name for name, _ in decode_batch(batch.read_bytes())]
            except (FileNotFoundError, ValueError):
                continue  # gone meanwhile, or damaged (the next start sets it aside)
        return names

    def failed(self) -> list[Path]:
        return sorted(self.failed_dir.glob(f"*{_SUFFIX}"), key=_arrival)

    def waiting(self) -> Backlog:
        """What waits: the entries at their places, and those still only in batches (queued
        for their turns in a running server). This process's own batches are known entry by
        entry; another running process's are read from their files, which may still name a
        few entries whose turns have just finished (a batch goes once all of its are done)."""
        pending, failed = self.pending(), self.failed()
        placed = {p.name for p in pending}
        in_batches = {name for name in self._in_batches() if name not in placed}
        waiting = [*pending, *(self.pending_dir / name for name in in_batches)]
        oldest = min((_arrival(p) for p in waiting), default=None)
        return Backlog(
            pending=len(waiting),
            failed=len(failed),
            oldest=datetime.fromtimestamp(oldest[0] / 1e9, UTC) if oldest is not None else None,
        )

    # -- finishing -----------------------------------------------------------------------

    def done(self, path: Path) -> None:
        """The turn is saved; the entry goes. Not synced: if the removal is lost in a crash,
        the entry is taken again and its delivery id makes that a no-op."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._note_removed([path])

    def rewrite(self, path: Path, entry: Entry) -> None:
        """Replace an entry in place (atomically), keeping its place in the order."""
        self._write_file(path, entry)

    def note_attempt(self, path: Path, entry: Entry, problem: str) -> Entry:
        """Count a failed attempt in the entry itself, so IT can see how long it has waited."""
        updated = replace(entry, attempts=entry.attempts + 1, problem=problem[:200])
        self._write_file(path, updated)
        return updated

    def set_aside(self, path: Path, entry: Entry, problem: str) -> Path:
        """Move an entry that cannot be taken (a fault other than the database) out of the
        way of the person's later messages, keeping it for `policybot journal retry`."""
        updated = replace(entry, attempts=entry.attempts + 1, problem=problem[:200])
        target = self.failed_dir / path.name
        self._write_file(target, updated)
        self.done(path)
        return target

    def set_aside_unreadable(self, path: Path) -> Path:
        """An entry that cannot even be read (damaged on disk) is moved aside as it is."""
        target = self.failed_dir / path.name
        os.replace(path, target)
        self._note_removed([path])
        _synced(self.failed_dir)
        return target

    def retry_failed(self) -> int:
        """Put every set-aside entry back in line, in its original place by arrival."""
        moved: list[Path] = []
        for path in self.failed():
            os.replace(path, self.pending_dir / path.name)
            moved.append(self.pending_dir / path.name)
        if moved:
            _synced(self.pending_dir)
            self._note_written(moved)
        return len(moved)

    @contextlib.contextmanager
    def claimed(self, path: Path) -> Iterator[bool]:
        """Whether this process may take the entry now: False while another process on this
        machine is taking it (an advisory lock the system releases if that process dies). An
        entry only in this process's batch is this process's alone."""
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            yield self._coverage.covers(path.name)
            return
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield path.exists()
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class Owner:
    """The process that wrote an entry: its id, and its host (None in names written before
    entries named their host, which were all this machine's)."""

    pid: int
    host: str | None


def owner_of(path: Path) -> Owner | None:
    """Who wrote an entry, from its name (`<tag>-<time>-<pid>@<host>-<uuid>.entry`; a host
    name may itself hold "-"), or None for a name that does not say."""
    parts = path.name.removesuffix(_SUFFIX).split("-")
    if len(parts) < 4:
        return None
    pid, _, host = "-".join(parts[2:-1]).partition("@")
    if not pid.isdigit():
        return None
    return Owner(int(pid), host or None)


def belongs_to_another_live_process(
    path: Path, *, host: str | None = None, orphaned_after: float = 600.0
) -> bool:
    """Whether another process wrote this entry and may still be taking it, so it is that
    process's to finish (it may be in the middle of the turn).

    On this machine (`host`, by default the host name): an entry whose process has gone
    (killed, restarted) is anyone's to take, as is one older than `orphaned_after` seconds, in
    case its process id has been reused. Another host's entry is that host's: it is taken over
    only once the host's lease has run out (storage.host_leases), which renames it."""
    owner = owner_of(path)
    if owner is None:
        return False  # written before entries named their process
    if owner.host is not None and owner.host != (host or socket.gethostname()):
        return True
    try:
        written = int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return False
    if owner.pid == os.getpid() or time.time_ns() - written > orphaned_after * 1e9:
        return False
    return running(owner.pid)


def arrived_before(earlier: Path, later: Path) -> bool:
    """Whether an entry came before another, in the journal's order (its name's time)."""
    return _arrival(earlier) < _arrival(later)


def _arrival(path: Path) -> tuple[int, str]:
    parts = path.name.split("-")
    try:
        return int(parts[1]), path.name
    except (IndexError, ValueError):
        return 0, path.name


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _synced(path: Path) -> None:
    """Sync a file's data, or a folder's names (so a rename in it survives a power cut, not
    only a crash)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
