"""The local evidence store, copied out and back in as stored (ArchivableBlobStore): what
`policybot backup` reads and `policybot restore` writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from storage.blobstore import ArchivableBlobStore, LocalBlobStore


def test_files_come_out_as_stored_and_go_back_in_unchanged(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    source = LocalBlobStore(tmp_path / "source", keys=[key])
    target = LocalBlobStore(tmp_path / "target", keys=[key])
    archivable: ArchivableBlobStore = target  # LocalBlobStore is one

    async def go() -> None:
        names = sorted([await source.put(b"first screenshot"), await source.put(b"second")])
        # A write under way and a room check are not files of the store.
        (source.root / names[0][:2] / f"{names[0]}.part").write_bytes(b"half")
        (source.root / ".room-check-0123").write_bytes(b"x")
        assert await source.stored_names() == names
        for name in names:
            stored = await source.read_stored(name)
            assert b"first screenshot" not in stored  # ciphertext, as on disk
            await archivable.write_stored(name, stored)
            assert (target.root / name[:2] / name).read_bytes() == stored
        assert await target.stored_names() == names
        assert await target.get(names[0], encrypted=True) in {b"first screenshot", b"second"}

    asyncio.run(go())


def test_a_file_is_written_once_and_only_under_a_name_the_store_makes(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    async def go() -> None:
        name = await store.put(b"kept")
        with pytest.raises(FileExistsError):
            await store.write_stored(name, b"something else")
        assert await store.read_stored(name) == b"kept"
        for bad in ("../../etc/passwd", "a" * 31, "a" * 31 + "/", ""):
            with pytest.raises(ValueError, match="not a blob name"):
                await store.write_stored(bad, b"x")
        assert await store.stored_names() == [name]

    asyncio.run(go())


def test_an_empty_or_missing_store_has_no_files(tmp_path: Path) -> None:
    assert asyncio.run(LocalBlobStore(tmp_path / "never made").stored_names()) == []
