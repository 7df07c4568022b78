"""Running the `policybot` command in-process, as a separate process would, with its own runtime
and the `database_url` fixture, so commands are tried on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.bot.test_cli import Ran, make_cli


@dataclass(frozen=True)
class Cli:
    env: dict[str, str | None]

    def run(self, *args: str) -> Ran:
        result = CliRunner().invoke(main, list(args), env=self.env, prog_name="policybot")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"policybot {' '.join(args)} crashed") from result.exception
        return Ran(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    made = make_cli(tmp_path, database_url)
    return Cli(
        {
            "POLICYBOT_DATA_DIR": made.env["POLICYBOT_DATA_DIR"],
            "DATABASE_URL": made.env["DATABASE_URL"],
            "POLICYBOT_CONFIG": None,
        }
    )
