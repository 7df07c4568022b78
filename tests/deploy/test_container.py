"""The container image and compose.yaml, checked as files: no container engine is needed.

The image is built from the lock with hashes in a build stage, runs as a non-root user, checks
its health and runs `policybot serve`; compose migrates before the bot starts, on PostgreSQL 15
or later, and keeps the data on volumes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(
        r"\\\n\s*",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_image_is_built_in_two_stages_from_the_lock_with_hashes() -> None:
    steps = instructions()
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    assert len(stages) >= 2
    assert stages[0].endswith(" AS build")
    runs = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    assert re.search(r"pip install --require-hashes .*-r requirements\.lock", runs)
    assert "--only-binary=:all:" in runs  # nothing compiled: no compiler in any stage
    assert "--no-deps" in runs  # policybot itself adds nothing the lock did not pin
    final = final_stage()
    assert ("COPY", "--from=build /opt/policybot /opt/policybot") in final
    assert not any("pip install" in rest for keyword, rest in final if keyword == "RUN")
    assert not any(re.search(r"\b(gcc|build-essential|apt-get)\b", rest) for _, rest in final)


def test_the_image_runs_serve_as_a_non_root_user_with_a_health_check_and_a_volume() -> None:
    final = dict(final_stage())
    user = final["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert user.isdigit()  # so an orchestrator can check runAsNonRoot
    assert final["CMD"] == '["policybot", "serve"]'
    assert "/healthz" in final["HEALTHCHECK"]
    assert final["VOLUME"] == '["/data"]'
    assert "POLICYBOT_DATA_DIR=/data" in final["ENV"]


def test_the_build_context_leaves_out_secrets_and_data() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("*") :][:1] == ["*"]  # everything is left out unless named
    kept = {line[1:] for line in lines if line.startswith("!")}
    assert kept == {
        "requirements.lock",
        "pyproject.toml",
        "README.md",
        "bot/",
        "dialogs/",
        "storage/",
    }


def test_compose_migrates_first_and_the_bot_waits_for_it() -> None:
    services = compose()["services"]
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["policybot", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert bot["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert bot["depends_on"]["db"] == {"condition": "service_healthy"}
    assert migrate["depends_on"]["db"] == {"condition": "service_healthy"}
    assert bot["command"] == ["policybot", "serve"]
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    assert bot["restart"] == "always"


def test_compose_runs_postgresql_15_or_later_with_the_data_on_volumes() -> None:
    loaded = compose()
    services = loaded["services"]
    image = services["db"]["image"]
    assert image.startswith("postgres:")
    assert int(image.split(":")[1].split(".")[0].split("-")[0]) >= 15
    assert "postgres-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in ("bot", "migrate"):
        assert "policybot-data:/data" in services[name]["volumes"]
    assert {"policybot-data", "postgres-data"} <= set(loaded["volumes"])


def test_the_server_never_gets_the_owners_credentials() -> None:
    services = compose()["services"]
    bot, migrate = services["bot"]["environment"], services["migrate"]["environment"]
    assert bot["DATABASE_OWNER_URL"] == ""
    assert bot["POSTGRES_OWNER_PASSWORD"] == ""
    assert "policybot_owner" in migrate["DATABASE_OWNER_URL"]
    assert bot["DATABASE_URL"].startswith("postgresql://policybot:")


def test_https_is_a_profile_of_its_own() -> None:
    caddy = compose()["services"]["caddy"]
    assert caddy["profiles"] == ["https"]
    assert caddy["depends_on"]["bot"] == {"condition": "service_healthy"}
