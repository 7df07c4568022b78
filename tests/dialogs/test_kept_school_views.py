"""What a turn keeps from one turn to the next about a school (the choices its prompts offer,
the school merged with its register) is never older than what it was built from: an account
recorded here or by another process, a person learned from a platform, a configuration reloaded
each shows at the very next question.

The demo school's configuration has three accounts (its website, Facebook and Instagram)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlmodel import col, delete, update

from bot.config import SAMPLE_CONFIG, Settings, load_settings
from bot.config_reload import ConfigReloader
from bot.runtime import Runtime, build_runtime
from dialogs.home import REQUEST_ACCOUNT
from dialogs.inbox import Who
from dialogs.school_options import SchoolOptions
from dialogs.services.messages import Message
from dialogs.services.people.directory import Profile
from dialogs.services.school.schools import Person, School
from storage.conversations import ConversationKey
from storage.models import RegisteredAccount
from tests.bot.test_people_cli import DOMAIN, config_with_domains
from tests.dialogs.test_account_register import record_blog
from tests.support import Person as Chat
from tests.support import last_prompt

BLOG = "Oakfield Year 6 Blog (Instagram)"
NOW = datetime(2026, 11, 21, 11, 30, tzinfo=UTC)


def offered(messages: list[Message]) -> list[str]:
    return [b.label for b in last_prompt(messages).buttons]


@dataclass
class Staff(Chat):
    """A person as the server finds them: in the staff directory as it is now (the
    configuration, reloaded, with the people learned from the platforms)."""

    @property
    def who(self) -> Who:
        school = self.runtime.staff.school(self.school_id)
        assert school is not None
        person = school.person(self.person_id)
        assert person is not None
        key = ConversationKey(self.channel, f"{school.id}:{person.id}", "dm")
        return Who(person=person, school=school, key=key)


async def at_who_runs_it(runtime: Runtime) -> tuple[Staff, list[Message]]:
    """Sam, asking for a new account, at the question of who will run it."""
    sam = Staff(runtime)
    await sam.press(REQUEST_ACCOUNT)
    for answer in ["Instagram", "Oakfield Year 6 Blog", "Share learning", "Families"]:
        await sam.say(answer)
    asked = await sam.say("In the newsletter")
    assert last_prompt(asked).text.startswith("Who will run it?")
    return sam, asked


# -- the register ----------------------------------------------------------------------------


def blog_row() -> RegisteredAccount:
    """The Year 6 blog, as another process records it straight into the database."""
    return RegisteredAccount(
        school_id="oakfield",
        account_id="year6-blog",
        name="Oakfield Year 6 Blog",
        platform="instagram",
        handle="@oakfieldy6",
        link="https://instagram.com/oakfieldy6",
        owners=["sam", "jo"],
        visibility="private",
        recorded_at=NOW,
        recorded_by="morgan",
    )


async def test_an_account_recorded_here_is_offered_at_the_next_question(runtime: Runtime) -> None:
    sam = Chat(runtime)
    before = offered(await sam.say("post"))
    assert BLOG not in before
    assert "Oakfield Primary on Instagram (Instagram)" in before
    await record_blog(runtime)
    assert BLOG in offered(await sam.say("help"))


async def test_an_account_recorded_or_changed_by_another_process_shows_at_the_next_question(
    runtime: Runtime,
) -> None:
    """Another process (the IT administrator's command, another host) shares only the
    database: what it records, changes or removes by hand shows in this one at once."""
    sam = Chat(runtime)
    assert BLOG not in offered(await sam.say("post"))
    assert BLOG not in offered(await sam.say("help"))  # asked twice: anything kept is in use
    other = build_runtime(runtime.settings)
    try:
        async with other.db.session() as session:
            session.add(blog_row())
        assert BLOG in offered(await sam.say("help"))
        async with other.db.session() as session:
            await session.execute(
                update(RegisteredAccount)
                .where(col(RegisteredAccount.account_id) == "year6-blog")
                .values(name="Oakfield Year 6 Diary")
            )
        shown = offered(await sam.say("help"))
        assert "Oakfield Year 6 Diary (Instagram)" in shown
        assert BLOG not in shown
        async with other.db.session() as session:
            await session.execute(delete(RegisteredAccount))
        assert not any("Year 6" in label for label in offered(await sam.say("help")))
    finally:
        await other.close()


async def test_a_turn_reads_the_register_only_when_it_has_changed(runtime: Runtime) -> None:
    """The register's version comes with the conversation (storage.models.RegisterVersion):
    while it is the one this process last read the register at, a turn reads nothing more."""
    reads: list[str] = []

    def counted(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        if "FROM registered_account" in statement:
            reads.append(statement)

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", counted)
    sam = Chat(runtime)
    await sam.say("post")
    await sam.say("help")
    reads.clear()
    for _ in range(3):
        assert BLOG not in offered(await sam.say("help"))
    assert reads == []
    other = build_runtime(runtime.settings)
    try:
        async with other.db.session() as session:
            session.add(blog_row())
    finally:
        await other.close()
    assert BLOG in offered(await sam.say("help"))
    assert len(reads) == 1
    assert BLOG in offered(await sam.say("help"))
    assert len(reads) == 1


# -- the people ------------------------------------------------------------------------------


async def test_a_person_learned_from_a_platform_is_offered_at_the_next_question(
    tmp_path: Path, database_url: str
) -> None:
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(config_with_domains(tmp_path)),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
        }
    )
    runtime = build_runtime(settings)
    try:
        sam, asked = await at_who_runs_it(runtime)
        assert "Kim Lowe" not in offered(asked)
        profile = Profile("slack", "U0KIM", "Kim Lowe", f"kim@{DOMAIN}", "T0001")
        await runtime.staff.learn(runtime.db.session, "slack", "U0KIM", profile, NOW)
        assert "Kim Lowe" in offered(await sam.say("help"))
    finally:
        await runtime.close()


async def test_a_reloaded_configuration_is_offered_at_the_next_question(
    tmp_path: Path, database_url: str
) -> None:
    shutil.copy(SAMPLE_CONFIG.parent / "policy.md", tmp_path / "policy.md")
    config = tmp_path / "policybot.toml"
    config.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(
        {
            "POLICYBOT_CONFIG": str(config),
            "POLICYBOT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
        }
    )
    runtime = build_runtime(settings)
    try:
        sam, asked = await at_who_runs_it(runtime)
        assert "Jo Williams" in offered(asked)
        renamed = config.read_text(encoding="utf-8").replace("Jo Williams", "Joanna Williams")
        config.write_text(renamed, encoding="utf-8")
        assert ConfigReloader(runtime).reload()
        shown = offered(await sam.say("help"))
        assert "Joanna Williams" in shown
        assert "Jo Williams" not in shown
    finally:
        await runtime.close()


# -- the choices kept with a school ------------------------------------------------------------


def test_choices_are_kept_with_the_school_they_were_built_from(settings: Settings) -> None:
    school = settings.directory.school("oakfield")
    assert school is not None
    people = SchoolOptions(school)["people"]
    assert SchoolOptions(school)["people"] is people  # built once for this School
    kim = Person(id="kim", name="Kim Lowe")
    joined: School = school.model_copy(update={"people": (*school.people, kim)})
    assert [c.label for c in SchoolOptions(joined)["people"]][-1] == "Kim Lowe"
    assert "Kim Lowe" not in [c.label for c in SchoolOptions(school)["people"]]
    assert SchoolOptions(school).get("nothing") is None
