"""CPU per dialog turn, in this process: the work a turn does with no network in the way.

bench/turns.py measures the real server from outside (its CPU per turn from /proc); this takes
the same turns (the sample school with --people generated staff, each person answering the
first questions of a report, cancelling, and starting again) straight into
`runtime.runner.handle(...)` in one process, and times them with `time.process_time()`, so a
change to the dialog's own work (the prompt context, the register, rendering) can be measured on
its own and profiled.

Run from the repository root, with PYTHONPATH=. (and DATABASE_URL for PostgreSQL):

    .venv/bin/python bench/turn_cpu.py [--people N] [--turns N] [--repeats N] [--profile FILE]

With --baseline DIR (another checkout), each repeat runs the same turns in a child process of
each tree in turn, and the report gives this tree's median over the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from turns import SCRIPT, write_config  # noqa: E402  (the bench's own turns and school)


async def measure(
    people: int, turns: int, database_url: str | None, profile: str | None, *, freeze: bool
) -> float:
    """Milliseconds of CPU per turn, after one untimed round of the script (warm-up); with
    `freeze`, what the first turns would build is built, and everything start-up built is left
    out of garbage collection, as `policybot serve` does (bot.warm_start)."""
    from bot.config import load_settings
    from bot.runtime import build_runtime, prepare_database
    from dialogs.inbox import Who
    from dialogs.services.messages import Message, UserInput
    from storage import migrate
    from storage.conversations import ConversationKey

    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), people)
        env = {"POLICYBOT_CONFIG": str(config), "POLICYBOT_DATA_DIR": str(Path(folder) / "data")}
        if database_url:
            env["DATABASE_URL"] = database_url
        settings = load_settings(env)
        if settings.uses_embedded_database:
            prepare_database(settings)
        elif not migrate.is_up_to_date(settings.database_url):
            migrate.upgrade(settings.database_url)
        runtime = build_runtime(settings)
        await runtime.load_people()
        if freeze:
            from bot.warm_start import settle

            settle(runtime)
        school = runtime.directory.schools[0]
        speakers = [p for p in school.people if p.id.startswith("bench")][:8]
        step = 0
        run = uuid.uuid4().hex[:8]  # a database kept between runs has earlier conversations

        profiler = cProfile.Profile(time.process_time) if profile else None

        async def shown(message: Message) -> None:
            """A platform that takes every reply at once."""

        async def turn(timed: bool) -> float:
            """One turn; the CPU seconds of runner.handle() alone. Its replies are then sent
            and their outbox rows deleted, untimed, as the channel and the delivery worker
            would (left there, each turn would read the ever more replies waiting)."""
            nonlocal step
            person = speakers[step % len(speakers)]
            answer = SCRIPT[(step // len(speakers)) % len(SCRIPT)][0]
            step += 1
            key = ConversationKey("slack", person.id, f"D{person.id}-{run}")
            who = Who(person=person, school=school, key=key)
            delivery = f"Ev{run}{step}"
            if timed and profiler is not None:
                profiler.enable()
            started = time.process_time()
            replies = await runtime.runner.handle(who, UserInput(text=answer), delivery_id=delivery)
            spent = time.process_time() - started
            if timed and profiler is not None:
                profiler.disable()
            await runtime.runner.send_replies(who, replies, shown)
            await runtime.runner.forget_sent()
            return spent

        for _ in range(len(SCRIPT) * len(speakers)):
            await turn(timed=False)
        spent = 0.0
        for _ in range(turns):
            spent += await turn(timed=True)
        if profiler is not None and profile:
            profiler.dump_stats(profile)
        await runtime.close()
        return spent / turns * 1000


def child(tree: Path, options: argparse.Namespace) -> float:
    """One measurement in a new process importing policybot from `tree` (this script and its
    turns are the same for both trees)."""
    command = [
        sys.executable,
        str(HERE / "turn_cpu.py"),
        "--people",
        str(options.people),
        "--turns",
        str(options.turns),
        "--repeats",
        "1",
        "--json",
        *(["--freeze"] if options.freeze else []),
    ]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        command, env=env, cwd=tree, capture_output=True, check=True, text=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["ms_per_turn"][0])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of the timed turns here")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alongside")
    parser.add_argument(
        "--freeze", action="store_true", help="settle after start-up as the server does"
    )
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if options.baseline is None:
        runs = [
            asyncio.run(
                measure(
                    options.people,
                    options.turns,
                    database_url,
                    options.profile,
                    freeze=options.freeze,
                )
            )
            for _ in range(options.repeats)
        ]
        if options.json:
            print(json.dumps({"ms_per_turn": runs}))
        else:
            print(f"CPU per turn: median {statistics.median(runs):.2f} ms of {runs}")
        return 0
    this, base = [], []
    for _ in range(options.repeats):
        base.append(child(options.baseline.resolve(), options))
        this.append(child(HERE.parent, options))
    ratio = statistics.median(this) / statistics.median(base)
    print(
        f"CPU per turn: this tree {statistics.median(this):.2f} ms {this}, "
        f"baseline {statistics.median(base):.2f} ms {base}, ratio {ratio:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
