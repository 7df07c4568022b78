"""Which process on this machine owns a piece of work, and whether it is still running.

Work that one process has started and another may finish (a journaled message, a reply being
sent) names its process, so a process that has stopped (killed, restarted) leaves its work to
the others at once, while a running one is left to finish.
"""

from __future__ import annotations

import os
import socket

__all__ = ["running", "this_process", "was_stopped"]


def this_process() -> str:
    """This process, as host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def running(pid: int) -> bool:
    """Whether a process with this id runs on this machine (as any user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, as another user
    return True


def was_stopped(owner: str) -> bool:
    """Whether the process named host:pid is known to have stopped. A process on another host
    cannot be seen from here, so it is never known to have stopped."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and not running(int(pid))
