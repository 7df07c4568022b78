"""`policybot consent ...` as a headteacher or IT admin would run it.

The `consent` group is run on its own (`bot.cli.consent.consent`) through click's runner, with
the environment `make_cli` gives the `policybot` script: its own data directory and the
`database_url` fixture, so everything runs on SQLite and on PostgreSQL. Each command builds and
closes its own runtime, as a separate process would. The children are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.consent import consent as consent_group
from tests.bot.test_cli import Ran, make_cli

REGISTER = """Photo consent report - printed 01/09/2026
Forename,Surname,Year,School website,Facebook/Instagram,Never publish
Amelia,Hart,4,yes,no,
Amelia,Hart,6,yes,yes,
Isla,Brennan,2,yes,yes,x
Zoë,O'Neill,3,yes,yes,
"""
NEWER = """Pupil name;Year group;Instagram;TikTok
Hart, Amelia;Year 4;Yes;No
O'Neill, Zoë;Year 3;Yes;Yes
"""


@dataclass(frozen=True)
class ConsentCli:
    env: dict[str, str | None]

    def run(self, *args: str) -> Ran:
        result = CliRunner().invoke(
            consent_group, list(args), env=self.env, prog_name="policybot consent"
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"policybot consent {' '.join(args)} crashed") from (
                result.exception
            )
        return Ran(("consent", *args), result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def consent(tmp_path: Path, database_url: str) -> ConsentCli:
    made = make_cli(tmp_path, database_url)
    env: dict[str, str | None] = {
        "POLICYBOT_DATA_DIR": made.env["POLICYBOT_DATA_DIR"],
        "DATABASE_URL": made.env["DATABASE_URL"],
        "POLICYBOT_CONFIG": None,  # the bundled sample school
    }
    return ConsentCli(env=env)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_import_show_and_replace(consent: ConsentCli, tmp_path: Path) -> None:
    first = write(tmp_path, "consent-sept.csv", REGISTER)
    imported = consent.run("import", str(first), "--school", "oakfield", "--as", "morgan")
    assert imported.code == 0, imported.err
    assert "from consent-sept.csv: 4 pupils." in imported.out
    assert "Platforms covered: School website, Facebook, Instagram" in imported.out
    assert "Instagram: 2 of 4 pupils may appear" in imported.out  # never-publish is not counted
    assert "Never to be published, on any platform: 1 pupil\n" in imported.out
    assert "replaces" not in imported.out
    assert "Amelia" not in imported.out  # no children's names unless asked for

    shown = consent.run("show", "--school", "oakfield", "--json").json()
    assert shown["import"]["pupils"] == 4
    assert shown["import"]["imported_by"] == "morgan"
    assert shown["import"]["platforms"] == ["website", "facebook", "instagram"]
    assert shown["consent"] == {"website": 3, "facebook": 2, "instagram": 2}
    assert shown["never_publish"] == 1
    assert "pupils" not in shown

    newer = write(tmp_path, "consent-jan.csv", NEWER)
    replaced = consent.run(
        "import", str(newer), "--school", "oakfield", "--as", "lee", "--json"
    ).json()
    assert (replaced["pupils"], replaced["platforms"]) == (2, ["instagram", "tiktok"])
    assert replaced["replaced"]["file"] == "consent-sept.csv"
    assert replaced["replaced"]["id"] == shown["import"]["id"]
    assert replaced["consent"] == {"instagram": 2, "tiktok": 1}

    listed = consent.run("show", "--school", "oakfield", "--pupils", "--json").json()
    assert listed["pupils"] == [
        {
            "name": "Amelia Hart",
            "year_group": "Year 4",
            "never_publish": False,
            "consent": {"instagram": True, "tiktok": False},
        },
        {
            "name": "Zoë O'Neill",
            "year_group": "Year 3",
            "never_publish": False,
            "consent": {"instagram": True, "tiktok": True},
        },
    ]
    text = consent.run("show", "--school", "oakfield", "--pupils")
    assert "by Lee Brown from consent-jan.csv (2 pupils" in text.out
    assert "  Zoë O'Neill (Year 3): consent for Instagram, TikTok" in text.out


def test_import_is_refused_to_staff_and_a_bad_file_imports_nothing(
    consent: ConsentCli, tmp_path: Path
) -> None:
    good = write(tmp_path, "consent.csv", REGISTER)
    staff = consent.run("import", str(good), "--school", "oakfield", "--as", "sam")
    assert staff.code == 3
    assert "Sam Patel is not the headteacher" in staff.err
    approver = consent.run("import", str(good), "--school", "oakfield", "--as", "priya")
    assert approver.code == 3
    assert consent.run("show", "--school", "oakfield", "--json").json()["import"] is None

    assert consent.run("import", str(good), "--school", "oakfield", "--as", "dana").code == 0
    bad = write(
        tmp_path, "consent-new.csv", "Name,Instagram\nAmelia Hart,yes\nIsla Brennan,maybe\n"
    )
    refused = consent.run("import", str(bad), "--school", "oakfield")
    assert refused.code == 1
    assert 'Row 3: "maybe" under "Instagram" isn\'t yes or no.' in refused.err
    assert refused.out == ""
    workbook = write(tmp_path, "consent.xlsx", b"PK\x03\x04 not really a workbook")
    excel = consent.run("import", str(workbook), "--school", "oakfield")
    assert excel.code == 1
    assert "Save As > CSV" in excel.err
    # The register imported before the refusals is still the one in use, whole.
    shown = consent.run("show", "--school", "oakfield", "--json").json()
    assert (shown["import"]["file"], shown["import"]["pupils"]) == ("consent.csv", 4)
    assert shown["import"]["imported_by"] == "dana"

    nowhere = consent.run("import", str(good), "--school", "nowhere")
    assert nowhere.code == 2
    assert "no school 'nowhere'" in nowhere.err


def test_check_says_what_the_dialog_will_say(consent: ConsentCli, tmp_path: Path) -> None:
    before = consent.run(
        "check", "--school", "oakfield", "--platform", "website", "--pupil", "Amelia Hart"
    )
    assert before.code == 0
    assert "Not cleared for School website:" in before.out
    assert "has not imported a consent register" in before.out
    assert "policybot consent import" in before.out

    consent.run("import", str(write(tmp_path, "consent.csv", REGISTER)), "--school", "oakfield")
    checked = consent.run(
        "check",
        "--school",
        "oakfield",
        "--platform",
        "Insta",
        "--platform",
        "website",
        "--pupil",
        "amelia hart",
        "--pupil",
        "Hart, Amelia (Year 6)",
        "--pupil",
        "ZOE O'NEILL",
        "--pupil",
        "Isla Brennan",
        "--json",
    ).json()
    assert checked["blocked"] is True
    assert checked["platforms"] == ["instagram", "website"]
    assert [(p["given"], p["status"], p["year_group"]) for p in checked["pupils"]] == [
        ("amelia hart", "ambiguous", None),
        ("Hart, Amelia (Year 6)", "ok", "Year 6"),
        ("ZOE O'NEILL", "ok", "Year 3"),
        ("Isla Brennan", "never_publish", "Year 2"),
    ]
    assert checked["cleared"] == [
        "Amelia Hart (Year 6): consent on record for Instagram and School website.",
        "Zoë O'Neill (Year 3): consent on record for Instagram and School website.",
    ]
    assert len(checked["problems"]) == 2

    text = consent.run(
        "check", "--school", "oakfield", "--platform", "instagram", "--pupil", "Amelia Hart, 4"
    )
    assert text.out.splitlines() == [
        "Not cleared for Instagram:",
        "  - Amelia Hart (Year 4) has no consent for Instagram (the register says no). Remove "
        "Instagram from this post, or leave Amelia Hart out.",
    ]
    cleared = consent.run(
        "check", "--school", "oakfield", "--platform", "website", "--pupil", "Amelia Hart (Y4)"
    )
    assert cleared.out.startswith("Cleared for School website.\n  OK: Amelia Hart (Year 4)")

    unknown = consent.run(
        "check", "--school", "oakfield", "--platform", "myspace", "--pupil", "Amelia Hart"
    )
    assert unknown.code == 2
    assert "'myspace' is not a platform" in unknown.err
