"""Slack's directory of people, as the staff directory asks it (staff_directory.PlatformDirectory).

`users.info` says who an account is: their name, their verified email (users:read.email), their
workspace, and whether they are a guest (`is_restricted`, `is_ultra_restricted`), a bot, or
deactivated (`deleted`). A second ask for the same account while one is on its way waits for
it, so a burst of messages from someone new makes one call (after it, they are known, and asked
about again only now and then: staff_directory.RECHECK_AFTER). The client already waits out
429s as Retry-After says; anything still failing is an outage (DirectoryUnavailable), which
never stops someone already known.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.web import API_FAILURES, failure_of
from dialogs.services.people.directory import AccountKind, DirectoryUnavailable, Profile

# Slack's answers for an account it does not have: gone from the workspace, or never in it.
_UNKNOWN = frozenset({"user_not_found", "users_not_found", "user_not_visible", "account_inactive"})


def profile_of(user: dict[str, Any]) -> Profile:
    """A users.info `user` object as the staff directory reads it."""
    details = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(details, dict)
    name = str(
        details.get("real_name") or user.get("real_name") or details.get("display_name") or ""
    ).strip()
    kind = AccountKind.MEMBER
    if user.get("deleted"):
        kind = AccountKind.DEACTIVATED
    elif user.get("is_bot") or user.get("is_app_user") or user.get("id") == "USLACKBOT":
        kind = AccountKind.BOT
    elif user.get("is_restricted") or user.get("is_ultra_restricted") or user.get("is_stranger"):
        kind = AccountKind.GUEST
    email = details.get("email")
    return Profile(
        platform="slack",
        user_id=str(user.get("id") or ""),
        name=name[:120] or str(user.get("name") or "")[:120],
        email=email.strip().lower() if isinstance(email, str) and "@" in email else None,
        workspace=str(user.get("team_id") or details.get("team") or "") or None,
        kind=kind,
    )


class SlackDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._asking: dict[str, asyncio.Future[Profile | None]] = {}

    async def profile(self, user_id: str) -> Profile | None:
        asking = self._asking.get(user_id)
        if asking is not None:
            return await asyncio.shield(asking)
        future: asyncio.Future[Profile | None] = asyncio.get_running_loop().create_future()
        self._asking[user_id] = future
        try:
            found = await self._ask(user_id)
        except DirectoryUnavailable as exc:
            future.set_exception(exc)
            future.exception()  # seen here, so an unawaited future does not warn
            raise
        finally:
            self._asking.pop(user_id, None)
        future.set_result(found)
        return found

    async def by_email(self, email: str) -> Profile | None:
        """users.lookupByEmail: the account with this email, whatever it is (the staff
        directory decides whether it is staff)."""
        return await self._call("users_lookupByEmail", email=email.strip().lower())

    async def _ask(self, user_id: str) -> Profile | None:
        return await self._call("users_info", user=user_id)

    async def _call(self, method: str, **arguments: str) -> Profile | None:
        """One Web API call that answers with a user: None when Slack has nobody by it."""
        try:
            response = await getattr(self._client, method)(**arguments)
        except SlackApiError as exc:
            data = getattr(exc.response, "data", None)
            if isinstance(data, dict) and data.get("error") in _UNKNOWN:
                return None
            raise DirectoryUnavailable(failure_of(exc)) from exc
        except API_FAILURES as exc:
            raise DirectoryUnavailable(failure_of(exc)) from exc
        user = response.get("user")
        return profile_of(user) if isinstance(user, dict) else None
