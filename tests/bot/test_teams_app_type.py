"""The Teams bot's identity: SingleTenant unless told otherwise, and then its tenant is needed.

A school's bot serves its own Microsoft 365 tenant. A bot started without the tenant it needs
would start, then fail at its first reply to Teams (the token request goes to the wrong place),
so start-up stops instead, saying which variable to set.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.config import load_settings
from dialogs.services.errors import ConfigError
from tests.bot.test_config import POLICYBOT, TIMEOUT, refusal, write_config

APP_ID = "5b0d3c1e-7a42-4f0b-9c8e-2d6f1a9b7c30"
TENANT = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
CREDENTIALS = {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "a-real-client-secret"}


def test_a_bot_is_single_tenant_by_default(tmp_path: Path) -> None:
    settings = load_settings(
        {"POLICYBOT_CONFIG": str(write_config(tmp_path)), "MICROSOFT_APP_TENANT_ID": TENANT}
        | CREDENTIALS
    )
    assert settings.teams.app_type == "SingleTenant"
    assert settings.teams.tenant_id == TENANT


def test_without_teams_the_default_is_single_tenant_too(tmp_path: Path) -> None:
    settings = load_settings({"POLICYBOT_CONFIG": str(write_config(tmp_path))})
    assert not settings.teams.enabled
    assert settings.teams.app_type == "SingleTenant"


def test_a_single_tenant_bot_without_its_tenant_is_refused_naming_the_variable(
    tmp_path: Path,
) -> None:
    message = refusal(write_config(tmp_path), **CREDENTIALS)
    assert message.startswith("MICROSOFT_APP_ID is set, so MICROSOFT_APP_TENANT_ID is needed")
    assert "MICROSOFT_APP_TYPE=MultiTenant" in message
    assert "a-real-client-secret" not in message


@pytest.mark.parametrize("app_type", ["MultiTenant", "UserAssignedMSI"])
def test_the_other_identities_are_explicit_choices_without_a_tenant(
    tmp_path: Path, app_type: str
) -> None:
    env = {"POLICYBOT_CONFIG": str(write_config(tmp_path)), "MICROSOFT_APP_TYPE": app_type}
    env |= CREDENTIALS if app_type == "MultiTenant" else {"MICROSOFT_APP_ID": APP_ID}
    settings = load_settings(env)
    assert settings.teams.app_type == app_type
    assert settings.teams.tenant_id is None


@pytest.mark.parametrize("app_type", ["multitenant", "Single", "AzureAD"])
def test_an_unknown_identity_type_is_refused(tmp_path: Path, app_type: str) -> None:
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TYPE must be SingleTenant"):
        load_settings(
            {"POLICYBOT_CONFIG": str(write_config(tmp_path)), "MICROSOFT_APP_TYPE": app_type}
            | CREDENTIALS
        )


def test_serve_without_the_tenant_stops_at_start_up_and_says_why(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "MICROSOFT_", "SLACK_")) and k != "DATABASE_URL"
    }
    env |= CREDENTIALS | {
        "POLICYBOT_CONFIG": str(write_config(tmp_path)),
        "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
        "PORT": "1",  # never reached: start-up stops first
    }

    done = subprocess.run(
        [str(POLICYBOT), "serve", "--host", "127.0.0.1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )

    assert done.returncode == 2
    assert "MICROSOFT_APP_TENANT_ID is needed" in done.stderr
    assert not (tmp_path / "data").exists()


def test_the_development_mode_without_an_app_id_builds_botbuilders_anonymous_auth(
    tmp_path: Path,
) -> None:
    """No app id, no identity: botbuilder's SingleTenant factory would refuse to start."""
    from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory

    from bot.channels.teams.cloud_config import BotFrameworkConfig

    settings = load_settings(
        {"POLICYBOT_CONFIG": str(write_config(tmp_path)), "POLICYBOT_TEAMS_DEV": "1"}
    )
    assert settings.teams.app_type == "SingleTenant"
    config = BotFrameworkConfig(settings.teams)
    assert config.APP_TYPE == "MultiTenant"
    ConfigurationServiceClientCredentialFactory(config)  # raises for a SingleTenant without id
