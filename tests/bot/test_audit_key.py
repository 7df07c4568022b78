"""The audit key as an administrator sets it: from the environment, from a file they keep, or,
for the embedded default, a file made in the data directory on first start."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import load_settings
from bot.runtime import audit_key
from dialogs.services.errors import ConfigError
from tests.conftest import SAMPLE


def test_the_embedded_default_makes_its_key_once_readable_only_by_its_user(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {"POLICYBOT_CONFIG": str(SAMPLE), "POLICYBOT_DATA_DIR": str(tmp_path / "data")}
    )
    first = audit_key(settings)
    made = tmp_path / "data" / "audit.key"
    assert made.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in made.parent.iterdir()] == ["audit.key"]  # no draft left behind
    assert audit_key(settings) == first
    assert base64.urlsafe_b64decode(made.read_text().strip()) == first.secret
    assert first.secret.hex() not in repr(first)


def test_a_key_from_the_environment_or_a_file_kept_elsewhere(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    given = load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "POLICYBOT_AUDIT_KEY": key.decode(),
        }
    )
    assert audit_key(given).secret == base64.urlsafe_b64decode(key)
    assert not (tmp_path / "data" / "audit.key").exists()
    assert key.decode() not in repr(given)

    kept = tmp_path / "secrets" / "audit.key"
    kept.parent.mkdir()
    kept.write_text(key.decode() + "\n")
    from_file = load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "POLICYBOT_AUDIT_KEY_FILE": str(kept),
        }
    )
    assert audit_key(from_file) == audit_key(given)


def test_a_key_file_that_is_named_but_missing_is_not_made_afresh(tmp_path: Path) -> None:
    """A new key would seal a chain nobody could check against the old one: a file that is
    configured but missing (an unmounted disk, say) stops start-up instead."""
    missing = tmp_path / "secrets" / "audit.key"
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "POLICYBOT_AUDIT_KEY_FILE": str(missing),
        }
    )
    with pytest.raises(ConfigError) as refused:
        audit_key(settings)
    assert refused.value.message == f"The audit key cannot be read: {missing} does not exist."
    assert not missing.exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"POLICYBOT_AUDIT_KEY": "changeme"},
            "POLICYBOT_AUDIT_KEY is a placeholder; generate one with `policybot keygen`.",
        ),
        (
            {"POLICYBOT_AUDIT_KEY": "not-a-key-at-all"},
            "POLICYBOT_AUDIT_KEY is not a key made by `policybot keygen`.",
        ),
        (
            {
                "POLICYBOT_AUDIT_KEY": Fernet.generate_key().decode(),
                "POLICYBOT_AUDIT_KEY_FILE": "k",
            },
            "Set POLICYBOT_AUDIT_KEY or POLICYBOT_AUDIT_KEY_FILE, not both: they name the same "
            "key.",
        ),
    ],
)
def test_a_bad_audit_key_stops_start_up_without_echoing_it(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"POLICYBOT_CONFIG": str(SAMPLE), "POLICYBOT_DATA_DIR": str(tmp_path), **env})
    assert refused.value.message == message


def test_a_key_file_holding_something_else_is_refused(tmp_path: Path) -> None:
    kept = tmp_path / "audit.key"
    kept.write_text("hunter2\n")
    os.chmod(kept, 0o600)
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(SAMPLE),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "POLICYBOT_AUDIT_KEY_FILE": str(kept),
        }
    )
    with pytest.raises(ConfigError) as refused:
        audit_key(settings)
    assert "hunter2" not in refused.value.message
    assert refused.value.message == (
        f"The audit key cannot be read: {kept} does not hold a key made by `policybot keygen`."
    )
