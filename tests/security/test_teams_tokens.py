"""A Bot Framework token must say when it ends.

botbuilder checks `exp` only when a token has one, so a token without it (signed by the right
key, for the right bot and service) would be good for ever: one leaked token would let its
holder post as Teams until the signing key is rotated. The tokens here are signed by the fake
issuer's published key, so their only flaw is the one named.
"""

from __future__ import annotations

from typing import Any

import pytest

from storage.models import Conversation, PlatformAddress
from tests.channels.teams.harness import SAM, TeamsHarness, text_of
from tests.security.support import rows

# An hour is what Teams gives; a day is already far more than any token Teams sends.
FLAWS: dict[str, dict[str, Any]] = {
    "no exp": {"without": ["exp"]},
    "no exp and no nbf": {"without": ["exp", "nbf"]},
    "exp a year away": {"expires_in": 365 * 24 * 3600},
}


@pytest.mark.parametrize("flaw", list(FLAWS))
async def test_a_token_that_never_ends_is_refused(teams: TeamsHarness, flaw: str) -> None:
    status, body = await teams.post(teams.message(SAM, "report"), **FLAWS[flaw])
    assert (status, body) == (401, {"error": "unauthorized"})
    assert teams.fake.calls == []
    assert await rows(teams.runtime, Conversation) == []
    assert await rows(teams.runtime, PlatformAddress) == []


async def test_a_token_with_an_hour_left_is_still_taken(teams: TeamsHarness) -> None:
    status, _ = await teams.post(teams.message(SAM, "report"), expires_in=3600)
    assert status == 201
    assert "Who is being targeted?" in text_of(teams.sent_to(SAM.chat))
