"""How long `policybot` commands take to start and finish, against Python starting and stopping.

A member of staff or an IT admin trying the policy from a terminal waits for the whole command,
and most of that wait used to be imports, not the answer. This runs each command as a new
process, the way a shell does, and measures its wall time from start to exit.

Measured, in every round and interleaved (the order rotating each round, so drift on the shared
machine falls on every command alike):

    python -c pass               the floor: the interpreter starting and stopping
    policybot --help             the command list (every command and its short help)
    ask --policy FILE            the bundled sample policy, read, parsed and searched
    ask --school ID              the sample school's imported policy, from the embedded SQLite
                                 database (migrated and imported in an untimed first run)

Each command is run as `python -m bot ...` with the tree on PYTHONPATH, the bundled sample
configuration and a throwaway data directory. Compiled bytecode is kept, as an installed package
keeps it, but under a throwaway PYTHONPYCACHEPREFIX (PYTHONDONTWRITEBYTECODE is cleared), so the
untimed first run compiles and every timed run reads bytecode, as a user's would. Reported: the
median and p90 wall time of each, the median as a multiple of `python -c pass`, and the median
CPU time (user and system) the command's process used: on a machine shared with other work, the
wall time waits for the CPU as well, while the CPU time is close to what the command takes on a
quiet machine.

With --baseline DIR (another checkout, e.g. `git worktree add /tmp/base main`), the same
commands of that tree run in the same rounds, and the report adds this tree's median over the
baseline's: a before/after measured side by side. Both trees' outputs are compared on every
command, so a faster command that says something else fails the run.

Run from the repository root:

    .venv/bin/python bench/startup.py [--runs N] [--baseline DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Can I post photos of pupils on my own Instagram?"
SCHOOL = "oakfield"  # the sample configuration's school

# The commands, as arguments after `python`.
COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "policybot --help": ["-m", "bot", "--help"],
    "ask --policy FILE": ["-m", "bot", "ask", "--policy", "bot/sample/policy.md", QUESTION],
    "ask --school ID": ["-m", "bot", "ask", "--school", SCHOOL, QUESTION],
}
FLOOR = "python -c pass"
# Settings a developer's shell may carry that would point the commands elsewhere.
CLEARED_PREFIXES = ("POLICYBOT_", "DATABASE_", "SLACK_", "MICROSOFT_APP_", "BOTFRAMEWORK_")


@dataclass
class Tree:
    """A checkout whose commands are timed, with a data directory of its own."""

    name: str
    path: Path
    data_dir: Path
    pycache: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        env["PYTHONPATH"] = str(self.path)
        env["POLICYBOT_DATA_DIR"] = str(self.data_dir)
        return env

    def run(self, args: list[str]) -> tuple[float, float, str]:
        """One run: wall seconds, CPU seconds, and what it printed (checked against the other
        tree's). Runs are one at a time, so the CPU time of this process's finished children
        grows by this run's alone."""
        used = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, *args],
            cwd=self.path,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        cpu = _children_cpu() - used
        if done.returncode != 0:
            raise SystemExit(
                f"{self.name}: `{' '.join(args)}` exited {done.returncode}:\n{done.stderr}"
            )
        return elapsed, cpu, done.stdout


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


Samples = dict[str, dict[str, list[float]]]  # tree -> command -> seconds, one per round


def measure(trees: list[Tree], runs: int) -> tuple[Samples, Samples]:
    """Every (tree, command) once per round, in an order that rotates from round to round:
    the wall times, and the CPU times."""
    pairs = [(tree, name) for name in COMMANDS for tree in trees]
    for tree, name in pairs:  # untimed: migrates and imports for --school, warms the disk cache
        tree.run(COMMANDS[name])
    outputs: dict[str, str] = {}
    for name in COMMANDS:
        printed = {tree.name: tree.run(COMMANDS[name])[2] for tree in trees}
        if len(set(printed.values())) > 1:
            raise SystemExit(f"`{name}` prints differently in {', '.join(printed)}")
        outputs[name] = next(iter(printed.values()))
    times: Samples = {t.name: {n: [] for n in COMMANDS} for t in trees}
    cpu: Samples = {t.name: {n: [] for n in COMMANDS} for t in trees}
    for round_ in range(runs):
        shift = round_ % len(pairs)
        for tree, name in pairs[shift:] + pairs[:shift]:
            elapsed, used, _ = tree.run(COMMANDS[name])
            times[tree.name][name].append(elapsed)
            cpu[tree.name][name].append(used)
    return times, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="rounds (each command once each)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time side by side")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="policybot-startup-") as scratch:
        scratch_path = Path(scratch)
        trees = [Tree("this tree", ROOT, scratch_path / "this", scratch_path / "pycache")]
        if args.baseline is not None:
            trees.append(
                Tree(
                    "baseline",
                    args.baseline.resolve(),
                    scratch_path / "baseline",
                    scratch_path / "pycache",
                )
            )
        times, cpu = measure(trees, args.runs)

    results: dict[str, Any] = {"runs": args.runs, "python": sys.version.split()[0], "trees": {}}
    for tree in trees:
        floor = statistics.median(times[tree.name][FLOOR])
        results["trees"][tree.name] = {
            "path": str(tree.path),
            "commands": {
                name: {
                    "median_ms": round(statistics.median(samples) * 1000, 1),
                    "p90_ms": round(percentile(samples, 0.9) * 1000, 1),
                    "x_python": round(statistics.median(samples) / floor, 2),
                    "median_cpu_ms": round(statistics.median(cpu[tree.name][name]) * 1000, 1),
                }
                for name, samples in times[tree.name].items()
            },
        }
    if args.baseline is not None:
        results["this / baseline"] = {
            name: round(
                statistics.median(times["this tree"][name])
                / statistics.median(times["baseline"][name]),
                2,
            )
            for name in COMMANDS
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    print(f"{args.runs} rounds, every command once per round; Python {results['python']}")
    for tree_name, tree_results in results["trees"].items():
        print(f"\n{tree_name} ({tree_results['path']})")
        print(f"{'command':<24}{'median ms':>11}{'p90 ms':>9}{'x python':>10}{'cpu ms':>9}")
        for name, r in tree_results["commands"].items():
            print(
                f"{name:<24}{r['median_ms']:>11.1f}{r['p90_ms']:>9.1f}{r['x_python']:>10.2f}"
                f"{r['median_cpu_ms']:>9.1f}"
            )
    if args.baseline is not None:
        print(f"\n{'this tree / baseline':<24}{'median':>11}")
        for name, r in results["this / baseline"].items():
            print(f"{name:<24}{r:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
