"""Dialog turns under load: policybot's real server against the bare persisted turn.

One command (`make bench-turns`) starts `policybot serve` on loopback in its own process, with a
generated configuration of --people staff (default 1,000, and --burst-people more who only
send in the 10x burst), and drives it from this process:

- Slack: signed `message` events to /slack/events, each answering the person's current question
  (the turn loads the conversation, validates, saves, and replies through the Web API);
- Teams: message activities to /api/messages doing the same, in local development mode
  (POLICYBOT_TEAMS_DEV=1, so no token checks; the baseline runs the same way).

The fake Slack Web API and the fake Bot Connector run in this process too, so the moment a reply
reaches them is on the same clock as the moment its message was sent. Each person cycles through
the first questions of a report, then cancels it and starts again (eight turns), and a turn
counts as done when the reply that belongs to it (the next question) reaches the fake.

The yardstick, run in the same command on the same machine and load, is the bare persisted
turn (bot/channels/slack/bare_persisted.py, bot/channels/teams/bare_persisted.py): the same
framework acknowledges, loads one row and saves it in one transaction on the same database
(through storage.db, so with policybot's engine settings), and sends one reply with the same HTTP
client, in the order policybot does. No turn that keeps its answer can do less, so it is the best
a persisted dialog turn can do here; it runs on SQLite and PostgreSQL, each time on a fresh
database of its own, in the closed, paced and burst scenarios, its turns counted done when their
reply reaches the fakes, as policybot's are. Comparing with a framework that only acknowledges is
not fair to a bot that must persist every answer, but those baselines still run, to show what
the framework alone costs: a bare Bolt AsyncApp that only acknowledges
(bot/channels/slack/bare_app.py) and a bare botbuilder bot that does nothing
(bot/channels/teams/bare_bot.py), whose throughput is acknowledgements per second.

Every server's CPU time (utime + stime from /proc/<pid>/stat, summed over its processes) is read
before and after each scenario; divided by the turns done it is the server's CPU per turn, which
unlike throughput does not depend on how busy the rest of the machine is. The summary gives
policybot's closed-loop turns per second as a share of the bare persisted turn's (per platform,
per database) beside its share of the bare acknowledgements, and its CPU per turn, each against
the targets (at least 50% of the bare persisted turn; at most 3 ms of CPU per Slack turn and
4 ms per Teams turn).

Scenarios, each on SQLite and on PostgreSQL (and with --processes servers sharing PostgreSQL):
  closed   --concurrency people each send their next answer as soon as the last one's reply
           arrives, for --seconds: the most turns per second the server sustains;
  paced    --rate turns per second at fixed intervals, whatever the server does (open loop),
           for --seconds: time to acknowledge (p50/p99) and to reply at that rate;
  burst    every person answers at the same moment (a rumour in the staff group at 8am):
           the slowest acknowledgement, against Slack's 3 s and Teams' 15 s;
  soak     paced at --soak-rate (within what the server sustains), for --soak-seconds, with
           the server's resident memory read from /proc before and after;
  soak N turns  policybot only, first repeat only: --soak-turns turns (10,000) paced at
           --soak-share (60%) of the closed-loop rate it just sustained, resident memory read
           at the start, at each fifth and at the end: start, end, highest, growth per 1,000;
  burst 10x closed  every target that takes turns: open loop at --burst-factor (10) times the
           closed-loop rate the same target just sustained, for --burst-seconds (10): acks
           p50/p99/max, then, once all has drained, each message must have had exactly one
           reply at the fakes ("lost N / twice M"; "FAILED" and exit status 1 otherwise), and
           for policybot one recorded delivery each (processed_event) and an empty journal.

In the 10x burst people may send again before their reply arrives: a person's next message
goes once the server has acknowledged their last one (so the server has them in the order they
were sent, and takes them in that order), and replies are matched to the oldest message of the
conversation still waiting whose reply words they hold; the bare persisted turn's words carry a
unique tag. With too few people for the rate, a tick when everyone awaits an acknowledgement
sends nothing, and the notes say how many: --burst-people adds staff who send in this burst only.

--repeats N runs every target N times, a whole round after another (fresh databases and
servers each round), so drift on the shared machine falls on all alike; the table gives each
row's median and the range of /s and CPU per turn, and the summary each ratio per round, then
their median and range. --baseline DIR runs another checkout's policybot as an extra target
("policybot slack (baseline)") in the same rounds, from its own PYTHONPATH, on databases
migrated by its own code, and the summary gives this tree's /s and CPU per turn over its.

Results are printed as a table (and with --json as JSON; the exit status is 1 when a check
failed); bench/README.md keeps the last run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "bot" / "sample"
PYTHON = Path(sys.executable)
POLICYBOT = PYTHON.parent / "policybot"
# Made-up credentials for the local servers and fakes only.
SECRET = "bench-signing-secret"  # noqa: S105
TOKEN = "xoxb-bench-token"  # noqa: S105
SLACK_LIMIT, TEAMS_LIMIT = 3.0, 15.0
BURST_PROFILE_SECONDS = 4.0

# One report's first questions, then cancel: each answer with the words of the reply it brings.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("report", "Who is being targeted?"),
    ("me", "immediate danger"),
    ("no", "Where did it happen?"),
    ("Facebook", "Is there a link"),
    ("https://facebook.com/groups/1/posts/2", "When did it happen?"),
    ("yesterday 4pm", "In your own words"),
    ("cancel", "Are you sure you want to cancel"),
    ("yes", "Cancelled."),
)


# The frameworks alone, acknowledging and nothing more. botbuilder builds two HTTP clients for
# every activity; policybot builds them once, and the second botbuilder row does the same, so
# the ratio to each shows what that is worth and what the dialog costs beyond it.
BASELINES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("bare Bolt", "slack", ("bot.channels.slack.bare_app",), "/slack/events"),
    ("bare botbuilder", "teams", ("bot.channels.teams.bare_bot",), "/api/messages"),
    (
        "bare botbuilder, clients reused",
        "teams",
        ("bot.channels.teams.bare_bot", "--reuse-clients"),
        "/api/messages",
    ),
)

# The yardstick: the same frameworks doing the least any persisted turn must do. Acknowledge,
# load the conversation's row and save it in one transaction on the same database (through
# storage.db, so with policybot's engine settings), send one reply with the same HTTP client.
# Each repeats the person's words in its reply, which is how its turn's reply is recognised.
PERSISTED: tuple[tuple[str, str, str, str], ...] = (
    ("bare Bolt, persisted", "slack", "bot.channels.slack.bare_persisted", "/slack/events"),
    (
        "bare botbuilder, persisted",
        "teams",
        "bot.channels.teams.bare_persisted",
        "/api/messages",
    ),
)
# The targets for the summary: policybot's share of the bare persisted turn, and the
# server's CPU time per turn.
TARGET_SHARE = 0.5
TARGET_CPU_MS = {"slack": 3.0, "teams": 4.0}
TARGET_BURST_ACK_P99_MS = 100.0  # under the 10x burst


# -- the people ---------------------------------------------------------------------------------


@dataclass
class Person:
    index: int
    step: int = 0

    @property
    def slack_id(self) -> str:
        return f"UB{self.index:05d}"

    @property
    def slack_dm(self) -> str:
        return f"DB{self.index:05d}"

    @property
    def teams_id(self) -> str:
        return str(uuid.UUID(int=0xB0000000_0000_4000_8000_000000000000 + self.index))

    @property
    def teams_chat(self) -> str:
        return f"a:bench-{self.index:05d}"

    def next_answer(self) -> tuple[str, str]:
        answer = SCRIPT[self.step % len(SCRIPT)]
        self.step += 1
        return answer


def write_config(folder: Path, people: int, sample: Path = SAMPLE) -> Path:
    """The bundled sample school with `people` more members of staff, each on Slack and Teams."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample / "policy.md", folder / "policy.md")
    text = (sample / "policybot.toml").read_text()
    blocks = [
        "\n[[schools.people]]\n"
        f'id = "bench{p.index:05d}"\nname = "Bench Person {p.index}"\nroles = ["staff"]\n'
        f'slack_user_id = "{p.slack_id}"\nteams_user_id = "{p.teams_id}"\n'
        for p in (Person(i) for i in range(people))
    ]
    config = folder / "policybot.toml"
    config.write_text(text + "".join(blocks))
    return config


# -- the fakes: where replies land --------------------------------------------------------------


@dataclass(eq=False)
class Expected:
    """One message's awaited reply: resolved with the time the words of it reached a fake, and
    (while a ledger is kept, in the 10x burst) how many replies it got."""

    words: str
    future: asyncio.Future[float]
    answers: int = 0
    acknowledged: bool = False


class Expectations:
    """Each person's awaited replies, oldest first.

    A reply is matched to the oldest message of its conversation still waiting whose words it
    holds. A person usually has one message waiting; in the 10x burst they may have several,
    and the server takes one person's messages one at a time in the order it acknowledged them
    (dialogs.inbox), so their replies come in that order too. While a ledger is kept, a reply
    that matches nothing waiting but repeats the words of one of the person's messages already
    answered counts as that message answered twice; anything else is another message (a turn may
    send a tip before its question), counted as stray."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[Expected]] = {}
        self._answered: dict[str, list[Expected]] | None = None
        self.ledger: list[Expected] | None = None
        self.replies = 0
        self.stray = 0

    def expect(self, key: str, words: str) -> Expected:
        expected = Expected(words, asyncio.get_running_loop().create_future())
        self._waiting.setdefault(key, []).append(expected)
        if self.ledger is not None:
            self.ledger.append(expected)
        return expected

    def withdraw(self, key: str, expected: Expected) -> None:
        """No reply is awaited any more (refused, or waited for too long)."""
        waiting = self._waiting.get(key, [])
        if expected in waiting:
            waiting.remove(expected)
        if not waiting:
            self._waiting.pop(key, None)
        if not expected.future.done():
            expected.future.cancel()

    def keep_ledger(self) -> list[Expected]:
        """From now on, every message expected and every reply to it is counted."""
        self.ledger, self._answered, self.stray = [], {}, 0
        return self.ledger

    def stop_ledger(self) -> None:
        self.ledger = self._answered = None

    def arrived(self, key: str, body: str) -> None:
        self.replies += 1
        waiting = self._waiting.get(key, [])
        for expected in waiting:
            if expected.words in body:
                waiting.remove(expected)
                if not waiting:
                    del self._waiting[key]
                expected.answers += 1
                if not expected.future.done():
                    expected.future.set_result(time.monotonic())
                if self._answered is not None:
                    self._answered.setdefault(key, []).append(expected)
                return
        if self._answered is None:
            return
        for expected in reversed(self._answered.get(key, [])):
            if expected.words in body:
                expected.answers += 1
                return
        self.stray += 1


def exactly_once(ledger: Sequence[Expected]) -> tuple[int, int]:
    """Of the messages the server acknowledged: how many got no reply (lost), and how many got
    more than one (answered twice)."""
    answers = [e.answers for e in ledger if e.acknowledged]
    return sum(1 for a in answers if a == 0), sum(1 for a in answers if a > 1)


def fake_platforms(expected: Expectations) -> web.Application:
    """The Slack Web API and the Bot Connector, as far as a turn's reply needs them."""
    counter = iter(range(1, 1 << 62))

    async def slack(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            body: dict[str, Any] = json.loads(raw or "{}")
        else:
            body = dict(parse_qsl(raw))
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0001"}
            )
        if method == "chat.postMessage":
            channel = str(body.get("channel"))
            expected.arrived(channel, raw)
            return web.json_response(
                {"ok": True, "channel": channel, "ts": f"{time.time():.6f}", "message": {}}
            )
        if method == "conversations.open":
            user = str(body.get("users", "")).split(",")[0]
            return web.json_response({"ok": True, "channel": {"id": "D" + user[1:]}})
        return web.json_response({"ok": True})

    async def connector(request: web.Request) -> web.Response:
        raw = await request.text()
        expected.arrived(request.match_info["conversation"], raw)
        return web.json_response({"id": str(next(counter))})

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/api/{method}", slack)
    app.router.add_post("/v3/conversations/{conversation}/activities", connector)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", connector)
    app.router.add_put("/v3/conversations/{conversation}/activities/{reply_to}", connector)
    return app


# -- what is sent -------------------------------------------------------------------------------


def slack_request(person: Person, text: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "token": "unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": person.slack_dm,
                "channel_type": "im",
                "user": person.slack_id,
                "text": text,
                "ts": f"{time.time():.6f}",
            },
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return body, {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def teams_request(person: Person, text: str, service_url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "message",
            "id": uuid.uuid4().hex,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "serviceUrl": service_url,
            "channelId": "msteams",
            "from": {"id": f"29:{person.teams_id}", "aadObjectId": person.teams_id},
            "conversation": {
                "id": person.teams_chat,
                "conversationType": "personal",
                "tenantId": "bench-tenant",
            },
            "recipient": {"id": "28:bench-bot", "name": "policybot"},
            "text": text,
            "textFormat": "plain",
            "locale": "en-GB",
        }
    ).encode()
    return body, {"Content-Type": "application/json"}


@dataclass
class Target:
    """One server under test and how to talk to it."""

    name: str
    platform: str  # "slack" or "teams"
    ports: Sequence[int]
    replies: bool  # False for a baseline, which only acknowledges
    pids: Sequence[int] = ()
    echoes: bool = False  # a bare persisted turn: its reply repeats what was sent
    # policybot's own records, read after the 10x burst: its database and its data directory
    # (where the inbound journal keeps what is not yet taken).
    database_url: str | None = None
    data_dir: Path | None = None

    def url(self, person: Person) -> str:
        port = self.ports[person.index % len(self.ports)]
        path = "/slack/events" if self.platform == "slack" else "/api/messages"
        return f"http://127.0.0.1:{port}{path}"

    def key(self, person: Person) -> str:
        return person.slack_dm if self.platform == "slack" else person.teams_chat


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Sample:
    ack: float
    reply: float | None
    status: int


@dataclass
class Result:
    target: str
    scenario: str
    database: str
    sent: int
    done: int
    failed: int
    seconds: float
    per_second: float
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    reply_p50_ms: float | None
    reply_p99_ms: float | None
    cpu_ms_per_turn: float | None = None
    rss_before_mb: float | None = None
    rss_after_mb: float | None = None
    notes: list[str] = field(default_factory=list)
    rss_growth_mb_per_1000: float | None = None  # the turn soak's, start to end
    repeat: int = 1
    # Over several repeats (see `aggregate`): how many, and the lowest and highest /s and CPU.
    repeats: int = 1
    per_second_range: tuple[float, float] | None = None
    cpu_range: tuple[float, float] | None = None


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Driver:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        expected: Expectations,
        fake_url: str,
        timeout: float,
    ) -> None:
        self.session = session
        self.expected = expected
        self.fake_url = fake_url
        self.timeout = timeout

    async def turn(
        self,
        target: Target,
        person: Person,
        *,
        reply_wait: float | None = None,
        on_ack: Callable[[], None] | None = None,
    ) -> Sample:
        text, words = person.next_answer()
        if target.echoes:
            text = words = f"{text} #{uuid.uuid4().hex[:12]}"
        if target.platform == "slack":
            body, headers = slack_request(person, text)
        else:
            body, headers = teams_request(person, text, self.fake_url)
        key = target.key(person)
        reply = self.expected.expect(key, words) if target.replies else None
        started = time.monotonic()
        try:
            async with self.session.post(target.url(person), data=body, headers=headers) as got:
                await got.read()
                status = got.status
        except (aiohttp.ClientError, TimeoutError):
            status = 599
        acked = time.monotonic()
        if on_ack is not None:
            on_ack()
        if reply is None or status >= 300:
            if reply is not None:
                self.expected.withdraw(key, reply)
            return Sample(ack=acked - started, reply=None, status=status)
        reply.acknowledged = True
        try:
            arrived = await asyncio.wait_for(reply.future, reply_wait or self.timeout)
        except TimeoutError:
            self.expected.withdraw(key, reply)
            return Sample(ack=acked - started, reply=None, status=status)
        return Sample(ack=acked - started, reply=arrived - started, status=status)

    async def closed(
        self, target: Target, people: Sequence[Person], concurrency: int, seconds: float
    ) -> tuple[list[Sample], float]:
        samples: list[Sample] = []
        deadline = time.monotonic() + seconds

        async def worker(mine: Sequence[Person]) -> None:
            index = 0
            while time.monotonic() < deadline:
                samples.append(await self.turn(target, mine[index % len(mine)]))
                index += 1

        shares = [people[i::concurrency] for i in range(concurrency)]
        started = time.monotonic()
        await asyncio.gather(*(worker(share) for share in shares if share))
        return samples, time.monotonic() - started

    async def paced(
        self,
        target: Target,
        people: Sequence[Person],
        rate: float,
        seconds: float,
        *,
        count: int | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> tuple[list[Sample], float, int]:
        """Open loop: a turn every 1/rate seconds by someone whose last turn is finished, for
        `seconds` (or `count` turns); `on_sent(n)` is told of each tick as it passes."""
        idle: asyncio.Queue[Person] = asyncio.Queue()
        for person in people:
            idle.put_nowait(person)
        samples: list[Sample] = []
        tasks: set[asyncio.Task[None]] = set()
        skipped = 0

        async def one(person: Person) -> None:
            samples.append(await self.turn(target, person))
            idle.put_nowait(person)

        started = time.monotonic()
        count = int(rate * seconds) if count is None else count
        for n in range(count):
            at = started + n / rate
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if on_sent is not None:
                on_sent(n)
            if idle.empty():
                skipped += 1  # everyone is still waiting for a reply: the server is behind
                continue
            task = asyncio.create_task(one(idle.get_nowait()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return samples, time.monotonic() - started, skipped

    async def open_loop(
        self,
        target: Target,
        people: Sequence[Person],
        rate: float,
        seconds: float,
        *,
        reply_wait: float,
    ) -> tuple[list[Sample], float, float, int]:
        """The 10x burst: a message every 1/rate seconds for `seconds`, whatever the server
        does, each from the person who has waited longest since their last message was
        acknowledged. A person may have several messages awaiting replies (the server takes
        one person's messages in the order it acknowledged them, so the replies are matched in
        that order), but never two awaiting an acknowledgement, so the order the server has
        them in is the order they were sent. The bare persisted turn's replies carry their
        message's tag, so its people take turns without waiting for anything. Returns the
        samples once every reply arrived (or `reply_wait` passed), the seconds spent sending
        and in all, and the ticks when every person was still waiting for an acknowledgement
        (nothing sent: more --burst-people)."""
        ready: collections.deque[Person] = collections.deque(people)
        samples: list[Sample] = []
        tasks: set[asyncio.Task[None]] = set()
        skipped = 0
        # A reply that repeats its message's unique tag is matched whatever the order, so the
        # bare persisted turn's people need not wait for their acknowledgements.
        in_order = not target.echoes

        async def one(person: Person) -> None:
            samples.append(
                await self.turn(
                    target,
                    person,
                    reply_wait=reply_wait,
                    on_ack=(lambda: ready.append(person)) if in_order else None,
                )
            )

        started = time.monotonic()
        for n in range(int(rate * seconds)):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not in_order:
                person = people[n % len(people)]
            elif ready:
                person = ready.popleft()
            else:
                skipped += 1
                continue
            task = asyncio.create_task(one(person))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        sending = time.monotonic() - started
        if tasks:
            await asyncio.gather(*tasks)
        return samples, sending, time.monotonic() - started, skipped

    async def settle(self, quiet: float = 2.0, longest: float = 180.0) -> float:
        """Wait until replies stop arriving, so work a scenario left queued in the server (an
        acknowledged Slack event is handled after its acknowledgement) does not slow the next
        one; returns how long that took."""
        started = time.monotonic()
        seen = -1
        while seen != self.expected.replies and time.monotonic() - started < longest:
            seen = self.expected.replies
            await asyncio.sleep(quiet)
        return time.monotonic() - started

    async def burst(self, target: Target, people: Sequence[Person]) -> tuple[list[Sample], float]:
        started = time.monotonic()
        samples = await asyncio.gather(*(self.turn(target, p) for p in people))
        return list(samples), time.monotonic() - started


def summarise(
    target: Target,
    scenario: str,
    database: str,
    samples: Sequence[Sample],
    seconds: float,
    *,
    cpu_seconds: float | None = None,
    notes: Sequence[str] = (),
) -> Result:
    good = [s for s in samples if s.status < 300 and (s.reply is not None or not target.replies)]
    acks = [s.ack * 1000 for s in samples if s.status < 300]
    replies = [s.reply * 1000 for s in good if s.reply is not None]
    return Result(
        target=target.name,
        scenario=scenario,
        database=database,
        sent=len(samples),
        done=len(good),
        failed=len(samples) - len(good),
        seconds=round(seconds, 2),
        per_second=round(len(good) / seconds, 1) if seconds else 0.0,
        ack_p50_ms=round(percentile(acks, 0.50), 1),
        ack_p99_ms=round(percentile(acks, 0.99), 1),
        ack_max_ms=round(max(acks, default=float("nan")), 1),
        reply_p50_ms=round(percentile(replies, 0.50), 1) if replies else None,
        reply_p99_ms=round(percentile(replies, 0.99), 1) if replies else None,
        cpu_ms_per_turn=(
            round(cpu_seconds * 1000 / len(good), 2) if cpu_seconds is not None and good else None
        ),
        notes=list(notes),
    )


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """User and system CPU time the servers have used so far (/proc/<pid>/stat, utime and
    stime): read before and after a scenario, the difference over the turns done is the
    server's CPU per turn, whatever else the machine is doing."""
    if not pids:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        # The command name (field 2) may hold spaces; the fields after it are plain numbers.
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return total / ticks


def cpu_since(pids: Sequence[int], before: float | None) -> float | None:
    now = cpu_seconds(pids)
    return None if now is None or before is None else now - before


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    port: int


async def wait_listening(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the server on port {port} exited ({process.returncode})")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port}")


@contextlib.asynccontextmanager
async def running(command: Sequence[str], env: dict[str, str], path: str) -> AsyncIterator[Started]:
    port = free_port()
    # The server's log goes to a file, never a pipe: a pipe nobody reads during the run fills
    # up (64 KiB) and then stalls the server on its next log line, which is a fault of the
    # benchmark, not of the server. POLICYBOT_BENCH_LOGS keeps the logs in that folder.
    kept = os.environ.get("POLICYBOT_BENCH_LOGS")
    log_file = (
        open(Path(kept) / f"server-{port}.log", "w+b")  # noqa: ASYNC230, SIM115
        if kept
        else tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    )
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - our own commands, started once
        [*command, "--port", str(port)] if "serve" not in command else list(command),
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    try:
        await wait_listening(port, process, path)
        yield Started(process=process, port=port)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.returncode not in (0, -signal.SIGINT):
            log_file.seek(0)
            tail = log_file.read().decode(errors="replace")[-1500:]
            print(f"  (server on {port} exited {process.returncode}: {tail})", file=sys.stderr)
        log_file.close()


def policybot_env(
    config: Path, data_dir: Path, database_url: str, fake_url: str, tree: Path = ROOT
) -> dict[str, str]:
    """The servers' environment: made-up credentials, the fakes, and `tree` first on the
    import path, so the code measured is that checkout's whatever the venv has installed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_APP", "POLICYBOT_", "DATABASE_URL"))
    }
    env.update(
        POLICYBOT_CONFIG=str(config),
        POLICYBOT_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=f"{fake_url}/api/",
        # Teams without tokens, as the bare botbuilder baseline runs: callers on this machine.
        POLICYBOT_TEAMS_DEV="1",
        PYTHONPATH=str(tree),
    )
    return env


@contextlib.asynccontextmanager
async def policybot_servers(
    count: int, config: Path, data_dir: Path, database_url: str, fake_url: str, tree: Path = ROOT
) -> AsyncIterator[list[Started]]:
    env = policybot_env(config, data_dir, database_url, fake_url, tree)
    async with contextlib.AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                running([str(POLICYBOT), "serve", "--host", "127.0.0.1"], env, "/healthz")
            )
            for _ in range(count)
        ]
        yield servers


def migrate_with(tree: Path, url: str) -> None:
    """Bring a fresh database to `tree`'s schema: this checkout's in this process, another's
    (--baseline) with its own code, since its migrations may differ."""
    if tree == ROOT:
        from storage import migrate

        migrate.upgrade(url)
        return
    subprocess.run(  # noqa: S603 - our own interpreter, the other checkout's migrations
        [
            str(PYTHON),
            "-c",
            "import sys; from storage import migrate; migrate.upgrade(sys.argv[1])",
            url,
        ],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
    )


def postgres_database(
    admin_url: str, name: str, *, migrated: bool = True, tree: Path = ROOT
) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import sync_url

    admin = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    if migrated:
        migrate_with(tree, url)
    return url


def drop_postgres_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    from storage.db import sync_url

    admin = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Options:
    people: int
    concurrency: int
    rate: float
    seconds: float
    soak_seconds: float
    soak_rate: float
    processes: int
    postgres: str | None
    platforms: tuple[str, ...]
    timeout: float
    profile: Path | None = None
    burst_factor: float = 10.0
    burst_seconds: float = 10.0
    burst_people: int = 0  # staff beyond --people who take part in the 10x burst only
    burst_bare: bool = False  # the bare persisted turns' 10x burst too
    soak_turns: int = 10_000
    soak_share: float = 0.6
    repeats: int = 1
    baseline: Path | None = None


async def warm_up(driver: Driver, target: Target, people: Sequence[Person]) -> None:
    """Everyone starts a report, so every later turn is someone mid-dialog."""
    for batch in range(0, len(people), 100):
        await asyncio.gather(*(driver.turn(target, p) for p in people[batch : batch + 100]))


async def measure_turns(
    driver: Driver,
    target: Target,
    people: Sequence[Person],
    database: str,
    options: Options,
    *,
    soak: bool,
) -> list[Result]:
    results: list[Result] = []
    await warm_up(driver, target, people)
    await driver.settle()
    cpu = cpu_seconds(target.pids)
    with profiling(options.profile, target, database, options.seconds):
        samples, took = await driver.closed(target, people, options.concurrency, options.seconds)
    results.append(
        summarise(
            target,
            f"closed x{options.concurrency}",
            database,
            samples,
            took,
            cpu_seconds=cpu_since(target.pids, cpu),
        )
    )
    await driver.settle()
    cpu = cpu_seconds(target.pids)
    samples, took, skipped = await driver.paced(target, people, options.rate, options.seconds)
    used = cpu_since(target.pids, cpu)
    notes = backlog_notes(skipped, await driver.settle())
    results.append(
        summarise(
            target,
            f"paced {options.rate:g}/s",
            database,
            samples,
            took,
            cpu_seconds=used,
            notes=notes,
        )
    )
    # The burst's first seconds are its acknowledgements: sampled on their own, to see what
    # the event loop does while a thousand requests wait for an answer.
    cpu = cpu_seconds(target.pids)
    with profiling(options.profile, target, f"{database}-burst", BURST_PROFILE_SECONDS):
        samples, took = await driver.burst(target, people)
    used = cpu_since(target.pids, cpu)
    await driver.settle()
    limit = SLACK_LIMIT if target.platform == "slack" else TEAMS_LIMIT
    slowest = max((s.ack for s in samples), default=0.0)
    results.append(
        summarise(
            target,
            f"burst {len(people)}",
            database,
            samples,
            took,
            cpu_seconds=used,
            notes=[f"slowest ack {slowest:.2f}s of the {limit:g}s limit"],
        )
    )
    if soak and target.pids and options.soak_seconds > 0:
        results.append(await soak_for_seconds(driver, target, people, database, options))
    if soak and target.pids and options.soak_turns > 0 and results[0].per_second > 0:
        results.append(
            await soak_by_turns(driver, target, people, database, options, results[0].per_second)
        )
    # The bare persisted turn's 10x (two to four thousand messages a second) is more than the
    # load generator can offer on this machine, and its open connections pile up until the
    # processes run out of file descriptors: it runs only when asked (--burst-bare).
    ten_x = options.burst_factor > 0 and options.burst_seconds > 0
    if ten_x and (not target.echoes or options.burst_bare) and results[0].per_second > 0:
        results.append(
            await burst_over_closed(driver, target, people, database, options, results[0])
        )
    return results


def backlog_notes(skipped: int, drained: float) -> list[str]:
    """What a paced run's notes say of turns it could not send and of the backlog it left."""
    notes = [f"{skipped} turns not sent: nobody idle"] if skipped else []
    if drained > 3:
        notes.append(f"{drained:.0f}s more to finish the backlog")
    return notes


async def soak_for_seconds(
    driver: Driver, target: Target, people: Sequence[Person], database: str, options: Options
) -> Result:
    """Paced at --soak-rate for --soak-seconds, resident memory read before and after."""
    before = sum(rss_mb(pid) for pid in target.pids)
    cpu = cpu_seconds(target.pids)
    samples, took, skipped = await driver.paced(
        target, people, options.soak_rate, options.soak_seconds
    )
    used = cpu_since(target.pids, cpu)
    after = sum(rss_mb(pid) for pid in target.pids)
    notes = backlog_notes(skipped, await driver.settle())
    result = summarise(
        target,
        f"soak {options.soak_rate:g}/s {options.soak_seconds:g}s",
        database,
        samples,
        took,
        cpu_seconds=used,
        notes=notes,
    )
    result.rss_before_mb, result.rss_after_mb = round(before, 1), round(after, 1)
    return result


SOAK_READINGS = 5  # resident memory read at the start, at each fifth of the turns, at the end


def soak_marks(turns: int) -> set[int]:
    """The turns (counted from 0) before which memory is read: each fifth of the way."""
    return {turns * k // SOAK_READINGS for k in range(1, SOAK_READINGS)}


def memory_notes(readings: Sequence[tuple[int, float]]) -> list[str]:
    """Resident memory over a soak, read at (turns sent, MB): its start, end and highest, and
    the growth per 1,000 turns from start to end (a leak grows with every turn; a cache that
    fills up levels off, which the readings in between show)."""
    if len(readings) < 2 or readings[-1][0] <= readings[0][0]:
        return []
    (first_turn, start), (last_turn, end) = readings[0], readings[-1]
    growth = (end - start) * 1000 / (last_turn - first_turn)
    notes = [
        f"RSS start {start:.1f} MB, end {end:.1f} MB, max {max(mb for _, mb in readings):.1f} MB",
        f"growth {growth:+.2f} MB per 1,000 turns",
    ]
    if len(readings) > 2 and last_turn > readings[1][0]:
        later = (end - readings[1][1]) * 1000 / (last_turn - readings[1][0])
        notes.append(f"{later:+.2f} MB per 1,000 turns after the first fifth")
    return [*notes, "RSS by turn " + ", ".join(f"{turn}: {mb:.1f}" for turn, mb in readings)]


async def soak_by_turns(
    driver: Driver,
    target: Target,
    people: Sequence[Person],
    database: str,
    options: Options,
    closed_per_second: float,
) -> Result:
    """--soak-turns turns paced at --soak-share of the closed-loop rate this server just
    sustained (so it keeps up and nothing piles up in memory that a backlog would explain),
    resident memory read from /proc at the start, at each fifth, and once all replies are in.
    The warm-up and the earlier scenarios are behind it, so their growth is not counted."""
    rate = round(options.soak_share * closed_per_second, 1)
    marks = soak_marks(options.soak_turns)
    readings: list[tuple[int, float]] = [(0, sum(rss_mb(pid) for pid in target.pids))]

    def sent(n: int) -> None:
        if n in marks:
            readings.append((n, sum(rss_mb(pid) for pid in target.pids)))

    cpu = cpu_seconds(target.pids)
    samples, took, skipped = await driver.paced(
        target, people, rate, options.soak_turns / rate, count=options.soak_turns, on_sent=sent
    )
    used = cpu_since(target.pids, cpu)
    readings.append((options.soak_turns, sum(rss_mb(pid) for pid in target.pids)))
    notes = backlog_notes(skipped, await driver.settle())
    result = summarise(
        target,
        f"soak {options.soak_turns} turns",
        database,
        samples,
        took,
        cpu_seconds=used,
        notes=[f"paced {rate:g}/s ({options.soak_share:.0%} of closed)", *notes],
    )
    result.notes += memory_notes(readings)
    if readings[-1][0] > 0:
        growth = (readings[-1][1] - readings[0][1]) * 1000 / readings[-1][0]
        result.rss_growth_mb_per_1000 = round(growth, 2)
    result.rss_before_mb, result.rss_after_mb = round(readings[0][1], 1), round(readings[-1][1], 1)
    return result


def burst_rate(closed_per_second: float, factor: float) -> float:
    """The 10x burst's offered load: `factor` times the closed-loop turns per second the same
    target sustained just before, in the same run."""
    return round(factor * closed_per_second, 1)


def exactly_once_notes(lost: int, twice: int, *, stray: int = 0, refused: int = 0) -> list[str]:
    """What the 10x burst's check says, loudly when a message was lost or answered twice."""
    notes = [f"lost {lost} / twice {twice}"]
    if stray:
        notes.append(f"{stray} other messages (no message's reply words: tips and the like)")
    if refused:
        notes.append(f"{refused} refused (not acknowledged)")
    if lost or twice:
        notes.insert(0, "FAILED: not every message handled exactly once")
    return notes


def processed_events(database_url: str) -> int | None:
    """How many deliveries policybot has recorded as acted on (one per turn), or None."""
    from sqlalchemy import create_engine, text

    from storage.db import sync_url

    try:
        engine = create_engine(sync_url(database_url))
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM processed_event")).scalar()
        engine.dispose()
    except Exception:  # a baseline tree's schema may differ: the fakes' count still stands
        return None
    return int(count or 0)


def journal_pending(data_dir: Path) -> int:
    """Inputs in the inbound journal not yet taken (entries left in journal/pending)."""
    return sum(1 for _ in (data_dir / "journal" / "pending").glob("*.entry"))


async def burst_over_closed(
    driver: Driver,
    target: Target,
    people: Sequence[Person],
    database: str,
    options: Options,
    closed: Result,
) -> Result:
    """The issue's 10x burst: --burst-factor times the closed-loop rate, for --burst-seconds,
    open loop (see Driver.open_loop); then, once everything has drained, every acknowledged
    message must have had exactly one reply at the fakes, and where policybot's own records are
    at hand, one recorded delivery each (processed_event) and nothing left in the journal."""
    rate = burst_rate(closed.per_second, options.burst_factor)
    extra = range(options.people, options.people + options.burst_people)
    if target.echoes:  # the bare persisted turn knows nobody: anyone may take part
        extra = range(0)
    pool = [*people, *(Person(i) for i in extra)]
    # Long enough for the backlog: the server takes it at about its closed-loop rate.
    reply_wait = options.timeout + options.burst_factor * options.burst_seconds * 3
    events_before = (
        await asyncio.to_thread(processed_events, target.database_url)
        if target.database_url
        else None
    )
    ledger = driver.expected.keep_ledger()
    cpu = cpu_seconds(target.pids)
    try:
        samples, sending, took, skipped = await driver.open_loop(
            target, pool, rate, options.burst_seconds, reply_wait=reply_wait
        )
        used = cpu_since(target.pids, cpu)
        await driver.settle()  # a reply sent twice may come after the last awaited one
    finally:
        driver.expected.stop_ledger()
    lost, twice = exactly_once(ledger)
    acknowledged = sum(1 for e in ledger if e.acknowledged)
    notes = [
        f"offered {len(samples) / sending if sending else 0:.0f}/s for "
        f"{options.burst_seconds:g}s, asked {rate:g}/s = "
        f"{options.burst_factor:g}x closed {closed.per_second}/s",
        *exactly_once_notes(
            lost, twice, stray=driver.expected.stray, refused=len(ledger) - acknowledged
        ),
    ]
    if skipped:
        notes.append(
            f"{skipped} not sent: all {len(pool)} people awaited an acknowledgement "
            "(more --burst-people)"
        )
    if events_before is not None and target.database_url:
        events_after = await asyncio.to_thread(processed_events, target.database_url)
        if events_after is not None:
            recorded = events_after - events_before
            notes.append(f"server recorded {recorded} deliveries of {acknowledged}")
            if recorded != acknowledged:
                notes.insert(0, "FAILED: the server's records do not match the messages")
    if target.data_dir is not None:
        left = journal_pending(target.data_dir)
        notes.append(f"journal pending {left}")
        if left:
            notes.insert(0, "FAILED: inputs left in the journal")
    limit = SLACK_LIMIT if target.platform == "slack" else TEAMS_LIMIT
    slowest = max((s.ack for s in samples), default=0.0)
    notes.append(f"slowest ack {slowest:.2f}s of the {limit:g}s limit")
    return summarise(
        target,
        f"burst {options.burst_factor:g}x closed",
        database,
        samples,
        took,
        cpu_seconds=used,
        notes=notes,
    )


@contextlib.contextmanager
def profiling(folder: Path | None, target: Target, database: str, seconds: float) -> Any:
    """With --profile, py-spy samples the (first) server through the closed-loop run, and
    through the start of the burst, and writes folded stacks (for flame graphs, or to read the
    heaviest frames)."""
    if folder is None or not target.pids or shutil.which("py-spy") is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{target.name}-{database}".replace(" ", "-")
    spy = subprocess.Popen(  # noqa: S603 - py-spy on our own server
        [
            str(shutil.which("py-spy")),
            "record",
            "--pid",
            str(target.pids[0]),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            str(folder / f"{name}.folded"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait(timeout=seconds + 30)


async def measure_baseline(
    driver: Driver, target: Target, people: Sequence[Person], options: Options
) -> list[Result]:
    cpu = cpu_seconds(target.pids)
    samples, took = await driver.closed(target, people, options.concurrency, options.seconds)
    used = cpu_since(target.pids, cpu)
    results = [
        summarise(target, f"closed x{options.concurrency}", "-", samples, took, cpu_seconds=used)
    ]
    cpu = cpu_seconds(target.pids)
    samples, took, _ = await driver.paced(target, people, options.rate, options.seconds)
    used = cpu_since(target.pids, cpu)
    results.append(
        summarise(target, f"paced {options.rate:g}/s", "-", samples, took, cpu_seconds=used)
    )
    return results


async def measure_persisted(
    driver: Driver, database: str, database_url: str, env: dict[str, str], options: Options
) -> list[Result]:
    """The bare persisted turns on this database, in the scenarios policybot's turns run."""
    results: list[Result] = []
    for name, platform_name, module, path in PERSISTED:
        if platform_name not in options.platforms:
            continue
        command = [str(PYTHON), "-m", module]
        async with running(command, {**env, "DATABASE_URL": database_url}, path) as bare:
            target = Target(
                name=name,
                platform=platform_name,
                ports=[bare.port],
                replies=True,
                pids=[bare.process.pid],
                echoes=True,
            )
            people = [Person(i) for i in range(options.people)]
            got = await measure_turns(driver, target, people, database, options, soak=False)
            results += got
            print_rows(got)
    return results


@dataclass(frozen=True)
class Tree:
    """A checkout whose policybot is measured: this one, or --baseline's beside it."""

    path: Path
    suffix: str = ""  # added to its targets' names: " (baseline)"

    @property
    def is_this(self) -> bool:
        return self.path == ROOT


def trees(options: Options) -> list[Tree]:
    baseline = [Tree(options.baseline.resolve(), " (baseline)")] if options.baseline else []
    return [Tree(ROOT), *baseline]


async def run(options: Options) -> list[Result]:
    """--repeats rounds of every target, one whole round after another, so drift on the shared
    machine falls on every target alike; each round starts from fresh databases and servers."""
    expected = Expectations()
    fakes = web.AppRunner(fake_platforms(expected), access_log=None)
    await fakes.setup()
    fake_port = free_port()
    await web.TCPSite(fakes, "127.0.0.1", fake_port).start()
    fake_url = f"http://127.0.0.1:{fake_port}"
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    results: list[Result] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        driver = Driver(session, expected, fake_url, options.timeout)
        for repeat in range(1, options.repeats + 1):
            if options.repeats > 1:
                print(f"  -- repeat {repeat} of {options.repeats}", flush=True)
            got = await one_round(driver, fake_url, options, repeat)
            for result in got:
                result.repeat = repeat
            results += got
    await fakes.cleanup()
    return results


async def one_round(driver: Driver, fake_url: str, options: Options, repeat: int) -> list[Result]:
    """Every target once: the bare frameworks, then per database the bare persisted turns and
    policybot (and --baseline's policybot), each on a fresh database of its own. The soaks run
    in the first round only, and for this tree only: memory is not a ratio."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as folder:
        work = Path(folder)
        people = [Person(i) for i in range(options.people)]
        base_env = policybot_env(
            write_config(work, options.people), work / "unused", "sqlite://", fake_url
        )
        for name, platform_name, command, path in BASELINES:
            if platform_name not in options.platforms:
                continue
            async with running([str(PYTHON), "-m", *command], base_env, path) as bare:
                target = Target(
                    name=name,
                    platform=platform_name,
                    ports=[bare.port],
                    replies=False,
                    pids=[bare.process.pid],
                )
                results += await measure_baseline(driver, target, people, options)
                print_rows(results[-2:])

        counts = sorted({1, options.processes}) if options.postgres else [1]
        databases = [("sqlite", 1)] + [
            ("postgresql", count) for count in counts if options.postgres
        ]
        pg_names: list[str] = []

        def fresh_database(database: str, name: str, tree: Tree | None) -> str:
            """A new, empty database; migrated to `tree`'s schema unless None (the bare
            persisted turns make their own table)."""
            if database == "sqlite":
                (work / name).mkdir()
                url = f"sqlite:///{work / name / 'policybot.sqlite3'}"
                if tree is not None:
                    migrate_with(tree.path, url)
                return url
            assert options.postgres  # the PostgreSQL rows come from there
            pg_names.append(f"policybot_bench_{os.getpid()}_{name}")
            return postgres_database(
                options.postgres,
                pg_names[-1],
                migrated=tree is not None,
                tree=tree.path if tree else ROOT,
            )

        try:
            for database, count in databases:
                label = database if count == 1 else f"{database} x{count} processes"
                if count == 1:
                    # The yardstick first, on a fresh database of its own of the same kind.
                    bare_url = fresh_database(database, "bare", None)
                    results += await measure_persisted(
                        driver, database, bare_url, base_env, options
                    )
                for tree in trees(options):
                    tag = f"x{count}" + ("_baseline" if not tree.is_this else "")
                    url = fresh_database(database, tag, tree)
                    data_dir = work / f"data-{database}-{tag}"
                    data_dir.mkdir()
                    config = write_config(
                        work / f"config-{tag}",
                        options.people + options.burst_people,
                        tree.path / "bot" / "sample",
                    )
                    async with policybot_servers(
                        count, config, data_dir, url, fake_url, tree.path
                    ) as servers:
                        for platform_name in options.platforms:
                            people = [Person(i) for i in range(options.people)]
                            target = Target(
                                name=f"policybot {platform_name}{tree.suffix}",
                                platform=platform_name,
                                ports=[s.port for s in servers],
                                replies=True,
                                pids=[s.process.pid for s in servers],
                                database_url=url,
                                data_dir=data_dir,
                            )
                            soak = count == 1 and repeat == 1 and tree.is_this
                            got = await measure_turns(
                                driver, target, people, label, options, soak=soak
                            )
                            results += got
                            print_rows(got)
        finally:
            for name in pg_names:
                assert options.postgres  # the databases were made there
                drop_postgres_database(options.postgres, name)
    return results


# -- the table ----------------------------------------------------------------------------------

_COLUMNS = (
    ("target", "target"),
    ("scenario", "scenario"),
    ("database", "database"),
    ("done", "done"),
    ("failed", "failed"),
    ("per_second", "/s"),
    ("ack_p50_ms", "ack p50 ms"),
    ("ack_p99_ms", "ack p99 ms"),
    ("ack_max_ms", "ack max ms"),
    ("reply_p50_ms", "reply p50 ms"),
    ("reply_p99_ms", "reply p99 ms"),
    ("cpu_ms_per_turn", "CPU ms/turn"),
)


def print_rows(rows: Sequence[Result]) -> None:
    for row in rows:
        values = asdict(row)
        cells = [f"{values[key]}" for key, _ in _COLUMNS]
        extra = ""
        if row.rss_before_mb is not None:
            extra += f"  RSS {row.rss_before_mb} -> {row.rss_after_mb} MB"
        if row.notes:
            extra += "  (" + "; ".join(row.notes) + ")"
        print("  " + " | ".join(cells) + extra, flush=True)


def markdown(results: Sequence[Result]) -> str:
    """The table; rows aggregated over repeats (see `aggregate`) also give the lowest and
    highest /s and CPU per turn of the repeats."""
    spread = any(row.repeats > 1 for row in results)
    extra = ["/s range", "CPU range"] if spread else []
    titles = [title for _, title in _COLUMNS] + extra
    lines = ["| " + " | ".join(titles) + " | notes |", "|" + "---|" * (len(titles) + 1)]
    for row in results:
        values = asdict(row)
        notes = list(row.notes)
        if row.rss_before_mb is not None:
            notes.append(f"RSS {row.rss_before_mb} → {row.rss_after_mb} MB")
        cells = ["-" if values[key] is None else str(values[key]) for key, _ in _COLUMNS]
        if spread:
            cells += [_span(row.per_second_range), _span(row.cpu_range)]
        lines.append("| " + " | ".join(cells) + " | " + "; ".join(notes) + " |")
    return "\n".join(lines)


def _span(values: tuple[float, float] | None) -> str:
    return "-" if values is None else f"{values[0]} to {values[1]}"


_INTEGERS = ("sent", "done", "failed")
_MEDIANS = (
    "seconds",
    "per_second",
    "ack_p50_ms",
    "ack_p99_ms",
    "ack_max_ms",
    "reply_p50_ms",
    "reply_p99_ms",
    "cpu_ms_per_turn",
    "rss_before_mb",
    "rss_after_mb",
)


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


def _range(values: Sequence[float | None]) -> tuple[float, float] | None:
    known = [v for v in values if v is not None]
    return (min(known), max(known)) if known else None


def aggregate(results: Sequence[Result]) -> list[Result]:
    """One row per target, scenario and database, in the order they first ran: over several
    repeats, each figure is the repeats' median, with the lowest and highest /s and CPU per
    turn beside it (how far the shared machine moved them), and each repeat's notes."""
    groups: dict[tuple[str, str, str], list[Result]] = {}
    for row in results:
        groups.setdefault((row.target, row.scenario, row.database), []).append(row)
    out: list[Result] = []
    for rows in groups.values():
        if len(rows) == 1:
            out.append(rows[0])
            continue
        medians: dict[str, Any] = {k: _median([getattr(r, k) for r in rows]) for k in _MEDIANS}
        medians.update(
            {k: int(statistics.median_low([getattr(r, k) for r in rows])) for k in _INTEGERS}
        )
        notes = [list(r.notes) for r in rows]
        merged = (
            notes[0]
            if all(n == notes[0] for n in notes)
            else [f"r{r.repeat}: " + ", ".join(r.notes) for r in rows if r.notes]
        )
        out.append(
            dataclasses.replace(
                rows[0],
                **medians,
                notes=merged,
                repeat=0,
                repeats=len(rows),
                per_second_range=_range([r.per_second for r in rows]),
                cpu_range=_range([r.cpu_ms_per_turn for r in rows]),
            )
        )
    return out


def _closed(results: Sequence[Result], target: str, database: str | None = None) -> list[Result]:
    return [
        r
        for r in results
        if r.target == target
        and r.scenario.startswith("closed")
        and (database is None or r.database == database)
    ]


def ratios(results: Sequence[Result]) -> list[str]:
    """policybot's closed-loop turns per second as a share of the bare persisted turn's on the
    same database (the yardstick), and of the bare framework's acknowledgements; and the
    server's CPU per turn, each against the issue's targets."""
    out: list[str] = []
    for platform_name in ("slack", "teams"):
        for row in _closed(results, f"policybot {platform_name}"):
            shares: list[str] = []
            for name, persisted_platform, _, _ in PERSISTED:
                bare = _closed(results, name, row.database)
                if persisted_platform == platform_name and bare and bare[0].per_second:
                    share = row.per_second / bare[0].per_second
                    verdict = "meets" if share >= TARGET_SHARE else "misses"
                    shares.append(
                        f"{share:.0%} of {name}'s {bare[0].per_second}/s "
                        f"({verdict} the {TARGET_SHARE:.0%} target)"
                    )
            for name, ack_platform, _, _ in BASELINES:
                bare = _closed(results, name)
                if ack_platform == platform_name and bare and bare[0].per_second:
                    share = row.per_second / bare[0].per_second
                    shares.append(f"{share:.0%} of {name}'s {bare[0].per_second}/s acks")
            if shares:
                out.append(
                    f"{row.target} on {row.database}: {row.per_second}/s full turns = "
                    + "; ".join(shares)
                )
            if row.cpu_ms_per_turn is not None:
                limit = TARGET_CPU_MS[platform_name]
                verdict = "meets" if row.cpu_ms_per_turn <= limit else "misses"
                out.append(
                    f"{row.target} on {row.database}: server CPU {row.cpu_ms_per_turn} ms per "
                    f"turn, closed loop ({verdict} the {limit:g} ms target)"
                )
    return out


@dataclass(frozen=True)
class Figure:
    """One figure of the summary, from one repeat: `kind` says how it reads and against what."""

    subject: str  # "policybot slack on sqlite"
    kind: str  # "share", "acks", "cpu", "baseline /s", "baseline cpu"
    of: str  # what it is a share of: the yardstick's or the framework's name
    value: float
    platform: str
    detail: str = ""  # the 10x burst's exactly-once check, in that round


def figures(results: Sequence[Result]) -> list[Figure]:
    """The summary's figures from one repeat's closed-loop rows: policybot's turns per second
    as a share of the bare persisted turn's and of the bare framework's acknowledgements, its
    CPU per turn, and with --baseline, this tree's /s and CPU per turn over the baseline's."""
    out: list[Figure] = []
    for platform_name in ("slack", "teams"):
        for row in _closed(results, f"policybot {platform_name}"):
            subject = f"{row.target} on {row.database}"
            for name, persisted_platform, _, _ in PERSISTED:
                bare = _closed(results, name, row.database)
                if persisted_platform == platform_name and bare and bare[0].per_second:
                    share = row.per_second / bare[0].per_second
                    out.append(Figure(subject, "share", name, share, platform_name))
            for name, ack_platform, _, _ in BASELINES:
                bare = _closed(results, name)
                if ack_platform == platform_name and bare and bare[0].per_second:
                    share = row.per_second / bare[0].per_second
                    out.append(Figure(subject, "acks", name, share, platform_name))
            if row.cpu_ms_per_turn is not None:
                out.append(Figure(subject, "cpu", "", row.cpu_ms_per_turn, platform_name))
            for burst in _scenario(results, row.target, row.database, "burst 10x"):
                check = next((n for n in burst.notes if n.startswith("lost ")), "unchecked")
                out.append(
                    Figure(subject, "burst", "", burst.ack_p99_ms, platform_name, detail=check)
                )
            for soak in _scenario(results, row.target, row.database, "soak "):
                if soak.rss_growth_mb_per_1000 is not None:
                    growth = soak.rss_growth_mb_per_1000
                    out.append(Figure(subject, "soak", soak.scenario, growth, platform_name))
            for base in _closed(results, f"{row.target} (baseline)", row.database)[:1]:
                if base.per_second:
                    ratio = row.per_second / base.per_second
                    out.append(Figure(subject, "baseline /s", base.target, ratio, platform_name))
                if row.cpu_ms_per_turn is not None and base.cpu_ms_per_turn:
                    ratio = row.cpu_ms_per_turn / base.cpu_ms_per_turn
                    out.append(Figure(subject, "baseline cpu", base.target, ratio, platform_name))
    return out


def _scenario(results: Sequence[Result], target: str, database: str, start: str) -> list[Result]:
    return [
        r
        for r in results
        if r.target == target and r.database == database and r.scenario.startswith(start)
    ]


def _verdict(ok: bool) -> str:
    return "meets" if ok else "misses"


def summary(results: Sequence[Result]) -> list[str]:
    """The summary: with one repeat, `ratios` as it always read (and the baseline's lines);
    with several, each figure computed per repeat, then the median of the repeats and their
    range, so a ratio compares a target with the yardstick that ran in the same round."""
    rounds: dict[int, list[Result]] = {}
    for row in results:
        rounds.setdefault(row.repeat, []).append(row)
    per_round = [figures(rows) for _, rows in sorted(rounds.items())]
    values: dict[tuple[str, str, str], list[float]] = {}
    details: dict[tuple[str, str, str], list[str]] = {}
    first: dict[tuple[str, str, str], Figure] = {}
    for found in per_round:
        for figure in found:
            key = (figure.subject, figure.kind, figure.of)
            values.setdefault(key, []).append(figure.value)
            details.setdefault(key, []).append(figure.detail)
            first.setdefault(key, figure)
    out = ratios(results) if len(rounds) == 1 else []
    for key, figure in first.items():
        got = values[key]
        middle, low, high = statistics.median(got), min(got), max(got)
        several = len(rounds) > 1
        if not several and figure.kind in ("share", "acks", "cpu"):
            continue  # already said by `ratios`
        spread = f"median of {len(got)}, {low:.2f} to {high:.2f}" if several else "1 repeat"
        if figure.kind == "share":
            out.append(
                f"{figure.subject}: {middle:.0%} of {figure.of}'s closed-loop turns/s "
                f"({len(got)} repeats: {low:.0%} to {high:.0%}; "
                f"{_verdict(middle >= TARGET_SHARE)} the {TARGET_SHARE:.0%} target)"
            )
        elif figure.kind == "acks":
            out.append(
                f"{figure.subject}: {middle:.0%} of {figure.of}'s closed-loop acks/s "
                f"({len(got)} repeats: {low:.0%} to {high:.0%})"
            )
        elif figure.kind == "cpu":
            limit = TARGET_CPU_MS[figure.platform]
            out.append(
                f"{figure.subject}: server CPU {middle:.2f} ms per turn, closed loop "
                f"({len(got)} repeats: {low:.2f} to {high:.2f}; "
                f"{_verdict(middle <= limit)} the {limit:g} ms target)"
            )
        elif figure.kind == "burst":
            checks = sorted(set(details[key]))
            out.append(
                f"{figure.subject}: 10x burst ack p99 {middle:g} ms ({spread}; "
                f"{_verdict(middle < TARGET_BURST_ACK_P99_MS)} the "
                f"{TARGET_BURST_ACK_P99_MS:g} ms target); " + ", ".join(checks)
            )
        elif figure.kind == "soak":
            out.append(
                f"{figure.subject}: {figure.of}, resident memory {middle:+.2f} MB per 1,000 turns"
            )
        elif figure.kind == "baseline /s":
            out.append(
                f"{figure.subject}: closed-loop turns/s x{middle:.2f} of {figure.of}'s ({spread})"
            )
        else:
            out.append(
                f"{figure.subject}: server CPU per turn x{middle:.2f} of {figure.of}'s ({spread})"
            )
    return out


def failures(results: Sequence[Result]) -> list[str]:
    """Rows whose checks failed (a message lost or answered twice, records that disagree)."""
    return [
        f"{r.target} {r.scenario} on {r.database} (repeat {r.repeat}): {note}"
        for r in results
        for note in r.notes
        if note.startswith("FAILED")
    ]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="turns per second, paced")
    parser.add_argument("--seconds", type=float, default=20.0, help="per closed/paced scenario")
    parser.add_argument("--soak-seconds", type=float, default=120.0)
    parser.add_argument(
        "--soak-rate", type=float, default=50.0, help="turns per second in the soak, paced"
    )
    parser.add_argument("--processes", type=int, default=2, help="servers sharing PostgreSQL")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "POLICYBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server where a throwaway database may be created ('' for SQLite only)",
    )
    parser.add_argument("--platform", choices=["slack", "teams", "both"], default="both")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a reply")
    parser.add_argument(
        "--burst-factor",
        type=float,
        default=10.0,
        help="the 10x burst: offered load as a multiple of the target's closed-loop rate (0: none)",
    )
    parser.add_argument("--burst-seconds", type=float, default=10.0, help="the 10x burst's length")
    parser.add_argument(
        "--burst-bare",
        action="store_true",
        help="the 10x burst for the bare persisted turns too (beyond this machine's generator)",
    )
    parser.add_argument(
        "--burst-people",
        type=int,
        default=0,
        help="staff beyond --people, in policybot's configuration, who send in the 10x burst only"
        " (they raise the CPU of every turn: see bench/README.md)",
    )
    parser.add_argument(
        "--soak-turns", type=int, default=10_000, help="policybot's memory soak, in turns (0: none)"
    )
    parser.add_argument(
        "--soak-share",
        type=float,
        default=0.6,
        help="the turn soak's pace, as a share of the server's closed-loop rate",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds of every target, one after another"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout whose policybot runs beside this one's, in the same rounds",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--profile", type=Path, help="write py-spy folded stacks of each server to this folder"
    )
    args = parser.parse_args(argv)
    options = Options(
        people=args.people,
        concurrency=args.concurrency,
        rate=args.rate,
        seconds=args.seconds,
        soak_seconds=args.soak_seconds,
        soak_rate=args.soak_rate,
        processes=args.processes,
        postgres=args.postgres or None,
        platforms=("slack", "teams") if args.platform == "both" else (args.platform,),
        timeout=args.timeout,
        profile=args.profile,
        burst_factor=args.burst_factor,
        burst_bare=args.burst_bare,
        burst_seconds=args.burst_seconds,
        burst_people=args.burst_people,
        soak_turns=args.soak_turns,
        soak_share=args.soak_share,
        repeats=max(1, args.repeats),
        baseline=args.baseline,
    )
    if options.baseline is not None and not (options.baseline / "bot" / "__main__.py").exists():
        parser.error(f"--baseline {options.baseline} is not a policybot checkout")
    if options.postgres and not postgres_reachable(options.postgres):
        print(f"PostgreSQL at {options.postgres} cannot be reached: SQLite only.", file=sys.stderr)
        options.postgres = None
    print(f"Machine: {machine()}", flush=True)
    print("  " + " | ".join(title for _, title in _COLUMNS), flush=True)
    results = asyncio.run(run(options))
    print()
    if options.repeats > 1:
        print(f"Medians of {options.repeats} repeats (each repeat's rows are printed above):")
    print(markdown(aggregate(results)))
    print()
    for line in summary(results):
        print(line)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    failed = failures(results)
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    from storage.db import sync_url

    try:
        engine = create_engine(sync_url(url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:  # any failure: measure SQLite alone and say so
        return False
    return True


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
