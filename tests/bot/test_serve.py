"""`policybot serve` as an administrator runs it: a real process, talking to a fake Slack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlack, signed_headers

POLICYBOT = Path(sys.executable).parent / "policybot"
SECRET = "serve-test-secret"


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


async def test_serve_answers_a_signed_slack_event_and_reports_health(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeSlack() as fake:
        port = free_port()
        env = {
            **os.environ,
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.base_url,
            "PORT": str(port),
        }
        env.pop("SLACK_APP_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            str(POLICYBOT),
            "serve",
            "--host",
            "127.0.0.1",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                await wait_healthy(session, base)
                async with session.get(f"{base}/readyz") as response:
                    assert response.status == 200
                    assert (await response.json()) == {"status": "ready"}
                body = json.dumps(
                    {
                        "type": "event_callback",
                        "team_id": "T0001",
                        "event_id": "EvSERVE1",
                        "event_time": int(time.time()),
                        "event": {
                            "type": "message",
                            "channel": "DU0SAM",
                            "channel_type": "im",
                            "user": "U0SAM",
                            "text": "report",
                            "ts": "1700000000.000100",
                        },
                    }
                )
                async with session.post(
                    f"{base}/slack/events", data=body, headers=signed_headers(body, "wrong")
                ) as response:
                    assert response.status == 401
                async with session.post(
                    f"{base}/slack/events", data=body, headers=signed_headers(body, SECRET)
                ) as response:
                    assert response.status == 200
                posts = await fake.wait_for("chat.postMessage", count=2, timeout=15)
                assert any("Who is being targeted?" in json.dumps(p.body) for p in posts)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
        assert process.returncode == 0, stderr.decode()[-2000:]
        assert b"Traceback" not in stderr
