"""The backup archive: one tar file (gzip-compressed when its name ends in .gz or .tgz).

```
database/<table>.jsonl   every row of one table, one JSON object a line, in primary-key order
evidence/<name>          every evidence file exactly as stored (encrypted ones stay encrypted)
manifest.json            what the archive holds: the SHA-256 of every other member, the rows
                         of each table and its columns' kinds, the schema revision, the version
                         of policybot, when it was taken, and the ids of the keys that
                         encrypted things (ids only: the archive holds no key)
```

A restore believes nothing it has not checked: `verified` reads every member and compares it
with the manifest before anything is written, and `ArchiveReader.read` checks each member again
as it is used, so a file changed between the two is caught as well.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import tarfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Final

FORMAT: Final = "policybot-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
TABLES: Final = "database/"
EVIDENCE: Final = "evidence/"
_MEMBER = re.compile(r"^(database/[a-z0-9_]+\.jsonl|evidence/[A-Za-z0-9]{32})$")
_CHUNK = 1024 * 1024
_LISTED = 5  # names shown in a message before "and N more"


class ArchiveRejected(Exception):
    """The archive is not as its manifest says (a member changed, missing or added), or it is
    not a policybot backup at all; the message says which, for the person restoring."""


@dataclass(frozen=True)
class TableInfo:
    rows: int
    columns: dict[str, str]  # column name -> kind (storage.backup_database.kind_of)


@dataclass(frozen=True)
class Manifest:
    app_version: str
    schema_revision: str
    created_at: str
    database: str  # which kind of database it was taken from: sqlite or postgresql
    tables: dict[str, TableInfo]
    evidence_files: int
    # Key id -> how many encrypted values (or files) it encrypted; "unknown" counts those no
    # configured key made, when the backup was taken.
    value_keys: dict[str, int]
    file_keys: dict[str, int]
    audit_key_ids: list[str]  # the keys the audit chain was sealed with (audit_keying)
    members: dict[str, str] = field(default_factory=dict)  # member name -> sha256
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw: dict[str, Any] = json.loads(data)
            if raw.get("format") != FORMAT:
                raise ArchiveRejected("This is not a policybot backup (its manifest says so).")
            if raw.get("format_version") != FORMAT_VERSION:
                raise ArchiveRejected(
                    f"This backup's format ({raw.get('format_version')}) is not one this "
                    f"version of policybot reads ({FORMAT_VERSION})."
                )
            raw["tables"] = {
                name: TableInfo(rows=int(t["rows"]), columns=dict(t["columns"]))
                for name, t in raw["tables"].items()
            }
            return cls(**raw)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArchiveRejected("The backup's manifest cannot be read.") from exc


def table_member(table: str) -> str:
    return f"{TABLES}{table}.jsonl"


def evidence_member(name: str) -> str:
    return f"{EVIDENCE}{name}"


class ArchiveWriter:
    """Writes the archive under a temporary name in the same directory, and puts it in place
    only when it is whole (never over an existing file), readable by its owner only."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.members: dict[str, str] = {}
        self._draft = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
        descriptor = os.open(self._draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(descriptor, "wb")
        compressed = out.name.endswith((".gz", ".tgz"))
        self._tar = tarfile.open(  # noqa: SIM115 (closed by finish or abandon)
            fileobj=self._file, mode="w:gz" if compressed else "w"
        )

    def add(self, name: str, source: IO[bytes], size: int) -> None:
        """Add `size` bytes read from `source` (positioned at their start) as member `name`."""
        digest = hashlib.sha256()
        start = source.tell()
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
        source.seek(start)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(time.time())
        self._tar.addfile(info, source)
        self.members[name] = digest.hexdigest()

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, io.BytesIO(data), len(data))

    def finish(self, manifest: Manifest) -> Path:
        manifest = replace(manifest, members=dict(self.members))
        data = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        try:
            os.link(self._draft, self.out)  # fails, rather than replaces, if out appeared
        finally:
            self._draft.unlink()
        return self.out

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self._tar.close()
        with contextlib.suppress(Exception):
            self._file.close()
        self._draft.unlink(missing_ok=True)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveRejected(f"{path} cannot be read as a backup archive ({exc}).") from exc


def verified(path: Path) -> Manifest:
    """The archive's manifest, once every member has been read and found as it says: raises
    ArchiveRejected naming what was changed, is missing or was added."""
    found: dict[str, str] = {}
    manifest_data: bytes | None = None
    with _open(path) as tar:
        try:
            for member in tar:
                if member.name in found or (member.name == MANIFEST and manifest_data):
                    raise ArchiveRejected(f"The archive holds {member.name} twice.")
                if not member.isfile():
                    raise ArchiveRejected(f"The archive holds {member.name}, which is not a file.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has content
                if member.name == MANIFEST:
                    manifest_data = source.read()
                    continue
                digest = hashlib.sha256()
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                found[member.name] = digest.hexdigest()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveRejected(f"{path} is damaged: it cannot be read to the end.") from exc
    if manifest_data is None:
        raise ArchiveRejected("The archive has no manifest.json: it is not a policybot backup.")
    manifest = Manifest.from_json(manifest_data)
    expected = manifest.members
    changed = sorted(n for n in found if n in expected and found[n] != expected[n])
    missing = sorted(n for n in expected if n not in found)
    extra = sorted(n for n in found if n not in expected)
    problems = []
    if changed:
        problems.append(f"changed since the backup was taken: {_listed(changed)}")
    if missing:
        problems.append(f"missing: {_listed(missing)}")
    if extra:
        problems.append(f"not in the backup as taken: {_listed(extra)}")
    malformed = sorted(n for n in expected if not _MEMBER.match(n))
    if malformed:
        problems.append(f"not members a backup has: {_listed(malformed)}")
    if problems:
        raise ArchiveRejected(
            "The archive is not as it was written. Members " + "; ".join(problems) + "."
        )
    return manifest


def verify_counts(table: str, loaded: int, expected: int) -> None:
    """The rows restored of `table` are as many as the manifest says were backed up."""
    if loaded != expected:
        raise ArchiveRejected(
            f"The archive holds {loaded} rows of {table}, and its manifest says {expected}."
        )


class ArchiveReader:
    """Members of an archive already `verified`, each checked again as it is read."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self._tar = _open(path)
        self._manifest = manifest

    def read(self, name: str) -> bytes:
        try:
            source = self._tar.extractfile(name)
            data = source.read() if source is not None else b""
        except (KeyError, tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveRejected(f"{name} could not be read from the archive again.") from exc
        if hashlib.sha256(data).hexdigest() != self._manifest.members.get(name):
            raise ArchiveRejected(f"{name} changed while it was being restored.")
        return data

    def lines(self, name: str) -> Iterator[bytes]:
        yield from self.read(name).splitlines()

    def close(self) -> None:
        self._tar.close()
