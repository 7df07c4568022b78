"""bench/turns.py's arithmetic: server CPU per turn, and the summary that compares policybot with
the bare persisted turn. The servers themselves are tried in tests/channels/test_bare_persisted.py;
the benchmark's numbers are never asserted (the machine is shared)."""

from __future__ import annotations

import subprocess
import sys

from bench.turns import Result, Sample, Target, cpu_seconds, ratios, summarise


def _result(target: str, database: str, per_second: float, cpu: float | None) -> Result:
    return Result(
        target=target,
        scenario="closed x50",
        database=database,
        sent=100,
        done=100,
        failed=0,
        seconds=1.0,
        per_second=per_second,
        ack_p50_ms=1.0,
        ack_p99_ms=1.0,
        ack_max_ms=1.0,
        reply_p50_ms=1.0,
        reply_p99_ms=1.0,
        cpu_ms_per_turn=cpu,
    )


def test_cpu_per_turn_is_the_cpu_used_over_the_turns_done() -> None:
    target = Target(name="policybot slack", platform="slack", ports=[1], replies=True)
    samples = [Sample(ack=0.01, reply=0.1, status=200)] * 4 + [
        Sample(ack=0.01, reply=None, status=200)  # no reply: not done, so not counted
    ]
    result = summarise(target, "closed x4", "sqlite", samples, 1.0, cpu_seconds=0.02)
    assert (result.done, result.failed, result.cpu_ms_per_turn) == (4, 1, 5.0)
    assert summarise(target, "closed x4", "sqlite", samples, 1.0).cpu_ms_per_turn is None


def test_cpu_seconds_reads_a_running_process_and_gives_up_on_a_gone_one() -> None:
    process = subprocess.Popen([sys.executable, "-c", "sum(range(3_000_000))"])
    try:
        running = cpu_seconds([process.pid])
    finally:
        process.wait()
    assert running is not None
    assert running >= 0
    assert cpu_seconds([process.pid]) is None  # reaped: no /proc entry
    assert cpu_seconds([]) is None


def test_the_summary_gives_shares_of_the_bare_persisted_turn_per_database() -> None:
    lines = ratios(
        [
            _result("bare Bolt", "-", 2000.0, 0.3),
            _result("bare Bolt, persisted", "sqlite", 200.0, 3.0),
            _result("bare Bolt, persisted", "postgresql", 300.0, 3.0),
            _result("policybot slack", "sqlite", 120.0, 2.5),
            _result("policybot slack", "postgresql", 60.0, 12.0),
            _result("policybot slack", "postgresql x2 processes", 90.0, 11.0),
        ]
    )
    assert lines == [
        "policybot slack on sqlite: 120.0/s full turns = 60% of bare Bolt, persisted's 200.0/s "
        "(meets the 50% target); 6% of bare Bolt's 2000.0/s acks",
        "policybot slack on sqlite: server CPU 2.5 ms per turn, closed loop "
        "(meets the 3 ms target)",
        "policybot slack on postgresql: 60.0/s full turns = 20% of bare Bolt, persisted's "
        "300.0/s (misses the 50% target); 3% of bare Bolt's 2000.0/s acks",
        "policybot slack on postgresql: server CPU 12.0 ms per turn, closed loop "
        "(misses the 3 ms target)",
        "policybot slack on postgresql x2 processes: 90.0/s full turns = "
        "4% of bare Bolt's 2000.0/s acks",
        "policybot slack on postgresql x2 processes: server CPU 11.0 ms per turn, closed loop "
        "(misses the 3 ms target)",
    ]
