"""`policybot serve` as an administrator runs it, for tests: a real process on a free port.

Several tests need the real server (signals, logs on stderr, ports, a process that can be
killed), and each used to start it, wait for it and stop it in its own words. This is the one
way: `serving` starts it with the environment given, waits for /healthz, and on leaving stops
it with SIGINT and keeps what it wrote to stderr, so a test can assert on the log afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.slack_api import FakeSlack

POLICYBOT = Path(sys.executable).parent / "policybot"
# Variables a test's server must not inherit from the shell that runs the suite: an
# administrator's own Slack or Facebook app, or settings meant for another installation.
_NOT_INHERITED = ("SLACK_", "POLICYBOT_", "FACEBOOK_")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(150):
        try:
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("policybot serve did not become healthy")


def serve_env(data_dir: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The shell's environment without anything of the bot's, plus this installation's."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    return {
        **inherited,
        "POLICYBOT_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        **settings,
    }


def slack_env(fake: FakeSlack, secret: str) -> dict[str, str]:
    """Settings for Slack over HTTP (no Socket Mode) against the fake Slack."""
    return {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": fake.base_url,
    }


def slack_message(text: str, event_id: str, *, files: list[dict[str, Any]] | None = None) -> str:
    """The body Slack posts to /slack/events when Sam writes to the bot in a direct message."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": "DU0SAM",
        "channel_type": "im",
        "user": "U0SAM",
        "text": text,
        "ts": f"{time.time():.6f}",
    }
    if files:
        event.update(subtype="file_share", files=files)
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )


@dataclass
class Served:
    """A running `policybot serve`; `log` and `returncode` are filled once it has stopped."""

    process: asyncio.subprocess.Process
    port: int
    log: str = field(default="")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def returncode(self) -> int | None:
        return self.process.returncode


@asynccontextmanager
async def serving(
    env: Mapping[str, str], *options: str, port: int | None = None
) -> AsyncIterator[Served]:
    """Run `policybot [options] serve --host 127.0.0.1` until the block ends (or the test kills
    it), then stop it as systemd would and keep its stderr in `Served.log`."""
    port = free_port() if port is None else port
    process = await asyncio.create_subprocess_exec(
        str(POLICYBOT),
        *options,
        "serve",
        "--host",
        "127.0.0.1",
        env={**env, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    served = Served(process, port)
    try:
        async with aiohttp.ClientSession() as session:
            await wait_healthy(session, served.base)
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
        served.log = stderr.decode()
