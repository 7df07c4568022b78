"""`policybot -v serve` as an administrator runs it with POLICYBOT_METRICS_PORT: the metrics on
their own port on 127.0.0.1, not on the public one, and a JSON log on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlack, signed_headers
from tests.observability.support import Page
from tests.serving import free_port, serve_env, serving, slack_env, slack_message

SECRET = "serve-metrics-test-secret"


async def test_serve_gives_metrics_on_their_own_port_and_logs_json(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeSlack() as fake:
        metrics_port = free_port()
        env = serve_env(
            tmp_path / "data",
            database_url,
            **slack_env(fake, SECRET),
            POLICYBOT_METRICS_PORT=str(metrics_port),
        )
        async with serving(env, "-v") as served, aiohttp.ClientSession() as session:
            async with session.get(f"{served.base}/metrics") as response:
                assert response.status == 404  # never where Slack and Teams reach the bot
            body = slack_message("hello", "EvMETRICS1")
            async with session.post(
                f"{served.base}/slack/events", data=body, headers=signed_headers(body, SECRET)
            ) as response:
                assert response.status == 200
            await fake.wait_for("chat.postMessage", count=1, timeout=15)
            async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
                assert response.status == 200
                page = Page(await response.text())
    log = served.log
    assert served.returncode == 0, log[-2000:]

    assert page.value("policybot_acks_total", channel="slack", status="200") == 1
    assert page.value("policybot_database_up") == 1
    assert page.has("policybot_job_lag_seconds")  # the scheduler runs in `serve`
    lines = [json.loads(line) for line in log.splitlines()]
    assert lines, "nothing was logged with -v"
    assert all({"timestamp", "level", "logger", "event"} <= line.keys() for line in lines)
    assert any(line.get("logger") == "aiohttp.access" for line in lines)
    assert SECRET not in log
    assert fake.bot_token not in log
