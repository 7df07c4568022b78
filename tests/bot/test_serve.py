"""`policybot serve` as an administrator runs it: a real process, talking to a fake Slack."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.fakes.slack_api import FakeSlack, signed_headers
from tests.serving import serve_env, serving, slack_env, slack_message

SECRET = "serve-test-secret"


async def test_serve_answers_a_signed_slack_event_and_reports_health(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeSlack() as fake:
        env = serve_env(tmp_path / "data", database_url, **slack_env(fake, SECRET))
        async with serving(env) as served, aiohttp.ClientSession() as session:
            async with session.get(f"{served.base}/readyz") as response:
                assert response.status == 200
                assert (await response.json()) == {"status": "ready"}
            body = slack_message("report", "EvSERVE1")
            async with session.post(
                f"{served.base}/slack/events", data=body, headers=signed_headers(body, "wrong")
            ) as response:
                assert response.status == 401
            async with session.post(
                f"{served.base}/slack/events", data=body, headers=signed_headers(body, SECRET)
            ) as response:
                assert response.status == 200
            posts = await fake.wait_for("chat.postMessage", count=2, timeout=15)
            assert any("Who is being targeted?" in json.dumps(p.body) for p in posts)
    assert served.returncode == 0, served.log[-2000:]
    assert "Traceback" not in served.log
