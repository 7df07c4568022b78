"""`policybot retention run` as an administrator would run it."""

from __future__ import annotations

import json

from tests.bot.conftest import Cli


def test_a_dry_run_says_what_would_go_at_each_school(cli: Cli) -> None:
    ran = cli.run("retention", "run", "--dry-run")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("oakfield: Would remove: cases anonymised 0, kept on hold 0")
    counted = json.loads(cli.run("retention", "run", "--json").out)
    assert counted["oakfield"]["dry_run"] is False
    assert counted["oakfield"]["cases_anonymised"] == 0
