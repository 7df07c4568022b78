"""The metrics page after a burst of real Slack events and Teams activities.

Signed Slack events and Teams activities with real tokens arrive at once from several people on
both platforms, some replies are refused by Slack for a while (so the outbox has work), two
policy questions are asked, and a scheduled sweep runs; then the page is read the way
Prometheus reads it. Each named series must be there with values that fit what was done.
Nothing is timed: durations are only checked to be counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from bot.app import OBSERVABILITY
from bot.jobs.scheduler import start_scheduler
from tests.channels.teams.harness import DANA, JO, LEE, MORGAN, PRIYA
from tests.channels.teams.harness import SAM as TEAMS_SAM
from tests.conftest import Clock
from tests.observability.conftest import Served
from tests.observability.support import Page

SLACK_PEOPLE = ("U0SAM", "U0JO", "U0PRIYA", "U0DANA", "U0MORGAN")
TEAMS_PEOPLE = (TEAMS_SAM, JO, PRIYA, DANA, MORGAN)
WORDS = ("hello", "menu", "help", "my reports")
FRIEND_REQUEST = "ask Can I accept a friend request from a pupil?"
UNCOVERED = "ask What is the dress code for the staff Christmas party?"


async def burst(served: Served) -> tuple[int, int]:
    """Everyone writes at once on both platforms; returns how many requests each got."""
    slack = [served.slack.say(user, word) for user in SLACK_PEOPLE for word in WORDS]
    teams = [served.teams.say(person, word) for person in TEAMS_PEOPLE for word in WORDS[:3]]
    statuses = await asyncio.gather(*slack, *teams)
    assert statuses == [200] * len(slack) + [201] * len(teams)
    await served.settled()
    return len(slack), len(teams)


@asynccontextmanager
async def a_sweep_has_run(served: Served) -> AsyncIterator[None]:
    """The scheduler as `serve` starts it, with the draft sweep due now rather than in a
    quarter of an hour; entered once the watch has seen it succeed."""
    scheduler = start_scheduler(served.slack.runtime)
    served.app[OBSERVABILITY].watch_scheduler(scheduler)
    try:
        scheduler.get_job("draft-sweep").modify(next_run_time=datetime.now(UTC))
        for _ in range(3000):  # however long a loaded machine takes
            page = Page(await served.scrape())
            if page.total("policybot_job_runs_total", job="draft-sweep", result="ok"):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the draft sweep never ran")
        yield
    finally:
        scheduler.shutdown(wait=False)


async def test_every_series_is_on_the_page_after_a_burst(served: Served, clock: Clock) -> None:
    slack_sent, teams_sent = await burst(served)

    # A policy question on each platform: one the policy answers, one it doesn't.
    assert await served.slack.say("U0SAM", FRIEND_REQUEST) == 200
    await served.teams.say(LEE, UNCOVERED)
    # Slack refuses for longer than its client retries, and again when the worker tries: the
    # reply waits in the outbox, retried later.
    served.slack.fake.fail_next("chat.postMessage", status=503, times=6)
    assert await served.slack.say("U0LEE", "hello") == 200
    await served.settled()
    assert (await served.slack.deliver()).failed >= 1
    clock.advance(seconds=90)
    async with a_sweep_has_run(served):
        page = Page(await served.scrape())

    # Acknowledgements: every request was answered and counted, and its wait observed.
    slack_requests, teams_requests = slack_sent + 2, teams_sent + 1
    assert page.value("policybot_acks_total", channel="slack", status="200") >= slack_requests
    assert page.value("policybot_acks_total", channel="teams", status="201") >= teams_requests
    assert page.value("policybot_ack_seconds_count", channel="slack") >= slack_requests
    assert page.value("policybot_ack_seconds_count", channel="teams") >= teams_requests
    assert page.value("policybot_ack_seconds_bucket", channel="slack", le="+Inf") >= slack_requests
    assert page.value("policybot_ack_seconds_sum", channel="slack") > 0

    # Turns: one for each message at least, most of them saved; their durations observed.
    for channel, messages in (("slack", slack_requests), ("teams", teams_requests)):
        turns = page.total("policybot_turns_total", channel=channel)
        assert turns >= messages
        assert page.value("policybot_turns_total", channel=channel, outcome="done") >= messages
        assert page.value("policybot_turns_total", channel=channel, outcome="failed") == 0
        assert page.value("policybot_turn_seconds_count", channel=channel) == turns

    # Policy answers by confidence: the friend request was answered, the dress code was not.
    assert page.value("policybot_policy_answers_total", confidence="confident") >= 1
    not_answered = page.value("policybot_policy_answers_total", confidence="may_help") + page.value(
        "policybot_policy_answers_total", confidence="unanswered"
    )
    assert not_answered >= 1
    assert page.value("policybot_policy_answers_total", confidence="safeguarding") == 0

    # The outbox: Lee's reply waits for the worker, failed once, queued 90 seconds ago.
    assert page.value("policybot_database_up") == 1
    assert page.value("policybot_outbox_pending", state="queued") >= 1
    assert page.value("policybot_outbox_pending", state="sending") >= 0
    assert page.value("policybot_outbox_oldest_pending_seconds") >= 90
    assert page.value("policybot_deliveries_stuck", state="retrying") >= 1
    assert page.value("policybot_deliveries_stuck", state="escalated") == 0

    # The journal: every input was taken, nothing set aside.
    assert page.value("policybot_journal_pending") == 0
    assert page.value("policybot_journal_failed") == 0
    assert page.value("policybot_journal_oldest_pending_seconds") == 0

    # The sweeps: the draft sweep has just succeeded, so it is not behind; every job is listed.
    lags = [labels for name, labels, _ in page.samples if name == "policybot_job_lag_seconds"]
    jobs = {labels["job"] for labels in lags}
    assert jobs >= {"draft-sweep", "post-sweep", "comment-sweep", "retention", "people-sync"}
    assert page.value("policybot_job_lag_seconds", job="draft-sweep") == 0
    since = page.value("policybot_job_seconds_since_success", job="draft-sweep")
    assert 0 <= since < page.value("policybot_job_interval_seconds", job="draft-sweep")
    assert page.value("policybot_job_interval_seconds", job="comment-sweep") == 60
    assert page.value("policybot_job_start_delay_seconds", job="draft-sweep") >= 0
    assert all(value >= 0 for value in page.values("policybot_job_lag_seconds"))
