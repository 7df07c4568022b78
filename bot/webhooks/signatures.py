"""Proving that a webhook came from someone who holds the secret.

Both our own webhook and Facebook's sign the raw body with HMAC-SHA256 and send it as
`sha256=<hex>`. The check is on the bytes as received, before they are parsed, so nothing an
attacker sends is interpreted until it is known to be genuine; comparisons are constant-time
so a forged signature cannot be found a character at a time by timing the replies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

PREFIX = "sha256="

_SIGNATURE = re.compile(r"sha256=([0-9A-Fa-f]{64})")
# Facebook's challenge is a number; allowing a little more keeps its format changes working,
# while anything that could be markup or a header is never echoed back.
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(body: bytes, secret: str | bytes) -> str:
    """The header value a sender attaches, for tests and for documenting the scheme.

    An empty secret would make every signature forgeable, so it is refused rather than used.
    """
    key = _key(secret)
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """Whether `header` is a valid signature of `body` under `secret`.

    Only the exact `sha256=<64 hex digits>` form is accepted: a lenient parser is a place for
    a forgery to hide. An empty secret verifies nothing, so a school whose secret was never
    set up rejects every delivery instead of accepting all of them.
    """
    if not header or not isinstance(header, str):
        return False
    key = _key(secret)
    if not key:
        return False
    match = _SIGNATURE.fullmatch(header)
    if match is None:
        return False
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def facebook_challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo when Facebook subscribes the webhook, or None to refuse.

    Facebook proves the endpoint is ours by sending back the token we gave it; the challenge
    is echoed into the response body, so only a short, plain one is ever returned.
    """
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if mode != "subscribe" or not verify_token:
        return None
    if not isinstance(token, str) or not isinstance(challenge, str):
        return None
    if not hmac.compare_digest(
        token.encode("utf-8", "surrogatepass"), verify_token.encode("utf-8", "surrogatepass")
    ):
        return None
    if _CHALLENGE.fullmatch(challenge) is None:
        return None
    return challenge
