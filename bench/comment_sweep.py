"""How long the comment deadline sweep takes, and that it grows with comments due, not stored.

The sweep (`CommentService.sweep`) reads only comments whose `next_nudge_at` has passed, through
the index on that column, so a school with many stored comments should pay only for the ones
due now. This measures it on SQLite and on PostgreSQL with the real service and the bundled
sample configuration (school "oakfield", its "website" account, a 24-hour working-day deadline,
a nudge at 75% of it).

Data
    A "large" database holds --stored open comments (default 100,000) and a "small" one a tenth
    of that. Both are loaded with SQLAlchemy Core bulk inserts, with values the service itself
    would compute (`clock_start`, `due_at` and the first nudge from the school's calendar).
    In each, 500 comments were received on Tuesday 17 November 2026 from 15:00, 20 seconds
    apart, so their 75% nudges fall due on Wednesday from 09:00, 20 seconds apart; the rest were
    received later, so their first nudge is after every "now" used here. Which `now` the sweep
    is given decides how many are due (0, 100 or 500), with the same rows stored.

Measured
    time per sweep: `sweep()` (its advisory lock on PostgreSQL, the select, each due comment's
    nudge queued in the notification table and the comment advanced) and the flush of its last
    writes, in a transaction opened here and rolled back afterwards, so every repeat does the
    same work (the commit itself is not timed). Each result is checked: it nudged exactly the
    number due. Whatever the rollback did not undo is reset after each sweep, untimed (the
    due comments' stage and first nudge, the queued notifications): on SQLite that is every
    sweep, because each comment's RELEASE SAVEPOINT commits there (see bench/README.md), so
    its times include one commit per due comment, as in production.
    cases, interleaved in every repeat (the order alternating): 0 and 100 due over the small
    and over the large database, and 500 due over the large one. The ratios are measured side
    by side because the machine is shared and noisy: large / small with 0 due (the select and
    fixed costs) and with 100 due (both expected about 1) and, at the large size, 500 due /
    100 due (about 5, less the fixed costs). Empty sweeps take milliseconds, so they are run
    10 times per repeat (alternating small and large), the others once.
    statements: how many SQL statements one sweep sends (counted once per case, untimed).
    plan: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite, of the exact
    select the sweep sent with 100 due over the large database.

PostgreSQL is reached at --postgres (default postgresql://postgres@127.0.0.1:5432/postgres, or
$POLICYBOT_BENCH_POSTGRES_URL); two throwaway databases, policybot_bench_<pid>_small and _large,
are created there and dropped at the end. If it cannot be reached, only SQLite is measured.

Run from the repository root:

    .venv/bin/python bench/comment_sweep.py [--stored 100000] [--repeats 5] [--json]
        [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.runtime import Runtime, build_runtime, prepare_database  # noqa: E402
from dialogs.services.comments.card import CommentStatus  # noqa: E402
from dialogs.services.comments.incoming import CommentSource  # noqa: E402
from dialogs.services.comments.working_time import WorkingCalendar  # noqa: E402
from dialogs.services.school.schools import School  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import sync_url  # noqa: E402
from storage.models import Comment, Notification  # noqa: E402

SCHOOL = "oakfield"
ACCOUNT = "website"
DUE_COUNTS = (0, 100, 500)  # comments due in the cases measured; 500 is the sweep's batch size
POOL = max(DUE_COUNTS)  # comments that can be due, in each database
EMPTY_REPEATS = 10  # empty sweeps per repeat, in each database
SPACING = timedelta(seconds=20)  # between the due comments' nudges
POOL_RECEIVED = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # a Tuesday; London is on UTC then
LATER_RECEIVED = datetime(2026, 11, 17, 20, 0, tzinfo=UTC)  # the rest: from 20:00...
LATER_SPAN = timedelta(hours=12, minutes=30)  # ...to Wednesday 08:30
CHUNK = 5_000
COMMENT = Comment.metadata.tables["comment"]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
COMMENTS = (
    "Will the school be open tomorrow if it snows?",
    "Lovely photos from sports day, thank you to all the staff!",
    "When is the deadline for the trip payment?",
    "My son says the after-school club has been cancelled, is that right?",
    "Can you post the new uniform list again please?",
    "Who should I speak to about the parking outside the gates at pick-up?",
)


# -- data --------------------------------------------------------------------------------------


@dataclass
class Target:
    """One migrated database with its runtime and the `now` for each number due."""

    label: str
    stored: int
    runtime: Runtime
    nows: dict[int, datetime] = field(default_factory=dict)
    pool: list[dict[str, Any]] = field(default_factory=list)  # the due comments' first nudges
    restored: int = 0  # sweeps that the rollback did not undo


def comment_rows(calendar: WorkingCalendar, school: School, stored: int) -> list[dict[str, Any]]:
    """`stored` open comments: POOL whose nudges fall due 20 s apart, the rest due later."""
    within = timedelta(hours=school.comments.deadline_hours)
    fraction = school.comments.nudge_at[0]
    later = stored - POOL
    rows = []
    for i in range(stored):
        if i < POOL:
            received = POOL_RECEIVED + i * SPACING
        else:
            received = LATER_RECEIVED + LATER_SPAN * (i - POOL) / later
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "school_id": school.id,
                "reference": f"CM-2026-{i + 1:04d}",
                "account_id": ACCOUNT,
                "source": CommentSource.WEBHOOK.value,
                "external_id": f"bench-{i}",
                "author": f"Parent {i % 997}",
                "text": COMMENTS[i % len(COMMENTS)],
                "link": f"https://oakfield.example/news/{i % 50}#comment-{i}",
                "received_at": received,
                "logged_at": received,
                "logged_by": None,
                "deadline_minutes": round(within.total_seconds() / 60),
                "clock_start": calendar.clock_start(received),
                "due_at": calendar.due(received, within),
                "status": CommentStatus.OPEN.value,
                "nudge_stage": 0,
                "next_nudge_at": calendar.at_fraction(received, within, fraction),
                "breached": False,
            }
        )
    return rows


def nows(rows: list[dict[str, Any]]) -> dict[int, datetime]:
    """For each count in DUE_COUNTS, a `now` at which exactly that many comments are due."""
    nudges: list[datetime] = sorted(r["next_nudge_at"] for r in rows)
    half = SPACING / 2
    result = {n: (nudges[n - 1] + half if n else nudges[0] - half) for n in DUE_COUNTS}
    for n, now in result.items():
        assert sum(1 for r in rows if r["next_nudge_at"] <= now) == n
        assert all(r["due_at"] > now for r in rows[:n])  # each sends a "due soon" nudge
    return result


async def load(target: Target) -> None:
    runtime = target.runtime
    school = runtime.settings.directory.school(SCHOOL)
    assert school is not None
    assert school.account(ACCOUNT) is not None
    async with runtime.db.session() as session:
        # The calendar the service uses, so the values are the ones it would have stored.
        calendar = await runtime.services(session, POOL_RECEIVED).comments.calendar_for(school)
    rows = comment_rows(calendar, school, target.stored)
    async with runtime.db.engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            await connection.execute(insert(COMMENT), rows[start : start + CHUNK])
    async with runtime.db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load; the planner needs the statistics.
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE comment"))
    target.nows = nows(rows)
    target.pool = [{"b_id": r["id"], "b_next": r["next_nudge_at"]} for r in rows[:POOL]]


async def restore(target: Target) -> None:
    """Undo a sweep whose rollback did not undo it (SQLite: see the README), outside the
    timing: the due comments back at their first nudge and nothing queued. Their audit entries
    stay (the table is append-only); the sweep only adds to it."""
    async with target.runtime.db.session() as session:
        left = await session.scalar(select(func.count()).select_from(Notification))
        if not left:
            return
        target.restored += 1
        connection = await session.connection()
        await connection.execute(
            update(COMMENT)
            .where(COMMENT.c.id == bindparam("b_id"))
            .values(nudge_stage=0, next_nudge_at=bindparam("b_next"), breached=False),
            target.pool,
        )
        await connection.execute(delete(Notification.metadata.tables["notification"]))


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Case:
    target: Target
    due: int
    times_ns: list[int] = field(default_factory=list)
    statements: int = 0

    @property
    def name(self) -> str:
        return f"{self.due} due of {self.target.stored:,} stored"


@contextmanager
def statements_sent(runtime: Runtime) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def sweep_once(case: Case) -> int:
    """One sweep in a transaction of our own, rolled back; returns the nanoseconds it took."""
    runtime, now = case.target.runtime, case.target.nows[case.due]
    async with AsyncSession(runtime.db.engine, expire_on_commit=False) as session:
        transaction = await session.begin()
        try:
            start = time.perf_counter_ns()
            result = await runtime.services(session, now).comments.sweep()
            await session.flush()  # the last comment's writes, which the commit would send
            elapsed = time.perf_counter_ns() - start
        finally:
            await transaction.rollback()
    if result.skipped or result.nudged != case.due or result.overdue or result.escalated:
        raise RuntimeError(f"{case.name}: the sweep did not nudge exactly {case.due}: {result}")
    return elapsed


async def probe(case: Case) -> tuple[str, Any] | None:
    """An untimed sweep (it warms caches too) counting statements; returns the due select."""
    with statements_sent(case.target.runtime) as sent:
        await sweep_once(case)
    await restore(case.target)
    case.statements = len(sent)
    return next(((s, p) for s, p in sent if "FROM comment" in s and "next_nudge_at <=" in s), None)


async def query_plan(runtime: Runtime, statement: str, parameters: Any) -> list[str]:
    explain = "EXPLAIN QUERY PLAN " if runtime.db.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    async with runtime.db.engine.connect() as connection:
        transaction = await connection.begin()
        result = await connection.exec_driver_sql(explain + statement, parameters)
        rows = result.all()
        await transaction.rollback()
    if runtime.db.is_sqlite:
        return [str(row[-1]) for row in rows]
    return [str(row[0]) for row in rows]


async def unchanged(target: Target) -> None:
    """Every sweep was rolled back: nothing queued, and the same comments due as at the start."""
    async with target.runtime.db.session() as session:
        queued = await session.scalar(select(func.count()).select_from(Notification))
        for due, now in target.nows.items():
            count = await session.scalar(
                select(func.count()).select_from(Comment).where(col(Comment.next_nudge_at) <= now)
            )
            assert count == due, f"{target.label}: {count} due at {now}, expected {due}"
    assert queued == 0, f"{target.label}: {queued} notifications were left behind"


async def measure(small: Target, large: Target, repeats: int) -> dict[str, Any]:
    load_s = {}
    for target in (small, large):
        start = time.perf_counter()
        await load(target)
        load_s[target.label] = round(time.perf_counter() - start, 2)
    few, many = DUE_COUNTS[1], DUE_COUNTS[2]
    small_none, large_none = Case(small, 0), Case(large, 0)
    small_few, large_few = Case(small, few), Case(large, few)
    large_many = Case(large, many)
    cases = [small_none, large_none, small_few, large_few, large_many]
    # Each pair whose ratio is reported is adjacent in both directions; the empty sweeps take
    # a few milliseconds, so they are repeated more to see through the noise.
    order = [small_none, large_none] * EMPTY_REPEATS + [small_few, large_few, large_many]
    due_select = None
    for case in cases:
        found = await probe(case)
        if case is large_few:
            due_select = found
    for r in range(repeats):
        for case in order if r % 2 == 0 else reversed(order):
            case.times_ns.append(await sweep_once(case))
            await restore(case.target)
    for target in (small, large):
        await unchanged(target)
    plan = await query_plan(large.runtime, *due_select) if due_select else ["(not captured)"]
    return {
        "stored": {small.label: small.stored, large.label: large.stored},
        "load_s": load_s,
        # Sweeps (of all, probes included) whose changes survived the rollback and were reset.
        "not_rolled_back": {t.label: t.restored for t in (small, large)},
        "sweeps": {
            t.label: sum(len(c.times_ns) + 1 for c in cases if c.target is t)  # +1: the probe
            for t in (small, large)
        },
        "cases": {
            c.name: {**summary(c.times_ns), "statements": c.statements, "due": c.due} for c in cases
        },
        "ratios": {
            f"0 due: {large.stored:,} / {small.stored:,} stored": ratio(
                large_none.times_ns, small_none.times_ns
            ),
            f"{few} due: {large.stored:,} / {small.stored:,} stored": ratio(
                large_few.times_ns, small_few.times_ns
            ),
            f"{large.stored:,} stored: {many} / {few} due": ratio(
                large_many.times_ns, large_few.times_ns
            ),
        },
        "per_due_comment_ms": round(
            (median(large_many.times_ns) - median(large_few.times_ns)) / (many - few) / 1e6, 3
        ),
        "plan": plan,
    }


def median(samples: list[int]) -> float:
    return float(statistics.median(samples))


def percentile(samples: list[int], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return float(ordered[index])


def summary(samples_ns: list[int]) -> dict[str, Any]:
    return {
        "median_ms": round(median(samples_ns) / 1e6, 3),
        "p90_ms": round(percentile(samples_ns, 0.9) / 1e6, 3),
        "n": len(samples_ns),
    }


def ratio(a: list[int], b: list[int]) -> dict[str, float]:
    """Of the medians, of the fastest (the least disturbed by other work), and the range of the
    ratios of each pair timed side by side."""
    each = [x / y for x, y in zip(a, b, strict=True)]
    return {
        "of_medians": round(median(a) / median(b), 2),
        "of_minimums": round(min(a) / min(b), 2),
        "per_repeat_min": round(min(each), 2),
        "per_repeat_max": round(max(each), 2),
    }


# -- databases ---------------------------------------------------------------------------------


def postgres_problem(admin: URL) -> str | None:
    try:
        engine = create_engine(sync_url(admin))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means "not reachable"; reported, SQLite still runs
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@contextmanager
def postgres_databases(admin: URL, names: list[str]) -> Iterator[list[str]]:
    engine = create_engine(sync_url(admin), isolation_level="AUTOCOMMIT")
    created: list[str] = []
    try:
        with engine.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        yield [admin.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with engine.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def prepared(label: str, stored: int, url: str, data_dir: Path) -> Target:
    """The bundled sample's settings on `url`, migrated as `policybot` does it: SQLite by
    itself on start, PostgreSQL by `policybot db upgrade` (migrate.upgrade) beforehand."""
    settings = load_settings({"POLICYBOT_DATA_DIR": str(data_dir), "DATABASE_URL": url})
    if not settings.uses_embedded_database:
        migrate.upgrade(settings.database_url)
    prepare_database(settings)
    return Target(label, stored, build_runtime(settings))


async def run_targets(small: Target, large: Target, repeats: int) -> dict[str, Any]:
    try:
        return await measure(small, large, repeats)
    finally:
        await small.runtime.close()
        await large.runtime.close()


def bench_database(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    sizes = {"small": args.stored // 10, "large": args.stored}

    def targets(urls: dict[str, str]) -> tuple[Target, Target]:
        small, large = (
            prepared(label, sizes[label], urls[label], workdir / kind / label)
            for label in ("small", "large")
        )
        return small, large

    if kind == "sqlite":
        urls = {label: f"sqlite:///{workdir / f'{label}.sqlite3'}" for label in sizes}
        return asyncio.run(run_targets(*targets(urls), args.repeats))
    admin = make_url(args.postgres)
    names = [f"policybot_bench_{os.getpid()}_{label}" for label in sizes]
    with postgres_databases(admin, names) as made:
        return asyncio.run(run_targets(*targets(dict(zip(sizes, made, strict=True))), args.repeats))


# -- output ------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def print_table(results: dict[str, Any]) -> None:
    print(
        f"comment sweep: {results['repeats']} repeats, cases interleaved; "
        f"{results['cpus']} CPUs ({results['cpu']}), shared"
    )
    for kind, skipped in results["skipped"].items():
        print(f"\n{kind}: not measured ({skipped})")
    for kind, r in results["databases"].items():
        loads = ", ".join(f"{r['stored'][k]:,} rows in {r['load_s'][k]} s" for k in r["stored"])
        print(f"\n{kind} (loaded {loads})")
        print(f"{'time per sweep':<44}{'median ms':>10}{'p90 ms':>9}{'statements':>12}")
        for name, c in r["cases"].items():
            print(f"{name:<44}{c['median_ms']:>10.2f}{c['p90_ms']:>9.2f}{c['statements']:>12}")
        print(f"{'ratios, side by side':<44}{'medians':>10}{'fastest':>9}{'each pair':>12}")
        for name, q in r["ratios"].items():
            spread = f"{q['per_repeat_min']:.2f}-{q['per_repeat_max']:.2f}"
            print(f"{name:<44}{q['of_medians']:>10.2f}{q['of_minimums']:>9.2f}{spread:>12}")
        print(f"{'per due comment (500 vs 100 due), ms':<44}{r['per_due_comment_ms']:>10.2f}")
        reset = sum(r["not_rolled_back"].values())
        if reset:
            print(
                f"note: {reset} of {sum(r['sweeps'].values())} sweeps were not undone by the "
                "rollback (they commit as they go) and were reset instead, untimed"
            )
        print("plan of the due-comment select (100 due):")
        for line in r["plan"]:
            print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stored", type=int, default=100_000, help="comments in the large case")
    parser.add_argument("--repeats", type=int, default=5, help="timed sweeps per case")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("POLICYBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL database to create the throwaway ones from",
    )
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if unknown := set(kinds) - {"sqlite", "postgresql"}:
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    if args.stored < 10 * POOL:
        parser.error(f"--stored must be at least {10 * POOL:,} (the small case is a tenth)")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    results: dict[str, Any] = {
        "repeats": args.repeats,
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "skipped": {},
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as tmp:
        for kind in kinds:
            if kind == "postgresql":
                problem = postgres_problem(make_url(args.postgres))
                if problem is not None:
                    shown = make_url(args.postgres).render_as_string(hide_password=True)
                    print(
                        f"PostgreSQL at {shown} is not reachable ({problem}); measuring "
                        "SQLite only.",
                        file=sys.stderr,
                    )
                    results["skipped"][kind] = problem
                    continue
            results["databases"][kind] = bench_database(kind, args, Path(tmp))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
