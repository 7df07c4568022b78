"""`policybot keys rotate|status`, and the settings behind them, as an IT admin replacing a key
would use them: each command in its own runtime, as a separate process would, on SQLite and on
PostgreSQL.

The group is run directly (it is registered in `policybot` by bot/cli/__init__.py) with the same
environment the `cli` fixture gives the whole command.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from bot.cli.keys import keys
from bot.config import load_settings
from bot.runtime import build_runtime
from dialogs.services.errors import ConfigError
from dialogs.services.messages import MessageKind
from tests.bot.conftest import Cli
from tests.bot.test_cli import Ran
from tests.support import AFTER_EVIDENCE, HAPPY_PATH, Person, file, png, text_of

SHOT = png("screenshot for the key tests")
DESCRIPTION = HAPPY_PATH[6]


def configured(cli: Cli, *keys_in_order: bytes) -> dict[str, str | None]:
    """The command's environment with these keys, the current one first (none: no key)."""
    current, *previous = keys_in_order or (None,)
    return {
        **cli.env,
        "POLICYBOT_EVIDENCE_KEY": current.decode() if current else None,
        "POLICYBOT_PREVIOUS_KEYS": ",".join(k.decode() for k in previous) or None,
    }


def run_keys(env: dict[str, str | None], *args: str) -> Ran:
    result = CliRunner().invoke(keys, list(args), env=env, prog_name="policybot keys")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"policybot keys {' '.join(args)} crashed") from result.exception
    return Ran(args, result.exit_code, result.stdout, result.stderr)


def in_process(env: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in env.items() if v is not None}


def file_a_report(env: dict[str, str | None]) -> str:
    """Sam reports abuse with a screenshot, in-process; returns the reference."""

    async def go() -> str:
        runtime = build_runtime(load_settings(in_process(env)))
        try:
            sam = Person(runtime)
            for answer in HAPPY_PATH:
                await sam.say(answer)
            await sam.say("", file("shot.png", SHOT))
            await sam.say("done")
            for answer in AFTER_EVIDENCE:
                await sam.say(answer)
            done = await sam.say("submit")
            assert done[-1].kind is MessageKind.DONE, text_of(done)
            return next(f.value for f in done[-1].facts if f.label == "Reference")
        finally:
            await runtime.close()

    return asyncio.run(go())


def description_as_lead(cli: Cli, env: dict[str, str | None], reference: str) -> str:
    shown = Cli(env).run("cases", "show", reference, "--as", "dana", "--json")
    assert shown.code == 0, shown.err
    description: str = json.loads(shown.out)["description"]
    return description


def test_a_key_is_replaced_step_by_step_and_the_old_one_is_then_not_needed(cli: Cli) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    reference = file_a_report(configured(cli, old))
    start = run_keys(configured(cli, old), "status", "--json").json()
    assert start["keys"] == 1
    assert start["values"]["current"] > 0
    assert start["files"] == {"plain": 0, "current": 1, "older": 0, "unreadable": 0, "missing": 0}

    # The new key is configured, the old one kept to read what it wrote.
    both = configured(cli, new, old)
    pending = run_keys(both, "status")
    assert pending.code == 0, pending.err
    assert "Keys: the current key only" in run_keys(configured(cli, old), "status").out
    assert "the current key and 1 previous key" in pending.out
    assert "An older key is still needed: run `policybot keys rotate`." in pending.out
    assert run_keys(both, "status", "--json").json()["older_key_needed"] is True

    rotated = run_keys(both, "rotate")

    assert rotated.code == 0, rotated.err
    values = start["values"]["current"]
    assert f"Text: {values} values rewritten under the current key" in rotated.out
    assert "Evidence files: 1 file rewritten under the current key" in rotated.out
    done = run_keys(both, "status")
    assert "Nothing is left under an older key: the previous keys can be removed" in done.out
    assert "still needed" not in done.out

    # The old key is removed: everything still reads, and nothing needs it.
    only_new = configured(cli, new)
    after = run_keys(only_new, "status", "--json").json()
    assert after["values"] == {"plain": 0, "current": values, "older": 0, "unreadable": 0}
    assert after["files"] == {"plain": 0, "current": 1, "older": 0, "unreadable": 0, "missing": 0}
    assert description_as_lead(cli, only_new, reference) == DESCRIPTION
    again = run_keys(only_new, "rotate", "--batch", "1")  # harmless to run again
    assert again.code == 0, again.err
    assert "0 files rewritten under the current key" in again.out
    assert "1 file already under it" in again.out


def test_what_was_stored_before_a_key_was_set_is_counted_then_encrypted(cli: Cli) -> None:
    reference = file_a_report(configured(cli))
    unkeyed = run_keys(configured(cli), "status")
    assert unkeyed.code == 0, unkeyed.err
    assert "No key is configured (POLICYBOT_EVIDENCE_KEY)" in unkeyed.out
    assert "Evidence files: 1 not encrypted" in unkeyed.out

    key = Fernet.generate_key()
    keyed = configured(cli, key)
    plain = run_keys(keyed, "status", "--json").json()
    assert plain["values"]["plain"] > 0
    assert plain["files"]["plain"] == 1
    assert "`policybot keys rotate` encrypts them" in run_keys(keyed, "status").out

    rotated = run_keys(keyed, "rotate")

    assert rotated.code == 0, rotated.err
    assert f"{plain['values']['plain']} unencrypted values encrypted" in rotated.out
    assert "1 unencrypted file encrypted" in rotated.out
    after = run_keys(keyed, "status", "--json").json()
    assert (after["values"]["plain"], after["files"]["plain"]) == (0, 0)
    assert after["values"]["current"] == plain["values"]["plain"]
    assert description_as_lead(cli, keyed, reference) == DESCRIPTION


def test_a_key_removed_too_early_is_reported_and_rotation_changes_nothing(cli: Cli) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    reference = file_a_report(configured(cli, old))
    too_early = configured(cli, new)

    shown = run_keys(too_early, "status")
    assert shown.code == 0
    assert "cannot be read with the configured keys" in shown.err
    rotated = run_keys(too_early, "rotate")
    assert rotated.code == 1
    assert "could not be read with the configured keys and were left as they are" in rotated.err
    assert "Traceback" not in rotated.err

    assert description_as_lead(cli, configured(cli, new, old), reference) == DESCRIPTION


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # not about the database
def test_rotating_without_a_key_is_refused(cli: Cli) -> None:
    ran = run_keys(configured(cli), "rotate")
    assert ran.code == 2
    assert "No key is configured: set POLICYBOT_EVIDENCE_KEY" in ran.err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_previous_keys_without_a_current_key_stop_the_command(cli: Cli) -> None:
    previous = Fernet.generate_key().decode()
    env = {**configured(cli), "POLICYBOT_PREVIOUS_KEYS": previous}
    for args in (["status"], ["rotate"]):
        ran = run_keys(env, *args)
        assert ran.code == 2
        assert "POLICYBOT_PREVIOUS_KEYS is set but POLICYBOT_EVIDENCE_KEY is not" in ran.err
        assert previous not in ran.out + ran.err


# -- the settings ------------------------------------------------------------------------------


def settings_env(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"POLICYBOT_DATA_DIR": str(tmp_path / "data"), **env}


def test_all_keys_come_current_first_and_are_never_shown(tmp_path: Path) -> None:
    current, first, second = (Fernet.generate_key() for _ in range(3))
    settings = load_settings(
        settings_env(
            tmp_path,
            POLICYBOT_EVIDENCE_KEY=current.decode(),
            # Spaces, an empty item and the current key repeated are all forgiven.
            POLICYBOT_PREVIOUS_KEYS=f" {first.decode()} ,, {second.decode()},{current.decode()}",
        )
    )

    assert settings.keys == (current, first, second)
    assert settings.previous_keys == (first, second)
    for key in (current, first, second):
        assert key.decode() not in repr(settings)


def test_without_previous_keys_only_the_current_key_is_used(tmp_path: Path) -> None:
    current = Fernet.generate_key()
    env = settings_env(tmp_path, POLICYBOT_EVIDENCE_KEY=current.decode())
    assert load_settings(env).keys == (current,)
    assert load_settings({**env, "POLICYBOT_PREVIOUS_KEYS": " "}).keys == (current,)
    assert load_settings(settings_env(tmp_path)).keys == ()


def test_previous_keys_without_a_current_key_are_refused(tmp_path: Path) -> None:
    previous = Fernet.generate_key()
    with pytest.raises(ConfigError) as refused:
        load_settings(settings_env(tmp_path, POLICYBOT_PREVIOUS_KEYS=previous.decode()))
    assert refused.value.message == (
        "POLICYBOT_PREVIOUS_KEYS is set but POLICYBOT_EVIDENCE_KEY is not: previous keys only "
        "read what they encrypted, so set the current key as POLICYBOT_EVIDENCE_KEY too."
    )
    assert previous.decode() not in refused.value.message
    # Settings made in code (tests, tools) are held to the same rule.
    settings = load_settings(settings_env(tmp_path))
    with pytest.raises(ConfigError, match="POLICYBOT_EVIDENCE_KEY is not"):
        dataclasses.replace(settings, previous_keys=(previous,))


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        ("{good},not-a-key", "POLICYBOT_PREVIOUS_KEYS (key 2 of 2) is not a key made by"),
        ("{cut},{good}", "POLICYBOT_PREVIOUS_KEYS (key 1 of 2) is not a key made by"),
        ("changeme", "POLICYBOT_PREVIOUS_KEYS (key 1 of 1) is a placeholder"),
    ],
)
def test_a_previous_key_that_is_not_a_key_is_refused_without_showing_it(
    tmp_path: Path, previous: str, message: str
) -> None:
    good = Fernet.generate_key().decode()
    raw = previous.format(good=good, cut=good[:-4])
    with pytest.raises(ConfigError) as refused:
        load_settings(
            settings_env(
                tmp_path,
                POLICYBOT_EVIDENCE_KEY=Fernet.generate_key().decode(),
                POLICYBOT_PREVIOUS_KEYS=raw,
            )
        )
    assert refused.value.message.startswith(message)
    assert "policybot keygen" in refused.value.message
    for part in raw.split(","):
        assert part not in refused.value.message
    assert good[:8] not in str(refused.value)


def test_reading_encrypted_reports_without_their_key_says_which_setting_is_missing(
    cli: Cli,
) -> None:
    env = configured(cli, Fernet.generate_key())
    reference = file_a_report(env)
    without = Cli(configured(cli)).run("cases", "show", reference, "--as", "dana")
    assert without.code == 2
    assert "encrypted with a key that is not configured" in without.err
    assert "POLICYBOT_EVIDENCE_KEY" in without.err
    assert "Traceback" not in without.err
