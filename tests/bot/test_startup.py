"""What each command imports: a one-off command should load only what it uses.

`policybot ask` is run by hand, and nearly all of its wait used to be imports of code it never
ran: the chat platforms' SDKs, the scheduler, the database layer for a file on disk. These run
the commands in a fresh interpreter and check which heavy packages ended up loaded. No timing
is asserted (the machine is shared); bench/startup.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import LAZY_COMMANDS, main

SAMPLE_POLICY = Path(__file__).resolve().parents[2] / "bot" / "sample" / "policy.md"

# Packages only the server, the scheduler or the dialogs use.
SERVER_ONLY = (
    "aiohttp",
    "apscheduler",
    "botbuilder",
    "dateparser",
    "prometheus_client",
    "slack_bolt",
    "slack_sdk",
    "structlog",
)
# What only a command that opens the database or reads uploads uses.
DATABASE_AND_UPLOADS = (
    "alembic",
    "cryptography",
    "PIL",
    "pydantic",
    "pypdf",
    "sqlalchemy",
    "sqlmodel",
)


# What the search used to load, and no longer needs (dialogs/services/policy/bm25.py).
SEARCH_LIBRARIES = ("bm25s", "numpy", "scipy")
SEARCH = "dialogs.services.policy.search"


def modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """Every module loaded once `policybot ARGS` has run, in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main({args!r}, standalone_mode=False)\n"
        "finally:\n"
        "    sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def loaded_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages loaded once `policybot ARGS` has run, in a fresh interpreter."""
    return {name.split(".")[0] for name in modules_after(args, env)}


def test_ask_with_a_policy_file_loads_neither_the_server_nor_the_database() -> None:
    modules = modules_after(["ask", "--policy", str(SAMPLE_POLICY), "Can I post photos of pupils?"])
    loaded = {name.split(".")[0] for name in modules}

    assert SEARCH in modules  # it did search
    assert loaded & {*SERVER_ONLY, *DATABASE_AND_UPLOADS, *SEARCH_LIBRARIES} == set()


def test_ask_with_a_school_reads_the_embedded_database_without_the_database_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("POLICYBOT_CONFIG", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    args = ["ask", "--school", "oakfield", "Can I post photos of pupils?"]
    first = modules_after(args)  # migrates the embedded database and imports the policy
    assert "storage.models" in first  # through the runtime, as every first start

    modules = modules_after(args)
    loaded = {name.split(".")[0] for name in modules}

    assert "storage.policy_in_force" in modules  # it read the version in force
    assert SEARCH in modules  # and searched it
    # Not the database layer (sqlite3 reads the row), nor what a command that writes needs.
    assert loaded & {*SERVER_ONLY, *DATABASE_AND_UPLOADS, *SEARCH_LIBRARIES} == {"pydantic"}
    assert "dialogs.services.school.permissions" not in modules  # it imports every table
    assert "holidays" not in loaded


def test_the_command_list_imports_no_command() -> None:
    loaded = loaded_after(["--help"])

    assert loaded & {*SERVER_ONLY, *DATABASE_AND_UPLOADS, *SEARCH_LIBRARIES} == set()


def test_the_command_list_is_what_every_command_says_of_itself() -> None:
    """The help recorded for each lazy command, shortened as click shortens it, is the help
    its own docstring gives, at any terminal width."""
    eager = click.Group(main.name, params=main.params, help=main.help, callback=main.callback)
    for name in main.list_commands(click.Context(main)):
        command = main.get_command(click.Context(main), name)
        assert command is not None
        eager.add_command(command, name)
    fresh = type(main)(
        main.name,
        params=main.params,
        help=main.help,
        callback=main.callback,
        commands={name: c for name, c in main.commands.items() if name not in LAZY_COMMANDS},
        lazy_commands=LAZY_COMMANDS,
    )

    for width in (60, 80, 200):
        want = CliRunner().invoke(eager, ["--help"], terminal_width=width)
        got = CliRunner().invoke(fresh, ["--help"], terminal_width=width)
        assert got.exit_code == want.exit_code == 0
        assert got.output == want.output
    for name, lazy in LAZY_COMMANDS.items():
        command = main.get_command(click.Context(main), name)
        assert command is not None
        assert lazy.help == command.get_short_help_str(limit=1000), name


def test_version_is_the_installed_packages_and_starts_nothing() -> None:
    """`policybot --version`, as a deployment's check runs it: the real command, in a process
    of its own, printing the version in the package's metadata and importing nothing heavy."""
    from importlib.metadata import version

    command = Path(sys.executable).parent / "policybot"
    done = subprocess.run(
        [str(command), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == f"policybot {version('policybot')}\n"
    assert done.stderr == ""
    loaded = loaded_after(["--version"])
    assert not loaded & {*SERVER_ONLY, *DATABASE_AND_UPLOADS}


def test_help_lists_the_version_option() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "--version" in result.output
