"""What journaling an input costs when inputs arrive alone, and when they arrive together.

Every Slack or Teams input is written to the inbound journal (storage.journal) before the
platform is answered: its data synced, renamed into place, the folder synced. This admits
inputs through the real `Inbox.admit` into a real journal (encrypted, as with an evidence key)
in a fresh folder on this machine's disk, N at the same moment (1, 10, 100), and measures:

    wall ms/entry   from a burst's start until every admit has returned (each returns once
                    its entry is on disk), over the entries admitted
    CPU ms/entry    the process's CPU time (every thread: the writes run off the event loop)
                    over the same span, over the entries admitted

two ways, burst by burst in turn in one process, so both see the same machine at the same
moments: `per entry`, each admit writing its own entry in its own thread hop (the write path
before group commit, kept callable here), and `grouped`, the inbox as it is (storage.group_commit).

It also measures, as a turn does to find what its person sent earlier, `Journal.pending(key)`
with 1,000 other people's entries waiting (µs/call).

Each measurement runs in a new process whose PYTHONPATH is the tree measured. With --baseline
DIR (another checkout of the code, e.g. `git archive <commit> | tar -x -C DIR`), that tree's
own admits and lookups are measured too, in the same rounds, the order alternating, and this
tree's are reported over them. Reported are medians over the rounds.

Run from the repository root:

    .venv/bin/python bench/journal.py [--rounds 3] [--baseline DIR] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AT_ONCE = (1, 10, 100)
ENTRIES = 200  # admitted per way and measurement, in bursts of N
BACKLOG = 1000  # other people's entries waiting while a turn looks for its own
LOOKUPS = 500
TEXT = "Someone has posted a photo of me from the staff party with a nasty comment under it"
PER_ENTRY, GROUPED, TREE = "per entry", "grouped", "tree"


async def _admit_bursts(at_once: int, ways: list[str]) -> dict[str, dict[str, float]]:
    """Admit ENTRIES inputs each way, in bursts of `at_once`, the ways taking turns burst by
    burst. TREE is the tree's own inbox, whatever it does (for a baseline checkout)."""
    from cryptography.fernet import Fernet

    from dialogs.inbox import Arrival, Inbox, Input, Who
    from dialogs.services.messages import UserInput
    from dialogs.services.school.schools import Person, Role, School
    from storage.conversations import ConversationKey
    from storage.journal import Entry, Journal

    class PerEntry(Inbox):
        """The write path before group commit: one thread hop, one write, per entry."""

        async def _write(self, entry: Entry, path: Path) -> Path:
            assert self.journal is not None
            return await asyncio.to_thread(self.journal.write, entry, path)

        async def _durable(self, entry: Entry, path: Path) -> asyncio.Future[Path]:
            placed: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
            placed.set_result(await self._write(entry, path))
            return placed

    sam = Person(id="sam", name="Sam", roles=frozenset({Role.SAFEGUARDING_LEAD}))
    school = School(id="oakfield", name="Oakfield", people=(sam,))
    folder = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        journal = Journal(folder, keys=[Fernet.generate_key()])
        kinds: dict[str, Callable[..., Inbox]] = {PER_ENTRY: PerEntry, GROUPED: Inbox, TREE: Inbox}
        inboxes = {
            way: kinds[way](journal, take=_no_turn, clock=lambda: datetime.now(UTC), directory=None)
            for way in ways
        }
        spent = {way: {"wall": 0.0, "cpu": 0.0, "fsyncs": 0.0} for way in ways}
        syncs = _count_fsyncs()

        async def then(arrival: Arrival) -> None:
            pass  # the entry stays; cleared between bursts, outside the measurement

        for burst in range(ENTRIES // at_once):
            for way in ways if burst % 2 == 0 else list(reversed(ways)):
                inbox = inboxes[way]
                people = [
                    Who(sam, school, ConversationKey("slack", f"U{burst}-{n}", f"D{way}-{n}"))
                    for n in range(at_once)
                ]
                inputs = [Input("oakfield", "sam", UserInput(text=f"{TEXT} {n}")) for n in people]
                synced = len(syncs)
                started, started_cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(
                    *(inbox.admit(w, i, None, then) for w, i in zip(people, inputs, strict=True))
                )
                spent[way]["wall"] += time.perf_counter() - started
                spent[way]["cpu"] += time.process_time() - started_cpu
                spent[way]["fsyncs"] += len(syncs) - synced
                await inbox.settled()
                for path in journal.pending():
                    journal.done(path)
        # Seconds as ms, and fsyncs as they are, per entry.
        return {
            way: {
                what: total * (1 if what == "fsyncs" else 1e3) / ENTRIES
                for what, total in taken.items()
            }
            for way, taken in spent.items()
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _count_fsyncs() -> list[None]:
    """Every fsync from now on, in this process (one item each; appending is thread-safe)."""
    synced: list[None] = []
    fsync = os.fsync

    def counted(descriptor: Any) -> None:
        synced.append(None)
        fsync(descriptor)

    os.fsync = counted  # type: ignore[assignment]  # a wrapper, in this process only
    return synced


async def _no_turn(*args: Any, **kwargs: Any) -> list[Any]:
    return []


def _lookups() -> float:
    """µs per `pending(key)` with BACKLOG other conversations' entries waiting, as turns under
    a burst call it: one after another."""
    from dialogs.inbox import Input
    from dialogs.services.messages import UserInput
    from storage.conversations import ConversationKey
    from storage.journal import Entry, Journal

    folder = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        journal = Journal(folder)
        payload = Input("oakfield", "sam", UserInput(text=TEXT)).to_payload()
        now = datetime.now(UTC)
        for n in range(BACKLOG):
            key = ConversationKey("slack", f"U{n}", f"D{n}")
            journal.write(Entry(key=key, delivery_id=f"Ev{n}", received_at=now, payload=payload))
        mine = ConversationKey("slack", "U0SAM", "D0SAM")
        journal.write(Entry(key=mine, delivery_id="EvSAM", received_at=now, payload=payload))
        started = time.perf_counter()
        for _ in range(LOOKUPS):
            found = journal.pending(mine)
        elapsed = time.perf_counter() - started
        assert len(found) == 1
        return elapsed * 1e6 / LOOKUPS
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(what: str) -> Any:
    """One measurement, of the tree on this process's PYTHONPATH: `ways:N` admits in bursts
    of N each way (comma-separated), `lookup` the lookups."""
    if what == "lookup":
        return _lookups()
    ways, at_once = what.split(":")
    return asyncio.run(_admit_bursts(int(at_once), ways.split(",")))


def _run(tree: Path, what: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, str(Path(__file__).resolve()), "--measure", what],
        env=env,
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--json", action="store_true", help="print every round as JSON")
    parser.add_argument("--tables-of", type=Path, help="print the tables of a --json output")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return

    rounds: dict[str, list[Any]] = {}
    if args.tables_of:
        rounds = json.loads(args.tables_of.read_text())
        _tables(rounds, baseline="before 1" in rounds)
        return

    baseline: Path | None = args.baseline.resolve() if args.baseline else None

    def record(name: str, result: Any) -> None:
        rounds.setdefault(name, []).append(result)

    for n in range(args.rounds):
        for at_once in AT_ONCE:
            record(f"ways {at_once}", _run(ROOT, f"{PER_ENTRY},{GROUPED}:{at_once}"))
        # The trees in turn, the order alternating from round to round, so the shared
        # machine's drift falls on both alike.
        trees = {"after": ROOT, **({"before": baseline} if baseline else {})}
        order = list(trees) if n % 2 == 0 else list(reversed(trees))
        for name in order:
            for at_once in AT_ONCE:
                record(f"{name} {at_once}", _run(trees[name], f"{TREE}:{at_once}")[TREE])
            record(f"{name} lookup", _run(trees[name], "lookup"))
    if args.json:
        print(json.dumps(rounds, indent=2))
    else:
        _tables(rounds, baseline=baseline is not None)


def _tables(rounds: dict[str, list[Any]], *, baseline: bool) -> None:

    def median(name: str, way: str | None = None, what: str | None = None) -> float:
        picked = (r[way] if way else r for r in rounds[name])
        return float(statistics.median(r[what] if what else r for r in picked))

    count = len(rounds["ways 1"])
    print(f"Medians of {count} rounds; {ENTRIES} entries admitted per way and measurement.")
    print("\nOne process, the two write paths burst by burst in turn:\n")
    print(
        "| at once | wall ms/entry: per entry | grouped | grouped/per entry "
        "| CPU ms/entry: per entry | grouped | grouped/per entry "
        "| fsyncs/entry: per entry | grouped |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for at_once in AT_ONCE:
        cells: list[str] = []
        for what in ("wall", "cpu", "fsyncs"):
            old = median(f"ways {at_once}", PER_ENTRY, what)
            new = median(f"ways {at_once}", GROUPED, what)
            cells += [f"{old:.3f}", f"{new:.3f}"]
            if what != "fsyncs":
                cells.append(f"{new / old:.2f}")
        print(f"| {at_once} | " + " | ".join(cells) + " |")
    if not baseline:
        print(f"\npending(key), {BACKLOG} others waiting: {median('after lookup'):.1f} µs")
        return
    print("\nThis tree against the baseline, each its own inbox, in processes taking turns:\n")
    print(
        "| at once | wall ms/entry: before | after | after/before "
        "| CPU ms/entry: before | after | after/before |"
    )
    print("|---|---|---|---|---|---|---|")
    for at_once in AT_ONCE:
        cells = []
        for what in ("wall", "cpu"):
            old = median(f"before {at_once}", None, what)
            new = median(f"after {at_once}", None, what)
            cells += [f"{old:.3f}", f"{new:.3f}", f"{new / old:.2f}"]
        print(f"| {at_once} | " + " | ".join(cells) + " |")
    old, new = median("before lookup"), median("after lookup")
    print(
        f"\npending(key), {BACKLOG} others waiting, µs/call: before {old:.1f}, after {new:.1f} "
        f"({new / old:.3f})"
    )


if __name__ == "__main__":
    main()
