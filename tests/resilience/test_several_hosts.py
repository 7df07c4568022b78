"""Two `policybot serve` processes on one PostgreSQL database, as two hosts behind one address.

Exactly one of them runs the scheduled jobs (policybot_scheduler_leader on each one's metrics
page). The leader is killed (SIGKILL, no clean-up) in the middle of a person's turn, with the
message already acknowledged to Slack: the other server takes the jobs over within its retry
interval, and takes the message from the journal they share, so the person gets their reply:
as two processes on one machine (the killed one's pid has gone), and as two hosts, each with a
host id of its own (the killed one's lease runs out) and their evidence in one S3 bucket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from storage.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.observability.support import Page
from tests.resilience.test_killed_mid_turn import (
    SECRET,
    post,
    stored,
    told_after,
    turn_held_in_the_database,
    wait_for_file,
)
from tests.serving import free_port, serve_env, serving, slack_env, slack_message
from tests.storage.s3 import REGION, aws_environment, new_bucket, s3_server

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

RETRY_SECONDS = 1


async def adoptions(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.session() as session:
            found = await session.execute(text("SELECT count(*) FROM journal_adoption"))
            return int(found.scalar() or 0)
    finally:
        await db.dispose()


async def leader_gauge(session: aiohttp.ClientSession, metrics_port: int) -> float:
    async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
        return Page(await response.text()).value("policybot_scheduler_leader")


async def leaders(session: aiohttp.ClientSession, metrics_ports: list[int]) -> list[float]:
    return [await leader_gauge(session, port) for port in metrics_ports]


async def until_one_leads(session: aiohttp.ClientSession, metrics_ports: list[int]) -> int:
    """The index of the one server that leads, once one does (a generous wait, not a timing
    assertion: the retry interval is one second)."""
    for _ in range(300):
        found = await leaders(session, metrics_ports)
        if sorted(found) == [0.0] * (len(found) - 1) + [1.0]:
            return found.index(1.0)
        await asyncio.sleep(0.1)
    raise AssertionError(f"never exactly one leader: {found}")


@pytest.mark.parametrize("host_ids", [None, ("host-a", "host-b")], ids=["one-machine", "two-hosts"])
async def test_two_servers_run_one_scheduler_and_lose_nothing_when_the_leader_is_killed(
    tmp_path: Path, database_url: str, host_ids: tuple[str, str] | None
) -> None:
    shared_journal = tmp_path / "shared-journal"
    audit_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with contextlib.ExitStack() as stack:
        bucket: dict[str, str] = {}
        if host_ids is not None:  # two hosts keep their evidence in one bucket
            endpoint = stack.enter_context(s3_server())
            aws = aws_environment(tmp_path)
            stack.enter_context(_environment(aws))
            bucket = {
                **aws,
                "POLICYBOT_EVIDENCE_S3_BUCKET": new_bucket(endpoint),
                "POLICYBOT_EVIDENCE_S3_ENDPOINT": endpoint,
                "POLICYBOT_EVIDENCE_S3_REGION": REGION,
            }
        await _run(tmp_path, database_url, host_ids, shared_journal, audit_key, bucket)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            patch.setenv(name, value)
        yield


async def _run(
    tmp_path: Path,
    database_url: str,
    host_ids: tuple[str, str] | None,
    shared_journal: Path,
    audit_key: str,
    bucket: dict[str, str],
) -> None:
    async with FakeSlack() as fake:
        ports, metrics_ports, envs = [], [], []
        for index, host in enumerate(("a", "b")):
            port, metrics_port = free_port(), free_port()
            env = serve_env(tmp_path / f"data-{host}", database_url, **slack_env(fake, SECRET))
            env.update(
                POLICYBOT_JOURNAL_DIR=str(shared_journal),
                POLICYBOT_AUDIT_KEY=audit_key,
                POLICYBOT_METRICS_PORT=str(metrics_port),
                POLICYBOT_LEADER_RETRY_SECONDS=str(RETRY_SECONDS),
            )
            env.update(bucket)
            if host_ids is not None:
                env.update(POLICYBOT_HOST_ID=host_ids[index], POLICYBOT_LEASE_SECONDS="3")
            ports.append(port)
            metrics_ports.append(metrics_port)
            envs.append(env)

        async with (
            serving(envs[0], port=ports[0]) as first,
            serving(envs[1], port=ports[1]) as second,
            aiohttp.ClientSession() as session,
        ):
            processes = [first.process, second.process]
            for port in ports:  # with a bucket: ready only once it answers
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    assert response.status == 200, await response.text()
            leader = await until_one_leads(session, metrics_ports)
            follower = 1 - leader
            # Still exactly one after several of the follower's tries.
            for _ in range(3):
                await asyncio.sleep(RETRY_SECONDS)
                assert await leaders(session, metrics_ports) == [
                    1.0 if index == leader else 0.0 for index in range(2)
                ]

            assert await post(ports[leader], slack_message("report", "EvREPORT")) == 200
            await fake.wait_for("chat.postMessage", count=2, timeout=15)
            with turn_held_in_the_database(database_url):
                # Acknowledged to Slack (which will never send it again), then the leader dies.
                assert await post(ports[leader], slack_message("me", "EvKILLED")) == 200
                await wait_for_file(shared_journal / "pending")
                await asyncio.sleep(0.5)  # well inside the held transaction by now
                processes[leader].send_signal(signal.SIGKILL)
                await processes[leader].wait()
            assert processes[leader].returncode == -signal.SIGKILL
            posts_before = len(fake.calls_to("chat.postMessage"))

            for _ in range(300):
                if await leader_gauge(session, metrics_ports[follower]) == 1.0:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the surviving server never took the scheduler over")

            told = await told_after(fake, posts_before, "Is anyone in immediate danger", 60)
            assert "Is anyone in immediate danger" in told
            answers, claims = await stored(database_url)
            assert answers["affected"] == "me"
            assert claims == 1
            assert list((shared_journal / "pending").glob("*.entry")) == []
            # Two hosts: taken over through the lease (claimed once); one machine: by pid.
            assert await adoptions(database_url) == (0 if host_ids is None else 1)
            assert processes[follower].returncode is None
        if bucket:  # evidence is in the bucket, on neither host's disk
            assert not (tmp_path / "data-a" / "evidence").exists()
            assert not (tmp_path / "data-b" / "evidence").exists()
