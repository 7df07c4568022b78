"""What the server counts as it works: acknowledgements per channel, turns, policy answers.

These are plain counters and histograms, touched once per request or turn (an increment and
an observation, nothing more); what needs the database or the disk is measured only when
Prometheus asks (bot.observability.state). Each server has a registry of its own, so two apps
in one process (tests) never count into each other.

Labels are kinds, never people: a channel, an HTTP status, an outcome, a confidence.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

from dialogs.services.observer import Confidence, TurnResult

# Slack wants its answer within 3 s and Teams within 15 s: the buckets say how near.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0)
TURN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# No `_created` series beside each counter: Prometheus does not need them, and they would
# double the page (a setting of prometheus_client's, for the whole process).
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The server's counters (an Observer of dialogs.services.observer, too)."""

    def __init__(self, channels: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.acks = Counter(
            "policybot_acks",
            "Requests from a chat platform answered, by channel and HTTP status.",
            ["channel", "status"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "policybot_ack_seconds",
            "How long a chat platform waited for its request to be answered.",
            ["channel"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.turns = Counter(
            "policybot_turns",
            "Attempts at a turn, by channel and how they ended.",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "policybot_turn_seconds",
            "How long a turn took, from loading the conversation to saving it.",
            ["channel"],
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self.policy_answers = Counter(
            "policybot_policy_answers",
            "Policy questions answered in a turn, by how sure the answer was.",
            ["confidence"],
            registry=self.registry,
        )
        # Every series there is from the start, at zero, so a rate is never "no data".
        for confidence in Confidence:
            self.policy_answers.labels(confidence.value)
        for channel in channels:
            self.ack_seconds.labels(channel)
            self.turn_seconds.labels(channel)
            for result in TurnResult:
                self.turns.labels(channel, result.value)

    # -- the observer port (dialogs.services.observer) ------------------------------------

    def turn_taken(self, channel: str, result: TurnResult, seconds: float) -> None:
        self.turns.labels(channel, result.value).inc()
        self.turn_seconds.labels(channel).observe(seconds)

    def policy_answered(self, confidence: Confidence) -> None:
        self.policy_answers.labels(confidence.value).inc()

    # -- acknowledgements ---------------------------------------------------------------

    def acked(self, channel: str, status: int, seconds: float) -> None:
        self.acks.labels(channel, str(status)).inc()
        self.ack_seconds.labels(channel).observe(seconds)

    def timing_acks(self, channel: str, handler: Handler) -> Handler:
        """`handler` (a channel's route), with each answer it gives counted and timed: the
        channel itself knows nothing of metrics."""

        async def timed(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500  # what aiohttp answers for an error that escapes the handler
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.acked(channel, status, time.perf_counter() - started)

        return timed
