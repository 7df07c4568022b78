"""A comment on an official account as it arrived, before it is stored.

Comments come from three places: a moderator logging one by hand, an automation tool posting
to `/webhooks/comments`, and a platform's own webhook (Facebook Pages). Each is turned into
this one shape at the edge, so the deadline rules never depend on where a comment came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_COMMENT_CHARS = 5000
MAX_AUTHOR_CHARS = 200
MAX_LINK_CHARS = 2000
MAX_EXTERNAL_ID_CHARS = 200


class CommentSource(StrEnum):
    MODERATOR = "moderator"  # logged by hand through the bot
    WEBHOOK = "webhook"  # an automation tool, signed with the school's secret
    FACEBOOK = "facebook"  # a Facebook Page's feed webhook


@dataclass(frozen=True)
class IncomingComment:
    source: CommentSource
    # The sender's own id for the comment: the same comment delivered twice has the same id,
    # so it is stored once. Comments logged by hand get a fresh id.
    external_id: str
    author: str  # the commenter's name as the platform shows it
    text: str
    received_at: datetime  # timezone-aware: when the comment was made on the platform
    account_id: str | None = None  # the school's account id, when the sender knows it
    platform_account: str | None = None  # the platform's id for the account (a Page id)
    link: str | None = None  # https:// link to the comment, when known
