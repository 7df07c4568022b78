"""The access log of `policybot -v serve` never shows a secret sent in a query string.

Facebook checks a webhook by calling it with `hub.verify_token` in the query string, and other
callers put tokens there too; aiohttp's own access log prints the whole request line. Here a
real server runs as an administrator runs it, with `-v`, and its log is read from stderr.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.access_log import without_query_values
from tests.security.support import APP_SECRET, VERIFY_TOKEN
from tests.serving import serve_env, serving

WRONG_TOKEN = "a-guess-at-the-token-4711"
OTHER_SECRET = "query-secret-0815"


async def test_the_access_log_shows_the_request_but_no_query_value(
    tmp_path: Path, database_url: str
) -> None:
    env = serve_env(
        tmp_path / "data",
        database_url,
        FACEBOOK_APP_SECRET=APP_SECRET,
        FACEBOOK_VERIFY_TOKEN=VERIFY_TOKEN,
    )
    async with serving(env, "-v") as served, aiohttp.ClientSession() as session:
        # What Facebook sends when the webhook is subscribed, and a guess at the token.
        for token, expected in ((VERIFY_TOKEN, 200), (WRONG_TOKEN, 403)):
            query = urlencode(
                {
                    "hub.mode": "subscribe",
                    "hub.verify_token": token,
                    "hub.challenge": "1158201444",
                }
            )
            async with session.get(f"{served.base}/webhooks/facebook?{query}") as response:
                assert response.status == expected
        # A token some other caller puts in the query, on a path that does not exist.
        async with session.get(
            f"{served.base}/slack/oauth?code={OTHER_SECRET}&state=x"
        ) as response:
            assert response.status == 404
        async with session.get(
            f"{served.base}/healthz",
            headers={"Referer": f"https://example.org/?token={OTHER_SECRET}"},
        ) as response:
            assert response.status == 200
    log = served.log
    assert served.returncode == 0, log[-2000:]

    for secret in (VERIFY_TOKEN, WRONG_TOKEN, OTHER_SECRET, APP_SECRET):
        assert secret not in log
    # The log still says what was asked and how it was answered, naming the parameters.
    facebook = [line for line in log.splitlines() if "GET /webhooks/facebook?" in line]
    assert len(facebook) == 2, log[-2000:]
    assert "hub.verify_token=" in facebook[0]
    assert " 200 " in facebook[0]
    assert " 403 " in facebook[1]
    assert any("GET /slack/oauth?code=" in line and " 404 " in line for line in log.splitlines())


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/healthz", "/healthz"),
        ("/a?x=1&y=&flag", "/a?x=[redacted]&y=&[redacted]"),
        ("/a?tok%0Aen=%0Avalue", "/a?tok%0Aen=[redacted]"),
        ("https://example.org/p?token=abc#x?y=z", "https://example.org/p?token=[redacted]"),
    ],
)
def test_every_query_value_is_hidden_and_every_name_kept(target: str, logged: str) -> None:
    assert without_query_values(target) == logged
