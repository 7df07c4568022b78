"""Dialog turns under load: policybot's real server against the bare persisted turn.

One command (`make bench-turns`) starts `policybot serve` on loopback in its own process, with a
generated configuration of --people staff (default 1,000), and drives it from this process:

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
           the server's resident memory read from /proc before and after.

Results are printed as a table (and with --json as JSON); bench/README.md keeps the last run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
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


def write_config(folder: Path, people: int) -> Path:
    """The bundled sample school with `people` more members of staff, each on Slack and Teams."""
    shutil.copy(SAMPLE / "policy.md", folder / "policy.md")
    text = (SAMPLE / "policybot.toml").read_text()
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


class Expectations:
    """Each person's awaited reply: resolved with the time the words of it reached a fake."""

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[str, asyncio.Future[float]]] = {}
        self.replies = 0

    def expect(self, key: str, words: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[key] = (words, future)
        return future

    def arrived(self, key: str, body: str) -> None:
        self.replies += 1
        waiting = self._waiting.get(key)
        if waiting is not None and waiting[0] in body and not waiting[1].done():
            waiting[1].set_result(time.monotonic())
            del self._waiting[key]


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

    async def turn(self, target: Target, person: Person) -> Sample:
        text, words = person.next_answer()
        if target.echoes:
            text = words = f"{text} #{uuid.uuid4().hex[:12]}"
        if target.platform == "slack":
            body, headers = slack_request(person, text)
        else:
            body, headers = teams_request(person, text, self.fake_url)
        reply = self.expected.expect(target.key(person), words) if target.replies else None
        started = time.monotonic()
        try:
            async with self.session.post(target.url(person), data=body, headers=headers) as got:
                await got.read()
                status = got.status
        except (aiohttp.ClientError, TimeoutError):
            status = 599
        acked = time.monotonic()
        if reply is None or status >= 300:
            if reply is not None:
                reply.cancel()
            return Sample(ack=acked - started, reply=None, status=status)
        try:
            arrived = await asyncio.wait_for(reply, self.timeout)
        except TimeoutError:
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
        self, target: Target, people: Sequence[Person], rate: float, seconds: float
    ) -> tuple[list[Sample], float, int]:
        """Open loop: a turn every 1/rate seconds by someone whose last turn is finished."""
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
        count = int(rate * seconds)
        for n in range(count):
            at = started + n / rate
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if idle.empty():
                skipped += 1  # everyone is still waiting for a reply: the server is behind
                continue
            task = asyncio.create_task(one(idle.get_nowait()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return samples, time.monotonic() - started, skipped

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


def policybot_env(config: Path, data_dir: Path, database_url: str, fake_url: str) -> dict[str, str]:
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
    )
    return env


@contextlib.asynccontextmanager
async def policybot_servers(
    count: int, config: Path, data_dir: Path, database_url: str, fake_url: str
) -> AsyncIterator[list[Started]]:
    env = policybot_env(config, data_dir, database_url, fake_url)
    async with contextlib.AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                running([str(POLICYBOT), "serve", "--host", "127.0.0.1"], env, "/healthz")
            )
            for _ in range(count)
        ]
        yield servers


def postgres_database(admin_url: str, name: str, *, migrated: bool = True) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage import migrate
    from storage.db import sync_url

    admin = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    if migrated:
        migrate.upgrade(url)
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
    notes = [f"{skipped} turns not sent: nobody idle"] if skipped else []
    drained = await driver.settle()
    if drained > 3:
        notes.append(f"{drained:.0f}s more to finish the backlog")
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
        before = sum(rss_mb(pid) for pid in target.pids)
        cpu = cpu_seconds(target.pids)
        samples, took, skipped = await driver.paced(
            target, people, options.soak_rate, options.soak_seconds
        )
        used = cpu_since(target.pids, cpu)
        after = sum(rss_mb(pid) for pid in target.pids)
        drained = await driver.settle()
        notes = [f"{skipped} turns not sent: nobody idle"] if skipped else []
        if drained > 3:
            notes.append(f"{drained:.0f}s more to finish the backlog")
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
        results.append(result)
    return results


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


async def run(options: Options) -> list[Result]:
    expected = Expectations()
    fakes = web.AppRunner(fake_platforms(expected), access_log=None)
    await fakes.setup()
    fake_port = free_port()
    await web.TCPSite(fakes, "127.0.0.1", fake_port).start()
    fake_url = f"http://127.0.0.1:{fake_port}"
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as folder:
        work = Path(folder)
        config = write_config(work, options.people)
        people = [Person(i) for i in range(options.people)]
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            driver = Driver(session, expected, fake_url, options.timeout)
            base_env = policybot_env(config, work / "unused", "sqlite://", fake_url)
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

            databases: list[tuple[str, str, int]] = [
                ("sqlite", f"sqlite:///{work / 'sqlite' / 'policybot.sqlite3'}", 1)
            ]
            # One fresh database for each configuration: people start again from their first
            # answer, so a database left mid-dialog by the previous configuration would have
            # them answering questions they are not being asked.
            pg_names: list[str] = []
            if options.postgres:
                for count in sorted({1, options.processes}):
                    pg_names.append(f"policybot_bench_{os.getpid()}_x{count}")
                    url = postgres_database(options.postgres, pg_names[-1])
                    databases.append(("postgresql", url, count))
            try:
                for database, url, count in databases:
                    data_dir = work / f"{database}-{count}"
                    data_dir.mkdir()
                    if database == "sqlite":
                        (work / "sqlite").mkdir(exist_ok=True)
                        from storage import migrate

                        migrate.upgrade(url)
                    label = database if count == 1 else f"{database} x{count} processes"
                    if count == 1:
                        # The yardstick first, on a fresh database of its own of the same kind.
                        if database == "sqlite":
                            bare_url = f"sqlite:///{work / 'bare.sqlite3'}"
                        else:
                            assert options.postgres  # the PostgreSQL rows come from there
                            pg_names.append(f"policybot_bench_{os.getpid()}_bare")
                            bare_url = postgres_database(
                                options.postgres, pg_names[-1], migrated=False
                            )
                        results += await measure_persisted(
                            driver, database, bare_url, base_env, options
                        )
                    async with policybot_servers(count, config, data_dir, url, fake_url) as servers:
                        for platform_name in options.platforms:
                            people = [Person(i) for i in range(options.people)]
                            target = Target(
                                name=f"policybot {platform_name}",
                                platform=platform_name,
                                ports=[s.port for s in servers],
                                replies=True,
                                pids=[s.process.pid for s in servers],
                            )
                            got = await measure_turns(
                                driver, target, people, label, options, soak=count == 1
                            )
                            results += got
                            print_rows(got)
            finally:
                for name in pg_names:
                    assert options.postgres  # the databases were made there
                    drop_postgres_database(options.postgres, name)
    await fakes.cleanup()
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
    lines = [
        "| " + " | ".join(title for _, title in _COLUMNS) + " | notes |",
        "|" + "---|" * (len(_COLUMNS) + 1),
    ]
    for row in results:
        values = asdict(row)
        notes = list(row.notes)
        if row.rss_before_mb is not None:
            notes.append(f"RSS {row.rss_before_mb} → {row.rss_after_mb} MB")
        cells = ["-" if values[key] is None else str(values[key]) for key, _ in _COLUMNS]
        lines.append("| " + " | ".join(cells) + " | " + "; ".join(notes) + " |")
    return "\n".join(lines)


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
    )
    if options.postgres and not postgres_reachable(options.postgres):
        print(f"PostgreSQL at {options.postgres} cannot be reached: SQLite only.", file=sys.stderr)
        options.postgres = None
    print(f"Machine: {machine()}", flush=True)
    print("  " + " | ".join(title for _, title in _COLUMNS), flush=True)
    results = asyncio.run(run(options))
    print()
    print(markdown(results))
    print()
    for line in ratios(results):
        print(line)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    return 0


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
