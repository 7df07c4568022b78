"""`policybot accounts ...` as an IT administrator would run it."""

from __future__ import annotations

import json

from tests.bot.conftest import Cli


def test_the_register_lists_the_configured_accounts(cli: Cli) -> None:
    listed = json.loads(cli.run("accounts", "list", "--json").out)
    assert [(a["id"], a["platform"], a["source"]) for a in listed] == [
        ("website", "website", "configuration"),
        ("facebook", "facebook", "configuration"),
        ("instagram", "instagram", "configuration"),
    ]
    shown = json.loads(cli.run("accounts", "show", "instagram", "--json").out)
    assert shown["comment_deadlines"] is False
    missing = cli.run("accounts", "show", "tiktok")
    assert missing.code == 2
    assert "has no official account 'tiktok'" in missing.err


def test_recording_needs_an_approved_request_and_an_it_administrator(cli: Cli) -> None:
    assert cli.run("accounts", "requests").out.strip() == "No requests for new accounts."
    args = ["--id", "year6-blog", "--handle", "@y6", "--link", "https://instagram.com/y6"]
    refused = cli.run("accounts", "record", "AR-2026-0001", "--as", "sam", *args)
    assert refused.code != 0
    assert "Only the school's IT administrators record official accounts." in refused.err
    missing = cli.run("accounts", "record", "AR-2026-0001", "--as", "morgan", *args)
    assert missing.code != 0
    assert "can't find an account request AR-2026-0001" in missing.err
    bad_id = cli.run(
        "accounts",
        "record",
        "AR-2026-0001",
        "--as",
        "morgan",
        "--id",
        "Bad Id",
        "--handle",
        "@y6",
        "--link",
        "https://instagram.com/y6",
    )
    assert bad_id.code == 2
