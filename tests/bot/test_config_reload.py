"""The configuration's people and roles change without a restart (bot.config_reload)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import SAMPLE_CONFIG, load_settings
from bot.config_reload import ConfigReloader
from bot.runtime import Runtime, build_runtime
from dialogs.services.school.schools import Role
from tests.conftest import Clock


@pytest.fixture
def config(tmp_path: Path) -> Path:
    shutil.copy(SAMPLE_CONFIG.parent / "policy.md", tmp_path / "policy.md")
    path = tmp_path / "policybot.toml"
    shutil.copy(SAMPLE_CONFIG, path)
    return path


@pytest.fixture
async def runtime(
    config: Path, tmp_path: Path, database_url: str, clock: Clock
) -> AsyncIterator[Runtime]:
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(config),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
        }
    )
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    await runtime.close()


def sams_roles(runtime: Runtime) -> frozenset[Role]:
    school = runtime.directory.school("oakfield")
    assert school is not None
    sam = school.person("sam")
    assert sam is not None
    return sam.roles


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def change_unseen(config: Path, reloader: ConfigReloader, old: str, new: str) -> None:
    """Edit the file so the watcher cannot tell (its size, mtime and inode as it last saw)."""
    stat = config.stat()
    edit(config, old, new)
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    now = config.stat()
    reloader._seen = (now.st_mtime_ns, now.st_size, now.st_ino)


def make_sam_a_moderator(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    before = 'id = "sam"\nname = "Sam Patel"\nroles = ["staff"]'
    assert before in text
    config.write_text(text.replace(before, before[:-1] + ', "moderator"]'), encoding="utf-8")


async def test_a_role_given_in_the_file_takes_effect_without_a_restart(
    runtime: Runtime, config: Path
) -> None:
    reloader = ConfigReloader(runtime)
    assert Role.MODERATOR not in sams_roles(runtime)
    make_sam_a_moderator(config)
    assert reloader.changed()
    assert reloader.reload()
    assert Role.MODERATOR in sams_roles(runtime)
    assert not reloader.changed()  # read once


async def test_a_bad_file_keeps_the_old_configuration_and_says_why(
    runtime: Runtime, config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reloader = ConfigReloader(runtime)
    edit(config, 'roles = ["staff"]', 'roles = ["boss"]')
    with caplog.at_level(logging.ERROR):
        assert not reloader.reload()
    assert "the old one stays in force" in caplog.text
    assert "schools[0].people[0].roles[0]" in caplog.text  # what is wrong, as at start-up
    assert sams_roles(runtime) == frozenset({Role.STAFF})

    await asyncio.to_thread(config.write_text, "[[schools]\n", encoding="utf-8")  # half-written
    assert not reloader.reload()
    assert sams_roles(runtime) == frozenset({Role.STAFF})


async def test_the_server_reloads_when_the_file_changes_and_on_sighup(
    runtime: Runtime, config: Path
) -> None:
    reloader = ConfigReloader(runtime)
    watching = asyncio.create_task(reloader.watch(every_seconds=0.02))
    try:
        make_sam_a_moderator(config)
        for _ in range(250):
            if Role.MODERATOR in sams_roles(runtime):
                break
            await asyncio.sleep(0.02)
        assert Role.MODERATOR in sams_roles(runtime)

        # A change the watcher cannot see (same size, mtime and inode restored) still loads on
        # SIGHUP, as administrators expect of a server.
        change_unseen(config, reloader, '"moderator"', '"approver" ')
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(250):
            if Role.APPROVER in sams_roles(runtime):
                break
            await asyncio.sleep(0.02)
        assert Role.APPROVER in sams_roles(runtime)
    finally:
        watching.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watching
