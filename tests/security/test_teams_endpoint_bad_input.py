"""POST /api/messages with bad input: tokens missing or forged on every kind of activity, bodies
too large, unreadable or mislabelled, and genuine activities delivered twice.

tests/channels/teams/test_teams_report.py already shows that a message with a bad token is 401
and that text/plain, "{not json", a JSON list and an unreadable activity are refused; this file
covers the other kinds of activity, the other faults, and replays.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bot.channels.teams import cards
from dialogs.home import START_REPORT
from storage.models import CaseEvent
from tests.channels.teams.harness import (
    DANA,
    SAFEGUARDING,
    SAM,
    TeamsHarness,
    channel_data,
    text_of,
)
from tests.fakes.botframework import APP_ID, CLOCK_LEEWAY_SECONDS
from tests.security.support import changed, counts, file_case, rows

# Refusals at the HTTP gate happen before any database is touched: SQLite only (it still counts
# the rows). Everything that reaches storage runs on both databases.
GATE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def post_raw(
    teams: TeamsHarness, data: bytes | str, headers: dict[str, str]
) -> tuple[int, str]:
    raw = data.encode() if isinstance(data, str) else data
    response = await teams.client.post("/api/messages", data=io.BytesIO(raw), headers=headers)
    return response.status, await response.text()


def note_form(reference: str, note: str = "Called the parent.") -> dict[str, Any]:
    """What Teams sends when the lead submits the note form in their 1:1 chat."""
    data = {"pb": "case_form", "verb": "note", "reference": reference, "text": note}
    return {"verb": cards.CASE_FORM, "data": data}


async def activity_of(teams: TeamsHarness, kind: str) -> dict[str, Any]:
    fake = teams.fake
    if kind == "button press":
        data = {"pb": "answer", "value": START_REPORT, "label": "Report online abuse"}
        return fake.invoke_action(
            cards.ANSWER, data, **{"from": SAM.account, "conversation": {"id": SAM.chat}}
        )
    if kind == "case form":
        form = note_form(await file_case(teams.runtime))
        return fake.invoke_action(
            form["verb"], form["data"], **{"from": DANA.account, "conversation": {"id": DANA.chat}}
        )
    # The bot added to the safeguarding team: the channel's address is remembered.
    return fake.conversation_update_added(
        members_added=[{"id": f"28:{APP_ID}"}],
        **{
            "from": DANA.account,
            "conversation": {"id": SAFEGUARDING, "conversationType": "channel", "isGroup": True},
            "channelData": {**channel_data(), "eventType": "teamMemberAdded"},
        },
    )


def bad_tokens(teams: TeamsHarness, body: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    json_type = {"Content-Type": "application/json"}

    def minted(**mint: Any) -> dict[str, str]:
        return teams.fake.headers_for(body, app_id=APP_ID, **mint)

    good = minted()["Authorization"]
    return [
        ("no Authorization", json_type),
        ("Bearer and nothing", {**json_type, "Authorization": "Bearer "}),
        ("Basic scheme", {**json_type, "Authorization": "Basic " + "QWxhZGRpbjpvcGVu"}),
        ("token without scheme", {**json_type, "Authorization": good.removeprefix("Bearer ")}),
        ("forged (wrong key)", minted(wrong_key=True)),
        ("unsigned (alg none)", minted(unsigned=True)),
        ("expired", minted(expires_in=-CLOCK_LEEWAY_SECONDS - 60)),
        ("for another bot", minted(audience="00000000-0000-0000-0000-000000000000")),
        ("for another service url", minted(service_url="https://smba.trafficmanager.net/amer/")),
        ("truncated", {**json_type, "Authorization": good[:-20]}),
    ]


# -- 1. tokens ----------------------------------------------------------------------------------


@GATE_ONLY
@pytest.mark.parametrize("kind", ["button press", "case form", "install"])
async def test_a_teams_activity_without_a_valid_token_gets_401_and_changes_nothing(
    teams: TeamsHarness, kind: str
) -> None:
    body = await activity_of(teams, kind)
    before, calls = await counts(teams.runtime), len(teams.fake.calls)

    for fault, headers in bad_tokens(teams, body):
        status, answer = await teams.post(body, headers=headers)
        assert (status, answer) == (401, {"error": "unauthorized"}), fault

    assert changed(before, await counts(teams.runtime)) == {}
    assert len(teams.fake.calls) == calls  # nothing was sent to anyone
    assert teams.fake.token_requests() == []  # the bot did not even log in
    # The same activity with a genuine token is acted on: the refusals were the token's.
    status, _ = await teams.post(body)
    assert status in (200, 201)
    assert changed(before, await counts(teams.runtime)) != {}


# -- 2. size, form and type ---------------------------------------------------------------------


@GATE_ONLY
async def test_a_teams_request_over_2_mb_is_refused_with_413_and_changes_nothing(
    teams: TeamsHarness,
) -> None:
    body = teams.message(SAM, "x" * (2 * 1024 * 1024))
    before = await counts(teams.runtime)

    for headers in (
        teams.fake.headers_for(body, app_id=APP_ID),
        {"Content-Type": "application/json"},
    ):
        status, answer = await post_raw(teams, json.dumps(body), headers)
        assert status == 413
        assert "Maximum request body size 2097152 exceeded" in answer

    assert changed(before, await counts(teams.runtime)) == {}
    assert teams.fake.calls == []


@GATE_ONLY
async def test_a_teams_body_that_is_not_an_activity_gets_400_and_changes_nothing(
    teams: TeamsHarness,
) -> None:
    activity = teams.message(SAM, "report")
    headers = teams.fake.headers_for(activity, app_id=APP_ID)
    bodies: list[tuple[bytes, str]] = [
        (b"", "the body is not valid JSON"),
        (b"null", "the body is not an activity"),
        (b'"message"', "the body is not an activity"),
        (b"42", "the body is not an activity"),
        (b"{}", "the body is not an activity"),
        (json.dumps({**activity, "type": 5}).encode(), "the body is not an activity"),
        (json.dumps({**activity, "type": None}).encode(), "the body is not an activity"),
        (json.dumps(activity).encode("utf-16"), "the body is not valid JSON"),
        (b'{"type": "message", "text": "\xff\xfe"}', "the body is not valid JSON"),
        (json.dumps({**activity, "conversation": []}).encode(), "the body is not an activity"),
        (json.dumps({**activity, "attachments": "x"}).encode(), "the body is not an activity"),
    ]
    before = await counts(teams.runtime)

    for body, error in bodies:
        status, answer = await post_raw(teams, body, headers)
        assert (status, json.loads(answer)) == (400, {"error": error}), body[:40]

    assert changed(before, await counts(teams.runtime)) == {}
    assert teams.fake.calls == []


@GATE_ONLY
async def test_a_deeply_nested_teams_body_gets_400_not_a_500(teams: TeamsHarness) -> None:
    body = b"[" * 100_000 + b"]" * 100_000  # 200 KB: well under the size limit
    before = await counts(teams.runtime)

    status, answer = await post_raw(teams, body, {"Content-Type": "application/json"})

    assert changed(before, await counts(teams.runtime)) == {}
    assert (status, answer) == (400, json.dumps({"error": "the body is not valid JSON"}))


@GATE_ONLY
async def test_a_teams_activity_that_is_not_labelled_json_gets_415_and_changes_nothing(
    teams: TeamsHarness,
) -> None:
    body = teams.message(SAM, "report")
    token = teams.fake.headers_for(body, app_id=APP_ID)["Authorization"]
    before = await counts(teams.runtime)

    for content_type in (
        None,
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "text/json",
    ):
        headers = {"Authorization": token}
        if content_type is not None:
            headers["Content-Type"] = content_type
        status, answer = await post_raw(teams, json.dumps(body), headers)
        assert (status, json.loads(answer)) == (415, {"error": "expected application/json"})

    assert changed(before, await counts(teams.runtime)) == {}
    assert teams.fake.calls == []


# -- 3. the same genuine activity twice ---------------------------------------------------------


async def test_a_teams_message_delivered_twice_is_answered_once(teams: TeamsHarness) -> None:
    body = teams.message(SAM, "report")
    before = await counts(teams.runtime)
    assert (await teams.post(body))[0] == 201
    first, sent = await counts(teams.runtime), len(teams.sent_to(SAM.chat))

    assert (await teams.post(body))[0] == 201  # acknowledged, so Teams stops retrying

    assert changed(before, first)["processed_event"] == 1
    assert changed(first, await counts(teams.runtime)) == {}
    assert len(teams.sent_to(SAM.chat)) == sent
    assert text_of(teams.sent_to(SAM.chat)).count("Who is being targeted?") == 1


async def test_a_teams_button_press_delivered_twice_is_acted_on_once(teams: TeamsHarness) -> None:
    body = await activity_of(teams, "button press")
    before = await counts(teams.runtime)
    status, answer = await teams.post(body)
    assert status == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    first, sent = await counts(teams.runtime), len(teams.sent_to(SAM.chat))

    status, _ = await teams.post(body)

    assert status == 200
    assert changed(before, first)["processed_event"] == 1
    assert changed(first, await counts(teams.runtime)) == {}
    assert len(teams.sent_to(SAM.chat)) == sent


async def test_a_teams_case_form_delivered_twice_adds_the_note_once(teams: TeamsHarness) -> None:
    body = await activity_of(teams, "case form")
    before = await counts(teams.runtime)
    assert (await teams.post(body))[0] == 200
    first = await counts(teams.runtime)

    assert (await teams.post(body))[0] == 200

    assert changed(before, first)["case_event"] == 1
    notes = [e.text for e in await rows(teams.runtime, CaseEvent) if e.kind == "note"]
    assert notes == ["Called the parent."]
    assert changed(first, await counts(teams.runtime)) == {}
