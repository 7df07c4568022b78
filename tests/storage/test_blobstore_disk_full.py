"""The evidence store when the disk has no room: nothing half-written stays, the failure is named
for what it is, and the store can say whether it has room for more."""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from storage.blobstore import LocalBlobStore, StorageFull
from tests.storage.test_evidence_disk_full import AlmostFullDisk

FILE = os.urandom(5 * 1024 * 1024)  # a phone video, or a long screen recording


def everything_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT], ids=["disk full", "quota full"])
async def test_a_disk_that_fills_part_way_through_a_file_leaves_nothing_behind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, encrypted: bool, error: int
) -> None:
    disk = AlmostFullDisk(room=2 * 1024 * 1024 + 17, error=error)
    keys = [Fernet.generate_key()] if encrypted else []
    store = LocalBlobStore(tmp_path, keys=keys, write=disk.write)

    with caplog.at_level(logging.INFO), pytest.raises(StorageFull):
        await store.put(FILE)

    assert disk.room == 0  # two megabytes went to the disk before it was full...
    assert everything_under(tmp_path) == []  # ...and are gone again
    assert "no space" in caplog.text
    assert errno.errorcode[error] in caplog.text


async def test_a_disk_that_fails_when_the_file_is_flushed_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some filesystems (NFS, or ext4 with delayed allocation) only find out at fsync."""

    def fsync(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    store = LocalBlobStore(tmp_path)

    with pytest.raises(StorageFull):
        await store.put(FILE)

    assert everything_under(tmp_path) == []


async def test_any_other_disk_error_is_raised_as_it_is_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    disk = AlmostFullDisk(room=1024 * 1024, error=errno.EIO)
    store = LocalBlobStore(tmp_path, write=disk.write)

    with pytest.raises(OSError, match="Input/output error") as raised:
        await store.put(FILE)

    assert raised.value.errno == errno.EIO
    assert not isinstance(raised.value, StorageFull)
    assert everything_under(tmp_path) == []


async def test_room_is_what_the_disk_really_has_free(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    free = shutil.disk_usage(tmp_path).free

    assert await store.shortage(reserve=1024 * 1024) is None
    short = await store.shortage(reserve=free * 4)
    assert short is not None
    assert "MB free" in short


async def test_after_running_out_of_room_the_store_is_short_until_a_file_fits_again(
    tmp_path: Path,
) -> None:
    """A quota can be full while the disk still shows free space: after a file failed for lack
    of room, the store checks by writing a small file of its own, and removes it."""
    disk = AlmostFullDisk(room=1024, error=errno.EDQUOT)
    store = LocalBlobStore(tmp_path, write=disk.write)
    with pytest.raises(StorageFull):
        await store.put(FILE)

    short = await store.shortage(reserve=1024 * 1024)
    assert short is not None
    assert "could not be written" in short
    assert await store.shortage(reserve=1024 * 1024) == short

    disk.make_room()
    assert await store.shortage(reserve=1024 * 1024) is None
    assert everything_under(tmp_path) == []
    name = await store.put(FILE)
    assert await store.get(name, encrypted=False) == FILE
