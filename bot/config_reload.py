"""The configuration's schools and people, reloaded while the server runs.

Why: people join, leave and change roles during the year, and a safeguarding bot should not
need a restart (and a moment of being unreachable) for the IT administrator to name a new
deputy lead. The file is read again when it changes (checked every few seconds) or when the
process gets SIGHUP. Only the schools take effect this way: their people and roles, email
domains, channels and accounts. Everything else in the file (the data directory, upload limits)
and everything in the environment still needs a restart, and the log says so when it changed.

A file that does not validate (a typo, a half-written save) changes nothing: the old
configuration stays in force and the log names what is wrong, exactly as at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import read_directory
from dialogs.services.errors import ConfigError

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 5.0


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class ConfigReloader:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.path = runtime.settings.config_path
        self._seen = _stamp(self.path)

    def reload(self) -> bool:
        """Read the file again; True if its schools are now in force."""
        try:
            directory = read_directory(self.path)
        except ConfigError as exc:
            log.error("configuration not reloaded, the old one stays in force: %s", exc.message)
            return False
        self.runtime.staff.reconfigure(directory)
        people = sum(len(school.people) for school in directory.schools)
        log.info(
            "configuration reloaded: %d schools, %d people listed (other settings need a restart)",
            len(directory.schools),
            people,
        )
        return True

    def changed(self) -> bool:
        """Whether the file changed since it was last read (or looked at)."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._seen:
            return False
        self._seen = stamp
        return True

    async def watch(self, every_seconds: float = CHECK_EVERY_SECONDS) -> None:
        """Reload whenever the file changes, until cancelled; and on SIGHUP."""
        loop = asyncio.get_running_loop()
        # Not in the main thread, or no signals here: the file is still watched.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        try:
            while True:
                await asyncio.sleep(every_seconds)
                if self.changed():
                    self.reload()
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
