"""The server's JSON log: one object a line, each with the id of the request it belongs to, and
never what anyone reported or a secret, at the most the command line lets it say (`-v`, INFO).

A report is filed through signed Slack requests as a person would file it, and a Teams message
arrives with a real Bot Framework token; the log is then read line by line.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.observability.logs import REDACTED, default_format, log_handler
from tests.channels.slack.harness import SECRET, SlackHarness, dm, text_of_calls
from tests.channels.teams.harness import SAM as TEAMS_SAM
from tests.fakes.botframework import APP_ID, APP_PASSWORD
from tests.fakes.slack_api import signed_headers
from tests.observability.conftest import Served

SAM = "U0SAM"
# What Sam reports: nothing of it may reach the log.
WHAT_HAPPENED = "Jordan Quillfeather posted that I am a disgrace and should be sacked"
WHERE = "https://facebook.com/posts/90210"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The root logger's lines as `policybot -v serve` writes them, in JSON."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def file_a_report(slack: SlackHarness) -> None:
    for step in (
        slack.say(SAM, "report"),
        slack.click(SAM, "me", label="Me"),
        slack.press_newest(SAM, "No"),
        slack.click(SAM, "Facebook", label="Facebook"),
        slack.say(SAM, WHERE),
        slack.say(SAM, "yesterday 4pm"),
        slack.say(SAM, WHAT_HAPPENED),
        slack.click(SAM, "skip", label="Skip"),
        slack.click(SAM, "parent", label="A parent or carer"),
        slack.click(SAM, "skip", label="Skip"),
        slack.say(SAM, "1, 4"),
    ):
        await slack.reply_to(SAM, step)
    done = await slack.reply_to(SAM, slack.click(SAM, "submit", label="Send it"))
    assert "Report sent: CB-" in text_of_calls(done)


def lines_of(log: io.StringIO) -> list[dict[str, object]]:
    text = log.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


async def test_a_report_and_a_teams_message_leave_json_lines_with_ids_and_no_secrets(
    served: Served, log: io.StringIO
) -> None:
    await file_a_report(served.slack)
    body = served.teams.message(TEAMS_SAM, "hello")
    headers = served.teams.fake.headers_for(body, app_id=APP_ID)
    status, _ = await served.teams.post(body, headers=headers)
    assert status == 201
    await served.settled()

    text = log.getvalue()
    lines = lines_of(log)
    # The log said something about this work: each request, and each turn.
    assert sum(line["logger"] == "aiohttp.access" for line in lines) >= 13
    turns = [line for line in lines if line["logger"] == "dialogs.conversations"]
    assert len(turns) >= 13
    assert all(str(line["event"]).startswith(("slack turn", "teams turn")) for line in turns)
    for line in lines:
        assert {"timestamp", "level", "logger", "event"} <= line.keys(), line
        assert isinstance(line.get("request_id"), str), line
        assert line["request_id"], line
    # Never what was reported, where, or any secret the bot holds or was sent.
    bearer = headers["Authorization"].split(" ", 1)[1]
    for never in (
        "Quillfeather",
        "disgrace",
        "posts/90210",
        SECRET,
        served.slack.fake.bot_token,
        APP_PASSWORD,
        bearer,
    ):
        assert never not in text, never
    # The reporter saw their words, so they were there to leak.
    assert WHAT_HAPPENED in text_of_calls(served.slack.posts_to(dm(SAM)))


async def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(
    served: Served, log: io.StringIO
) -> None:
    envelope = {
        "type": "event_callback",
        "team_id": "T0001",
        "event_id": "EvREQUESTID1",
        "event_time": 1_700_000_000,
        "event": {
            "type": "message",
            "channel": dm(SAM),
            "channel_type": "im",
            "user": SAM,
            "text": "hello",
            "ts": "1700000000.000100",
        },
    }
    body = json.dumps(envelope)
    headers = {**signed_headers(body, SECRET), "X-Request-Id": "edge-7f3a.91"}
    response = await served.slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 200
    assert response.headers["X-Request-Id"] == "edge-7f3a.91"
    await served.settled()

    forged = {"X-Request-Id": 'x" injected\\u000a'}
    response = await served.slack.client.get("/healthz", headers=forged)
    made = response.headers["X-Request-Id"]
    assert made != forged["X-Request-Id"]
    assert made.isalnum()

    lines = lines_of(log)
    kept = [line for line in lines if line.get("request_id") == "edge-7f3a.91"]
    # The access line, and the turn taken after Slack was answered, in a task of its own.
    assert {line["logger"] for line in kept} >= {"aiohttp.access", "dialogs.conversations"}
    assert any(line.get("request_id") == made for line in lines)


def test_fields_named_like_secrets_and_tokens_in_text_are_masked() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.observability.masking")
    handler = log_handler("json", stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info(
            "calling with xoxb-1234-5678-abcdef and "
            "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            extra={"slack_token": "xoxb-1", "Authorization": "Basic dXNlcg==", "school": "oak"},
        )
        try:
            raise ValueError("xapp-1-A0001-secret")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == f"calling with {REDACTED} and {REDACTED}"
    assert first["slack_token"] == REDACTED
    assert first["Authorization"] == REDACTED
    assert first["school"] == "oak"
    assert "xapp-1" not in second["exception"]
    assert "ValueError" in second["exception"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_server_logs_json_unless_a_person_reads_its_terminal() -> None:
    assert default_format(server=True, stream=io.StringIO()) == "json"
    assert default_format(server=True, stream=_Terminal()) == "text"
    # The other commands' few lines are for a person, wherever they go.
    assert default_format(server=False, stream=io.StringIO()) == "text"
