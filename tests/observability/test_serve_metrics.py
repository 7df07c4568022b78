"""`policybot -v serve` as an administrator runs it with POLICYBOT_METRICS_PORT: the metrics on
their own port on 127.0.0.1, not on the public one, and a JSON log on stderr."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import aiohttp

from tests.bot.test_serve import POLICYBOT, free_port, wait_healthy
from tests.fakes.slack_api import FakeSlack, signed_headers
from tests.observability.support import Page

SECRET = "serve-metrics-test-secret"


async def test_serve_gives_metrics_on_their_own_port_and_logs_json(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeSlack() as fake:
        port, metrics_port = free_port(), free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "POLICYBOT_"))},
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.base_url,
            "PORT": str(port),
            "POLICYBOT_METRICS_PORT": str(metrics_port),
        }
        process = await asyncio.create_subprocess_exec(
            str(POLICYBOT),
            "-v",
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
                async with session.get(f"{base}/metrics") as response:
                    assert response.status == 404  # never where Slack and Teams reach the bot
                body = json.dumps(
                    {
                        "type": "event_callback",
                        "team_id": "T0001",
                        "event_id": "EvMETRICS1",
                        "event_time": int(time.time()),
                        "event": {
                            "type": "message",
                            "channel": "DU0SAM",
                            "channel_type": "im",
                            "user": "U0SAM",
                            "text": "hello",
                            "ts": "1700000000.000100",
                        },
                    }
                )
                async with session.post(
                    f"{base}/slack/events", data=body, headers=signed_headers(body, SECRET)
                ) as response:
                    assert response.status == 200
                await fake.wait_for("chat.postMessage", count=1, timeout=15)
                async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
                    assert response.status == 200
                    page = Page(await response.text())
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]

    assert page.value("policybot_acks_total", channel="slack", status="200") == 1
    assert page.value("policybot_database_up") == 1
    assert page.has("policybot_job_lag_seconds")  # the scheduler runs in `serve`
    lines = [json.loads(line) for line in log.splitlines()]
    assert lines, "nothing was logged with -v"
    assert all({"timestamp", "level", "logger", "event"} <= line.keys() for line in lines)
    assert any(line.get("logger") == "aiohttp.access" for line in lines)
    assert SECRET not in log
    assert fake.bot_token not in log
