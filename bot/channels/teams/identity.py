"""Who is writing: the sender of an activity as the configuration lists them, as the staff
directory has learned them, or as the roster of their team or chat says."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.channels.teams.connection import PLATFORM
from bot.channels.teams.directory import TeamsDirectory
from dialogs.inbox import Who
from dialogs.not_staff import not_staff_message
from dialogs.services.messages import Message
from dialogs.services.people.directory import Found, Identified, Refusal, Refused
from dialogs.services.school.schools import Person, School
from storage.conversations import ConversationKey

if TYPE_CHECKING:
    from bot.channels.teams.connection import TeamsConnection


def person_of(
    channel: TeamsConnection, activity: Activity, school: School | None = None
) -> tuple[School, Person] | None:
    sender = activity.from_property
    if sender is None:
        return None
    for found_school, person in channel.runtime.directory.by_teams_user(
        sender.aad_object_id, sender.id
    ):
        if school is None or found_school.id == school.id:
            return found_school, person
    return None


def who(channel: TeamsConnection, activity: Activity) -> Who | None:
    """The sender as this process already knows them, without asking anyone (a cheap check,
    e.g. on installation); messages and buttons are identified with `who_is`."""
    found = person_of(channel, activity)
    if found is None or activity.conversation is None:
        return None
    school, person = found
    key = ConversationKey(PLATFORM, str(activity.from_property.id), str(activity.conversation.id))
    return Who(person=person, school=school, key=key)


def staff_account(channel: TeamsConnection, activity: Activity) -> str | None:
    """The id the staff directory knows the sender by: the one the configuration lists
    them under (their Entra object id, or a "29:" id), else their Entra object id."""
    sender = activity.from_property
    if sender is None:
        return None
    directory = channel.runtime.directory
    for key in (sender.aad_object_id, sender.id):
        if key and directory.by_teams_user(str(key)):
            return str(key)
    found = sender.aad_object_id or sender.id
    return str(found) if found else None


def is_known(channel: TeamsConnection, activity: Activity) -> bool:
    """Whether the sender is listed or learned already: what can be told before Teams is
    answered, without asking anyone."""
    sender = activity.from_property
    return sender is not None and any(
        channel.runtime.staff.is_known(PLATFORM, str(key))
        for key in (sender.aad_object_id, sender.id)
        if key
    )


def directory_for(
    channel: TeamsConnection, context: TurnContext, activity: Activity
) -> TeamsDirectory:
    """Teams' directory as seen from an activity: the teams whose members are staff, when
    schools name them (Membership.teams_teams), else the team or chat it came from."""
    staff_teams = tuple(
        dict.fromkeys(
            team
            for school in channel.runtime.directory.schools
            for team in school.membership.teams_teams
        )
    )
    return TeamsDirectory(context, activity, staff_teams=staff_teams)


async def identify(
    channel: TeamsConnection, context: TurnContext, activity: Activity | None = None
) -> Identified:
    """Who sent `activity` (the turn's own, by default): listed, learned, or looked up in
    the roster of the team or chat it came from (bot.channels.teams.directory)."""
    activity = activity or context.activity
    account = staff_account(channel, activity)
    if account is None:
        return Refused(Refusal.OUTSIDE)
    runtime, lookup = channel.runtime, directory_for(channel, context, activity)
    return await runtime.staff.identify(
        runtime.db.session, PLATFORM, account, lookup, runtime.clock()
    )


async def who_is(channel: TeamsConnection, context: TurnContext) -> Who | Message:
    """The school and person writing in a personal chat, or what to tell someone the bot
    cannot take as staff."""
    activity = context.activity
    identified = await identify(channel, context)
    if not isinstance(identified, Found):
        return not_staff_message(identified, "Teams")
    if activity.conversation is None or activity.from_property is None:
        return not_staff_message(Refused(Refusal.OUTSIDE), "Teams")
    key = ConversationKey(PLATFORM, str(activity.from_property.id), str(activity.conversation.id))
    return Who(person=identified.person, school=identified.school, key=key)
