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
    args = [
        "--id",
        "year6-blog",
        "--handle",
        "@y6",
        "--link",
        "https://instagram.com/y6",
        "--credentials-stored",
    ]
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


def test_the_yearly_check_shows_in_the_register(cli: Cli) -> None:
    ran = cli.run("jobs", "accounts")
    assert ran.out.strip() == "asked 6 owners, flagged 0 concerns"
    shown = json.loads(cli.run("accounts", "show", "website", "--json").out)
    assert shown["owners"] == ["jo", "dana"]
    assert shown["check"]["owners_asked"] == ["jo", "dana"]
    assert shown["check"]["owners_answered"] == []
    assert shown["check"]["flagged"] == []
    listed = cli.run("accounts", "list").out
    assert "run by Jo Williams, Dana Okafor" in listed
    assert cli.run("jobs", "accounts").out.strip() == "asked 0 owners, flagged 0 concerns"


def test_changing_an_account_is_for_it_or_the_leaders_and_configured_ones_change_there(
    cli: Cli,
) -> None:
    refused = cli.run("accounts", "update", "website", "--as", "sam", "--add-owner", "priya")
    assert refused.code == 3
    assert "Only the IT administrators and senior leaders change the register." in refused.err
    configured = cli.run("accounts", "update", "website", "--as", "morgan", "--add-owner", "sam")
    assert configured.code == 1
    assert "is listed in the configuration: change it there" in configured.err
    bad = cli.run("accounts", "update", "website", "--as", "morgan", "--deadline-hours", "0")
    assert bad.code == 2
