"""bench/turns.py's arithmetic: server CPU per turn, the summary that compares policybot with
the bare persisted turn (over repeats, and with a baseline tree), the 10x burst's rate and its
exactly-once check, and the memory soak's readings. The servers themselves are tried in
tests/channels/test_bare_persisted.py; the benchmark's numbers are never asserted (the machine
is shared)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from bench.turns import (
    Expectations,
    Result,
    Sample,
    Target,
    aggregate,
    burst_rate,
    cpu_seconds,
    exactly_once,
    exactly_once_notes,
    failures,
    markdown,
    memory_notes,
    ratios,
    soak_marks,
    summarise,
    summary,
)


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


def test_the_10x_burst_is_offered_ten_times_the_closed_loop_rate_of_the_same_target() -> None:
    assert burst_rate(65.3, 10) == 653.0
    assert burst_rate(211.4, 2.5) == 528.5
    assert burst_rate(0.0, 10) == 0.0


def test_replies_are_matched_oldest_first_and_counted_once_each() -> None:
    async def scenario() -> tuple[tuple[int, int], int, list[bool]]:
        expected = Expectations()
        ledger = expected.keep_ledger()
        # One person with three messages in flight, the server answering in order.
        first = expected.expect("D1", "Who is being targeted?")
        second = expected.expect("D1", "immediate danger")
        third = expected.expect("D1", "Where did it happen?")
        other = expected.expect("D2", "Who is being targeted?")
        for e in (first, second, third, other):
            e.acknowledged = True
        expected.arrived("D1", '{"text": "Who is being targeted?"}')
        expected.arrived("D1", '{"text": "Please do not retaliate."}')  # a tip: no message's
        expected.arrived("D1", '{"text": "Is anyone in immediate danger?"}')
        expected.arrived("D1", '{"text": "Is anyone in immediate danger?"}')  # sent twice
        # The third message's reply never comes; D2's comes.
        expected.arrived("D2", '{"text": "Who is being targeted?"}')
        expected.stop_ledger()
        done = [e.future.done() for e in (first, second, third, other)]
        return exactly_once(ledger), expected.stray, done

    (lost, twice), stray, done = asyncio.run(scenario())
    assert (lost, twice, stray) == (1, 1, 1)
    assert done == [True, True, False, True]


def test_a_refused_message_is_not_counted_lost_and_a_withdrawn_one_takes_no_reply() -> None:
    async def scenario() -> tuple[tuple[int, int], bool]:
        expected = Expectations()
        ledger = expected.keep_ledger()
        refused = expected.expect("D1", "Who is being targeted?")  # never acknowledged
        expected.withdraw("D1", refused)
        kept = expected.expect("D1", "Who is being targeted?")
        kept.acknowledged = True
        expected.arrived("D1", "Who is being targeted?")
        return exactly_once(ledger), kept.future.done()

    assert asyncio.run(scenario()) == ((0, 0), True)


def test_the_exactly_once_check_fails_loudly() -> None:
    assert exactly_once_notes(0, 0) == ["lost 0 / twice 0"]
    notes = exactly_once_notes(2, 1, stray=5, refused=3)
    assert notes[0].startswith("FAILED")
    assert "lost 2 / twice 1" in notes
    result = _result("policybot slack", "sqlite", 60.0, 5.0)
    result.notes = notes
    assert failures([result, _result("policybot teams", "sqlite", 60.0, 5.0)]) == [
        f"policybot slack closed x50 on sqlite (repeat 1): {notes[0]}"
    ]


def test_the_soak_reads_memory_at_each_fifth_and_gives_growth_per_thousand_turns() -> None:
    assert soak_marks(10_000) == {2000, 4000, 6000, 8000}
    readings = [(0, 150.0), (2000, 160.0), (4000, 161.0), (6000, 159.0), (8000, 161.5)]
    notes = memory_notes([*readings, (10_000, 160.0)])
    assert notes[:3] == [
        "RSS start 150.0 MB, end 160.0 MB, max 161.5 MB",
        "growth +1.00 MB per 1,000 turns",
        "+0.00 MB per 1,000 turns after the first fifth",  # a cache filled, then flat
    ]
    assert memory_notes([(0, 150.0)]) == []


def test_repeats_are_aggregated_as_medians_with_their_range() -> None:
    rows = []
    for repeat, (per_second, cpu) in enumerate([(60.0, 15.0), (70.0, 14.0), (64.0, 16.5)], 1):
        row = _result("policybot slack", "sqlite", per_second, cpu)
        row.repeat, row.notes = repeat, [f"note {repeat}"]
        rows.append(row)
    single = _result("policybot slack", "postgresql", 50.0, None)
    (slack, pg) = aggregate([*rows, single])
    assert (slack.per_second, slack.cpu_ms_per_turn, slack.repeats) == (64.0, 15.0, 3)
    assert (slack.per_second_range, slack.cpu_range) == ((60.0, 70.0), (14.0, 16.5))
    assert slack.notes == ["r1: note 1", "r2: note 2", "r3: note 3"]
    assert pg is single
    assert "60.0 to 70.0" in markdown([slack, pg])


def test_the_summary_over_repeats_takes_each_repeats_ratio_then_the_median() -> None:
    results = []
    for repeat, (bare, bot, cpu) in enumerate([(200.0, 60.0, 15.0), (100.0, 40.0, 14.0)], 1):
        for row in (
            _result("bare Bolt, persisted", "sqlite", bare, 2.0),
            _result("policybot slack", "sqlite", bot, cpu),
            _result("policybot slack (baseline)", "sqlite", bot / 2, cpu * 2),
        ):
            row.repeat = repeat
            results.append(row)
    # 30% and 40% in the two rounds: the median of the ratios, not the ratio of the medians.
    assert summary(results) == [
        "policybot slack on sqlite: 35% of bare Bolt, persisted's closed-loop turns/s "
        "(2 repeats: 30% to 40%; misses the 50% target)",
        "policybot slack on sqlite: server CPU 14.50 ms per turn, closed loop "
        "(2 repeats: 14.00 to 15.00; misses the 3 ms target)",
        "policybot slack on sqlite: closed-loop turns/s x2.00 of policybot slack (baseline)'s "
        "(median of 2, 2.00 to 2.00)",
        "policybot slack on sqlite: server CPU per turn x0.50 of policybot slack (baseline)'s "
        "(median of 2, 0.50 to 0.50)",
    ]


def test_one_repeat_keeps_the_summary_as_it_was_and_adds_the_baseline() -> None:
    results = [
        _result("bare Bolt, persisted", "sqlite", 200.0, 3.0),
        _result("policybot slack", "sqlite", 120.0, 2.5),
        _result("policybot slack (baseline)", "sqlite", 60.0, 5.0),
    ]
    assert summary(results) == [
        *ratios(results),
        "policybot slack on sqlite: closed-loop turns/s x2.00 of policybot slack (baseline)'s "
        "(1 repeat)",
        "policybot slack on sqlite: server CPU per turn x0.50 of policybot slack (baseline)'s "
        "(1 repeat)",
    ]


def test_the_summary_gives_the_10x_bursts_p99_ack_and_check_and_the_soaks_growth() -> None:
    results = []
    for repeat, p99 in ((1, 900.0), (2, 80.0), (3, 120.0)):
        closed = _result("policybot slack", "sqlite", 60.0, 9.0)
        burst = _result("policybot slack", "sqlite", 60.0, 9.0)
        burst.scenario, burst.ack_p99_ms = "burst 10x closed", p99
        burst.notes = ["offered 600/s", "lost 0 / twice 0"]
        closed.repeat = burst.repeat = repeat
        results += [closed, burst]
    soak = _result("policybot slack", "sqlite", 36.0, 9.0)
    soak.scenario, soak.rss_growth_mb_per_1000 = "soak 10000 turns", 0.25
    results.append(soak)
    lines = summary(results)
    assert (
        "policybot slack on sqlite: 10x burst ack p99 120 ms (median of 3, 80.00 to 900.00; "
        "misses the 100 ms target); lost 0 / twice 0"
    ) in lines
    assert (
        "policybot slack on sqlite: soak 10000 turns, resident memory +0.25 MB per 1,000 turns"
    ) in lines
