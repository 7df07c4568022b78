"""What botbuilder's token check leaves out: a token must say when it ends, and end soon.

botbuilder (botframework-connector 4.17) verifies `exp` only when a token has one, so a token
signed by the right key but with no `exp` would be good for ever, and one with an `exp` years
away nearly so: a single leaked token would let its holder post as Teams until Microsoft rotates
the signing key. Teams' tokens last about an hour; a day is far more than any of them needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LONGEST_LIFETIME_SECONDS", "UnboundedToken", "check_lifetime"]

LONGEST_LIFETIME_SECONDS = 24 * 3600


class UnboundedToken(Exception):
    """The token has no expiry, or one too far away to be a Bot Framework token's."""


def check_lifetime(claims: Mapping[str, Any], now: float) -> None:
    """Raise UnboundedToken unless the verified claims end within a day of `now`."""
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise UnboundedToken("the token has no expiry time")
    if expires - now > LONGEST_LIFETIME_SECONDS:
        raise UnboundedToken("the token's expiry is too far away")
