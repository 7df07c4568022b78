"""Drive the real aiohttp app and Bolt dispatcher with signed, real-shaped Slack payloads."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import DELIVERY, create_app
from bot.config import Settings, SlackSettings
from bot.runtime import Runtime, build_runtime
from dialogs.services.outbox import DeliveryResult
from tests.conftest import Clock
from tests.fakes.slack_api import Call, FakeSlack, signed_headers

SECRET = "test-signing-secret"
SAFEGUARDING = "C0SAFEGUARD"
_counter = itertools.count(1)


def dm(user: str) -> str:
    return "D" + user


def button_press(
    user: str,
    value: str | None,
    *,
    label: str,
    channel: str | None = None,
    message: dict[str, Any] | None = None,
    action_id: str = "pb.button.0",
    block_id: str = "b",
    state_values: dict[str, Any] | None = None,
    view_id: str | None = None,
) -> dict[str, Any]:
    """A real-shaped block_actions payload: a button pressed in a message, or in a view (the
    App Home: no channel, no message)."""
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": label},
        "action_ts": f"{time.time():.6f}{next(_counter)}",
    }
    if value is not None:
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": user},
        "api_app_id": "A0001",
        "trigger_id": f"trigger-{next(_counter)}",
        "actions": [action],
    }
    if view_id is not None:
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {"id": view_id, "type": "home", "blocks": []}
        return payload
    channel = channel or dm(user)
    message = message or {"ts": "1.1", "text": "", "blocks": []}
    payload["container"] = {
        "type": "message",
        "channel_id": channel,
        "message_ts": message.get("ts", "1.1"),
    }
    payload["channel"] = {"id": channel}
    payload["message"] = message
    if state_values is not None:
        payload["state"] = {"values": state_values}
    return payload


@dataclass
class SlackHarness:
    client: TestClient[Any, Any]
    fake: FakeSlack
    runtime: Runtime
    settings: Settings
    seen_posts: int = field(default=0)

    async def post(self, body: str, *, headers: dict[str, str] | None = None) -> int:
        response = await self.client.post(
            "/slack/events", data=body, headers=headers or signed_headers(body, SECRET)
        )
        await response.read()
        return response.status

    async def event(self, event: dict[str, Any], *, event_id: str | None = None) -> int:
        envelope = {
            "token": "unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_counter):08d}",
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post(json.dumps(envelope))

    async def say(
        self,
        user: str,
        text: str,
        *,
        files: list[dict[str, Any]] | None = None,
        event_id: str | None = None,
    ) -> int:
        event: dict[str, Any] = {
            "type": "message",
            "channel": dm(user),
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
        }
        if files:
            event.update(subtype="file_share", files=files)
        return await self.event(event, event_id=event_id)

    async def interact(self, payload: dict[str, Any]) -> int:
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def click(
        self,
        user: str,
        value: str,
        *,
        channel: str | None = None,
        label: str = "",
        message: dict[str, Any] | None = None,
        action_id: str = "pb.button.0",
    ) -> int:
        return await self.interact(
            button_press(
                user,
                value,
                label=label or value,
                channel=channel,
                message=message,
                action_id=action_id,
            )
        )

    async def press(self, user: str, posted: Call, label: str, *, ts: str = "1.1") -> int:
        """Press the button labelled `label` on a message the bot posted, exactly as Slack
        sends it back: its value, action_id and block_id, with the message it sits on."""
        for block in posted.body.get("blocks") or []:
            for element in block.get("elements") or [] if block.get("type") == "actions" else []:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    payload = button_press(
                        user,
                        element.get("value"),
                        label=label,
                        message={
                            "ts": ts,
                            "text": posted.body.get("text", ""),
                            "blocks": posted.body["blocks"],
                        },
                        action_id=element["action_id"],
                        block_id=block.get("block_id", "b"),
                    )
                    return await self.interact(payload)
        raise AssertionError(f"no {label!r} button in {text_of_calls([posted])}")

    async def press_newest(self, user: str, label: str) -> int:
        """Press the button labelled `label` on the newest message in the person's DM that
        has one, as Slack sends it (with the question its block names)."""
        for posted in reversed(self.posts_to(dm(user))):
            if any(element["text"]["text"] == label for element in buttons_of(posted)):
                return await self.press(user, posted, label)
        raise AssertionError(f"no {label!r} button in {user}'s DM")

    async def respond(self, body: str) -> tuple[int, str]:
        """Post a signed body and return the status with what the app answered in the body
        (a slash command's ephemeral text, a view submission's response_action)."""
        response = await self.client.post(
            "/slack/events", data=body, headers=signed_headers(body, SECRET)
        )
        return response.status, await response.text()

    async def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, Any]
    ) -> tuple[int, str]:
        """Submit a modal as Slack would: the view as opened, with what was typed in its state."""
        payload = {
            "type": "view_submission",
            "team": {"id": "T0001"},
            "user": {"id": user},
            "api_app_id": "A0001",
            "trigger_id": f"trigger-{next(_counter)}",
            "view": {
                "id": view.get("id") or f"V{next(_counter):08d}",
                "team_id": "T0001",
                "type": "modal",
                **{key: value for key, value in view.items() if key != "state"},
                "state": {"values": values},
            },
        }
        return await self.respond(urlencode({"payload": json.dumps(payload)}))

    async def command(
        self, user: str, text: str, *, command: str = "/policy", channel: str = "C123"
    ) -> tuple[int, str]:
        """A slash command, form-encoded as Slack sends it."""
        body = urlencode(
            {
                "token": "unused",
                "team_id": "T0001",
                "team_domain": "example",
                "channel_id": channel,
                "channel_name": channel.lower(),
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0001",
                "response_url": "https://hooks.slack.com/commands/T0001/1/x",
                "trigger_id": f"trigger-{next(_counter)}",
            }
        )
        return await self.respond(body)

    async def flag_message(
        self, user: str, message: dict[str, Any], channel: dict[str, Any], callback_id: str
    ) -> int:
        """The message shortcut ("..." on a message, then the app's action)."""
        payload = {
            "type": "message_action",
            "token": "unused",
            "action_ts": f"{time.time():.6f}{next(_counter)}",
            "team": {"id": "T0001", "domain": "example"},
            "user": {"id": user, "name": user.lower()},
            "channel": channel,
            "callback_id": callback_id,
            "trigger_id": f"trigger-{next(_counter)}",
            "message_ts": message.get("ts"),
            "message": {"type": "message", **message},
            "response_url": "https://hooks.slack.com/app/T0001/1/x",
        }
        return await self.interact(payload)

    async def open_home(self, user: str) -> int:
        return await self.event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": dm(user),
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            }
        )

    async def click_in_view(
        self, user: str, value: str, *, label: str = "", view_id: str = "V1"
    ) -> int:
        """A button pressed in a view (the App Home): no channel, no message."""
        return await self.interact(button_press(user, value, label=label or value, view_id=view_id))

    async def tick_and_press_done(
        self,
        user: str,
        state_values: dict[str, Any],
        *,
        message: dict[str, Any],
        action_id: str,
        block_id: str,
    ) -> int:
        """Tick checkboxes and press Done: Slack sends what is ticked in `state.values`."""
        return await self.interact(
            button_press(
                user,
                None,
                label="Done",
                message=message,
                action_id=action_id,
                block_id=block_id,
                state_values=state_values,
            )
        )

    async def deliver(self) -> DeliveryResult:
        assert self.runtime_app is not None
        return await self.runtime_app[DELIVERY].run_once()

    runtime_app: web.Application | None = None

    def posts_to(self, channel: str) -> list[Call]:
        """What was posted to a channel and is there to see (not the tries Slack refused)."""
        return [
            c
            for c in self.fake.calls_to("chat.postMessage")
            if c.body.get("channel") == channel and not c.refused
        ]

    async def wait_posts(self, channel: str, count: int, timeout: float = 5.0) -> list[Call]:  # noqa: ASYNC109
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            posts = self.posts_to(channel)
            if len(posts) >= count:
                return posts
            if asyncio.get_running_loop().time() > deadline:
                texts = [p.body.get("text") for p in posts]
                raise AssertionError(
                    f"expected {count} posts to {channel}, saw {len(posts)}: {texts}"
                )
            await asyncio.sleep(0.02)

    async def reply_to(self, user: str, action: Any) -> list[Call]:
        """Do something and return the new posts it caused in the person's DM."""
        before = len(self.posts_to(dm(user)))
        await action
        return await self.settle(dm(user), before)

    async def settle(self, channel: str, before: int) -> list[Call]:
        """Wait until posts to a channel arrive and the work the channel does after answering
        Slack is done, however long a loaded machine takes. Everything the channel does after
        answering runs through the runner (`in_background`, admitted messages), and the outbox
        is delivered only when a test says so (`deliver`), so once the runner has settled
        nothing more is on its way: no quiet moment to wait for."""
        await self.wait_posts(channel, before + 1)
        await self.runtime.runner.settled()
        return self.posts_to(channel)[before:]


def text_of_calls(calls: list[Call]) -> str:
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for call in calls:
        walk(call.body.get("blocks") or [])
    return "\n".join(parts)


def buttons_of(call: Call) -> list[dict[str, Any]]:
    return [
        element
        for block in call.body.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


@asynccontextmanager
async def slack_harness(
    settings: Settings, clock: Clock, fake: FakeSlack, *, app_token: str | None = None
) -> AsyncIterator[SlackHarness]:
    slack = SlackSettings(
        bot_token=fake.bot_token, signing_secret=SECRET, app_token=app_token, api_url=fake.base_url
    )
    configured = replace(settings, slack=slack)
    runtime = build_runtime(configured, clock=clock)
    app = create_app(runtime, run_jobs=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    harness = SlackHarness(client=client, fake=fake, runtime=runtime, settings=configured)
    harness.runtime_app = app
    try:
        yield harness
    finally:
        await client.close()
