"""One leader among servers on one PostgreSQL database: taken, lost with its connection, taken
again; and on SQLite, always this server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest

from storage.leadership import Leadership, _libpq_url

POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def _until(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    for _ in range(400):
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def _cut_connection_of(leader: Leadership, database_url: str) -> None:
    """What a network cut or a restarted database does to the leader's session."""
    connection = leader._connection
    assert connection is not None
    pid = connection.info.backend_pid
    async with await psycopg.AsyncConnection.connect(
        _libpq_url(database_url), autocommit=True
    ) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@POSTGRES
async def test_one_leads_and_another_takes_over_when_it_steps_down(database_url: str) -> None:
    first, second = Leadership(database_url), Leadership(database_url)
    try:
        assert await first.try_to_lead()
        assert not await second.try_to_lead()
        assert await first.still_leading()
        await first.step_down()
        assert await second.try_to_lead()
        assert not await first.try_to_lead()
    finally:
        await first.step_down()
        await second.step_down()


@POSTGRES
async def test_a_lost_connection_is_lost_leadership_and_it_can_be_taken_again(
    database_url: str,
) -> None:
    first, second = Leadership(database_url), Leadership(database_url)
    try:
        assert await first.try_to_lead()
        await _cut_connection_of(first, database_url)
        assert not await first.still_leading()
        assert not first.leading
        assert await second.try_to_lead()
        await second.step_down()
        assert await first.try_to_lead()  # the same server leads again
    finally:
        await first.step_down()
        await second.step_down()


@POSTGRES
async def test_other_names_and_other_schemas_do_not_compete(database_url: str) -> None:
    scheduler, other = Leadership(database_url), Leadership(database_url, name="another-job")
    try:
        assert await scheduler.try_to_lead()
        assert await other.try_to_lead()
    finally:
        await scheduler.step_down()
        await other.step_down()


@POSTGRES
async def test_the_loop_runs_the_jobs_on_one_server_and_hands_them_over(database_url: str) -> None:
    events: list[tuple[str, bool]] = []

    def loop(name: str) -> tuple[Leadership, asyncio.Task[None]]:
        leadership = Leadership(database_url, retry_seconds=0.05, check_seconds=0.05)
        task = asyncio.create_task(
            leadership.lead(
                gained=lambda: events.append((name, True)),
                lost=lambda: events.append((name, False)),
            )
        )
        return leadership, task

    first, first_task = loop("first")
    await _until(lambda: first.leading, "the first server leads")
    second, second_task = loop("second")
    try:
        await asyncio.sleep(0.3)  # several of the second's tries
        assert not second.leading
        # The leader's connection is cut: it stops its jobs, and exactly one server leads.
        await _cut_connection_of(first, database_url)
        await _until(lambda: ("first", False) in events, "the first server notices")
        await _until(lambda: first.leading != second.leading, "one server leads again")
        # (The second may take the lock a moment before the first notices it has gone: the
        # jobs' own row claims cover that moment, storage.leadership.)
        assert events[0] == ("first", True)
        assert events.count(("first", False)) == 1
        # Stopped (cancelled), the leader gives the lock up and the other takes it.
        leader_task = first_task if first.leading else second_task
        follower = second if first.leading else first
        leader_task.cancel()
        await asyncio.gather(leader_task, return_exceptions=True)
        await _until(lambda: follower.leading, "the other server takes over")
        assert (
            sum(1 for _, gained in events if gained) - sum(1 for _, gained in events if not gained)
            == 2
        )  # the cancelled one was never told it lost: it stopped altogether
    finally:
        for task in (first_task, second_task):
            task.cancel()
        await asyncio.gather(first_task, second_task, return_exceptions=True)
    assert not first.leading
    assert not second.leading


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_the_one_server_always_leads(database_url: str) -> None:
    gained: list[bool] = []
    leadership = Leadership(database_url)
    await leadership.lead(gained=lambda: gained.append(True), lost=lambda: gained.append(False))
    assert gained == [True]
    assert leadership.leading
    assert await leadership.still_leading()
