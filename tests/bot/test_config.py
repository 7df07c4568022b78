"""Settings: a bad value stops start-up with a message that names the field, and nothing leaks.

The TOML file is shared and reviewed by a school's IT admin, so every mistake in it must be
reported by where it is (for example "schools[0].timezone"), and secrets, which only ever come
from the environment, must never be echoed back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import SAMPLE_CONFIG, load_settings
from dialogs.services.errors import ConfigError
from dialogs.services.school.schools import Role

POLICYBOT = Path(sys.executable).parent / "policybot"
TIMEOUT = 60

SCHOOL = """
[[schools]]
id = "oakfield"
name = "Oakfield Primary School"
timezone = "{timezone}"
{school_extra}

[[schools.people]]
id = "dana"
name = "Dana Okafor"
roles = ["staff", "{lead_role}"]

[[schools.people]]
id = "{second_id}"
name = "Sam Patel"
roles = ["{second_role}"]
"""


def write_config(
    directory: Path,
    *,
    timezone: str = "Europe/London",
    school_extra: str = "",
    lead_role: str = "safeguarding_lead",
    second_id: str = "sam",
    second_role: str = "staff",
    top: str = "",
) -> Path:
    path = directory / "policybot.toml"
    path.write_text(
        top
        + SCHOOL.format(
            timezone=timezone,
            school_extra=school_extra,
            lead_role=lead_role,
            second_id=second_id,
            second_role=second_role,
        ),
        encoding="utf-8",
    )
    return path


def refusal(config: Path, **env: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load_settings({"POLICYBOT_CONFIG": str(config), **env})
    return raised.value.message


# -- files that are right ----------------------------------------------------------------------


def test_the_bundled_sample_is_valid_and_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the sample's data_dir is relative to where policybot starts

    settings = load_settings({})

    assert settings.config_path == SAMPLE_CONFIG.resolve()
    [school] = settings.directory.schools
    assert school.id == "oakfield"
    assert [p.id for p in school.people] == ["sam", "jo", "priya", "dana", "lee", "morgan", "ash"]
    assert [p.id for p in school.with_role(Role.SAFEGUARDING_LEAD)] == ["dana"]
    assert school.policy_file is not None
    assert school.policy_file.is_file()
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'policybot.sqlite3'}"
    assert settings.uses_embedded_database
    assert settings.evidence_key is None
    assert settings.evidence.max_upload_mb == 10


def test_a_small_file_of_our_own_is_valid(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(write_config(tmp_path)),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": "postgresql://policybot@db.example/policybot",
        }
    )

    [school] = settings.directory.schools
    assert [p.id for p in school.people] == ["dana", "sam"]
    assert school.timezone == "Europe/London"
    assert settings.data_dir == tmp_path / "data"
    assert settings.evidence_dir == tmp_path / "data" / "evidence"
    assert settings.database_url == "postgresql://policybot@db.example/policybot"
    assert not settings.uses_embedded_database


# -- files that are wrong ----------------------------------------------------------------------


def test_an_unknown_timezone_is_named(tmp_path: Path) -> None:
    message = refusal(write_config(tmp_path, timezone="Europe/Oakfield"))

    assert "schools[0].timezone" in message
    assert "unknown timezone 'Europe/Oakfield'" in message
    assert str(tmp_path / "policybot.toml") in message


def test_a_person_listed_twice_is_named(tmp_path: Path) -> None:
    message = refusal(write_config(tmp_path, second_id="dana"))

    assert "schools[0]" in message
    assert "person id 'dana' is listed twice" in message


def test_a_school_without_a_safeguarding_lead_is_refused(tmp_path: Path) -> None:
    message = refusal(write_config(tmp_path, lead_role="deputy_safeguarding_lead"))

    assert "schools[0]" in message
    assert "no one has the role safeguarding_lead" in message


def test_an_unknown_role_is_named(tmp_path: Path) -> None:
    message = refusal(write_config(tmp_path, second_role="caretaker"))

    assert "schools[0].people[1].roles" in message
    assert "safeguarding_lead" in message  # the roles that are allowed are listed


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("school", "schools[0].slack_bot_token"),
        ("top", "slack_bot_token"),
    ],
)
def test_a_secret_in_the_file_is_refused_without_repeating_it(
    tmp_path: Path, where: str, field: str
) -> None:
    secret = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
    line = f'slack_bot_token = "{secret}"\n'
    config = (
        write_config(tmp_path, school_extra=line)
        if where == "school"
        else write_config(tmp_path, top=line)
    )

    message = refusal(config)

    assert f"{field}: Extra inputs are not permitted" in message
    assert secret not in message
    assert "xoxb" not in message


def test_malformed_toml_says_where(tmp_path: Path) -> None:
    config = tmp_path / "policybot.toml"
    config.write_text('[[schools]]\nid = "oakfield"\nname = Oakfield Primary\n', encoding="utf-8")

    message = refusal(config)

    assert f"The configuration in {config} is not valid TOML" in message
    assert "line 3" in message


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    message = refusal(tmp_path / "nowhere.toml")

    assert (
        f"POLICYBOT_CONFIG points at {tmp_path / 'nowhere.toml'}, which does not exist" in message
    )


def test_a_missing_policy_file_is_named_relative_to_the_config(tmp_path: Path) -> None:
    message = refusal(write_config(tmp_path, school_extra='policy_file = "our-policy.md"'))

    assert message.startswith("schools[0].policy_file:")
    assert str(tmp_path / "our-policy.md") in message


def test_a_policy_file_next_to_the_config_is_found(tmp_path: Path) -> None:
    (tmp_path / "our-policy.md").write_text("# Staff social media policy\n", encoding="utf-8")
    config = write_config(tmp_path, school_extra='policy_file = "our-policy.md"')

    settings = load_settings({"POLICYBOT_CONFIG": str(config)})

    assert settings.directory.schools[0].policy_file == tmp_path / "our-policy.md"


def test_one_mistake_is_reported_once(tmp_path: Path) -> None:
    message = refusal(write_config(tmp_path, timezone="Europe/Oakfield"))

    problems = [line for line in message.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1, message
    assert "at least 1 item" not in message


# -- the environment ---------------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGEME", " change-me ", "secret"])
def test_a_placeholder_evidence_key_is_refused(tmp_path: Path, placeholder: str) -> None:
    message = refusal(write_config(tmp_path), POLICYBOT_EVIDENCE_KEY=placeholder)

    assert message.startswith("POLICYBOT_EVIDENCE_KEY is a placeholder")
    assert "policybot keygen" in message


@pytest.mark.parametrize(
    "garbage",
    [
        "not-a-key",  # not base64 at all
        "c2hvcnQ=",  # base64, but 5 bytes
        "x" * 44,  # the right length, but 33 bytes
        Fernet.generate_key().decode()[:-4],  # a real key, cut short
    ],
    # Named, not shown: the last is random, and parallel workers must collect the same ids.
    ids=["not-base64", "five-bytes", "33-bytes", "a-real-key-cut-short"],
)
def test_an_evidence_key_that_is_not_a_key_is_refused(tmp_path: Path, garbage: str) -> None:
    message = refusal(write_config(tmp_path), POLICYBOT_EVIDENCE_KEY=garbage)

    assert message == "POLICYBOT_EVIDENCE_KEY is not a key made by `policybot keygen`."


def test_a_key_from_fernet_is_accepted(tmp_path: Path) -> None:
    key = Fernet.generate_key()

    settings = load_settings(
        {"POLICYBOT_CONFIG": str(write_config(tmp_path)), "POLICYBOT_EVIDENCE_KEY": key.decode()}
    )

    assert settings.evidence_key == key
    assert Fernet(settings.evidence_key).decrypt(Fernet(key).encrypt(b"evidence")) == b"evidence"


def test_an_empty_evidence_key_means_no_encryption(tmp_path: Path) -> None:
    settings = load_settings(
        {"POLICYBOT_CONFIG": str(write_config(tmp_path)), "POLICYBOT_EVIDENCE_KEY": ""}
    )

    assert settings.evidence_key is None


@pytest.mark.parametrize(
    "url", ["mysql://root:hunter2@db.example/policybot", "postgres://u:hunter2@db/policybot"]
)
def test_an_unsupported_database_url_is_refused_without_its_password(
    tmp_path: Path, url: str
) -> None:
    message = refusal(write_config(tmp_path), DATABASE_URL=url)

    assert message == "DATABASE_URL must start with sqlite:// or postgresql://"
    assert "hunter2" not in message


def test_metrics_are_off_unless_given_a_port_and_then_on_this_machine_only(
    tmp_path: Path,
) -> None:
    config = str(write_config(tmp_path))
    off = load_settings({"POLICYBOT_CONFIG": config})
    on = load_settings({"POLICYBOT_CONFIG": config, "POLICYBOT_METRICS_PORT": "9464"})
    shared = load_settings(
        {
            "POLICYBOT_CONFIG": config,
            "POLICYBOT_METRICS_PORT": "9464",
            "POLICYBOT_METRICS_HOST": "10.0.0.5",
        }
    )

    assert not off.metrics.enabled
    assert (on.metrics.port, on.metrics.host) == (9464, "127.0.0.1")
    assert (shared.metrics.port, shared.metrics.host) == (9464, "10.0.0.5")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"POLICYBOT_METRICS_PORT": "http"}, "POLICYBOT_METRICS_PORT must be a port number"),
        ({"POLICYBOT_METRICS_PORT": "70000"}, "POLICYBOT_METRICS_PORT must be a port number"),
        ({"POLICYBOT_METRICS_PORT": "3978"}, "POLICYBOT_METRICS_PORT must differ from PORT"),
        (
            {"POLICYBOT_METRICS_PORT": "9464", "PORT": "9464"},
            "POLICYBOT_METRICS_PORT must differ from PORT",
        ),
        (
            {"POLICYBOT_METRICS_PORT": "9464", "POLICYBOT_METRICS_HOST": "a b"},
            "POLICYBOT_METRICS_HOST must be an address",
        ),
    ],
)
def test_a_bad_metrics_address_is_refused(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    assert refusal(write_config(tmp_path), **env).startswith(expected)


# -- what the command does with a bad configuration -------------------------------------------


def test_policybot_chat_with_a_bad_config_exits_2_naming_the_field(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POLICYBOT_") and k != "DATABASE_URL"
    }
    env.update(
        POLICYBOT_CONFIG=str(write_config(tmp_path, timezone="Mars/Olympus_Mons")),
        POLICYBOT_DATA_DIR=str(tmp_path / "data"),
        PYTHONIOENCODING="utf-8",
    )

    done = subprocess.run(
        [str(POLICYBOT), "chat", "--as", "sam"],
        input="report\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert "schools[0].timezone" in done.stderr
    assert "unknown timezone 'Mars/Olympus_Mons'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was created
