"""How the scheduled jobs (bot.jobs.scheduler) keep to their schedule: the sweeps' lag.

The scheduler tells this watch when each job is started, finishes, fails, is missed or is
skipped because its last run has not finished; a scrape turns that into gauges. The one to
alert on is `policybot_job_lag_seconds`: how far a job's last success is behind its schedule
(0 while it succeeds every interval; growing while it fails, hangs or is never run).
`policybot_scheduler_leader` says whether this server runs the jobs at all: of several servers on
one database exactly one does, and only its jobs are reported.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

_RESULTS = {
    EVENT_JOB_EXECUTED: "ok",
    EVENT_JOB_ERROR: "failed",
    EVENT_JOB_MISSED: "missed",  # not run at all: the process was too busy or asleep
    EVENT_JOB_MAX_INSTANCES: "skipped",  # its previous run had not finished
}


class JobWatch(Collector):
    def __init__(self) -> None:
        self._scheduler: Any = None
        self._since = time.time()  # before a job's first success, lag counts from here
        self._last_success: dict[str, float] = {}
        self._start_delay: dict[str, float] = {}
        self._runs: Counter[tuple[str, str]] = Counter()
        # None: the scheduler runs by itself (a terminal chat), not only while leading.
        self._leading: bool | None = None

    def leading(self, leading: bool) -> None:
        """This server began (True) or stopped (False) running the jobs: of several servers on
        one database only the leader runs them (bot.jobs.scheduler), so only its jobs can lag."""
        self._leading = leading
        if leading:
            self._since = time.time()

    def watch(self, scheduler: Any) -> None:
        """Listen to a started APScheduler scheduler (untyped: apscheduler has no stubs)."""
        self._scheduler = scheduler
        self._since = time.time()
        scheduler.add_listener(
            self.on_event,
            EVENT_JOB_SUBMITTED
            | EVENT_JOB_EXECUTED
            | EVENT_JOB_ERROR
            | EVENT_JOB_MISSED
            | EVENT_JOB_MAX_INSTANCES,
        )

    def on_event(self, event: Any) -> None:
        """An APScheduler event: a job was started, or a run ended one way or another."""
        job_id = str(event.job_id)
        if event.code == EVENT_JOB_SUBMITTED:
            if event.scheduled_run_times:
                due = max(event.scheduled_run_times)
                late = (datetime.now(UTC) - due).total_seconds()
                self._start_delay[job_id] = max(0.0, late)
            return
        result = _RESULTS.get(event.code)
        if result is None:
            return
        self._runs[(job_id, result)] += 1
        if result == "ok":
            self._last_success[job_id] = time.time()

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        if self._scheduler is None:
            return
        leader = GaugeMetricFamily(
            "policybot_scheduler_leader",
            "1 while this server runs the scheduled jobs; of several on one database, one does.",
        )
        leader.add_metric([], 0 if self._leading is False else 1)
        yield leader
        now = time.time()
        interval = GaugeMetricFamily(
            "policybot_job_interval_seconds",
            "How often each scheduled job is meant to run.",
            labels=["job"],
        )
        since = GaugeMetricFamily(
            "policybot_job_seconds_since_success",
            "Seconds since each job last succeeded (since the scheduler started, before then).",
            labels=["job"],
        )
        lag = GaugeMetricFamily(
            "policybot_job_lag_seconds",
            "How far each job's last success is behind its schedule: seconds since it beyond "
            "one interval (0 while on time).",
            labels=["job"],
        )
        # Only the leader runs the jobs: on another server nothing is late.
        jobs = [] if self._leading is False else self._scheduler.get_jobs()
        for job in jobs:
            every = getattr(job.trigger, "interval", None)
            if every is None:
                continue
            seconds = every.total_seconds()
            ago = max(0.0, now - self._last_success.get(job.id, self._since))
            interval.add_metric([job.id], seconds)
            since.add_metric([job.id], ago)
            lag.add_metric([job.id], max(0.0, ago - seconds))
        yield from (interval, since, lag)
        delay = GaugeMetricFamily(
            "policybot_job_start_delay_seconds",
            "How late each job's last run started after the time it was due.",
            labels=["job"],
        )
        for job_id, seconds in sorted(self._start_delay.items()):
            delay.add_metric([job_id], seconds)
        yield delay
        runs = CounterMetricFamily(
            "policybot_job_runs",
            "Scheduled job runs, by job and result (ok, failed, missed, skipped).",
            labels=["job", "result"],
        )
        for (job_id, result), count in sorted(self._runs.items()):
            runs.add_metric([job_id, result], count)
        yield runs
