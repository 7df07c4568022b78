"""The places a school publishes, named one way everywhere.

Parental consent is given per platform ("consent for the website does not cover Instagram"),
so the account a post goes to, the consent register's columns and what staff type must all
agree on what a platform is called. Everything maps to a `Platform` through `platform_named`.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Platform(StrEnum):
    WEBSITE = "website"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    LINKEDIN = "linkedin"
    NEWSLETTER = "newsletter"


LABELS: dict[Platform, str] = {
    Platform.WEBSITE: "School website",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.X: "X (Twitter)",
    Platform.TIKTOK: "TikTok",
    Platform.YOUTUBE: "YouTube",
    Platform.LINKEDIN: "LinkedIn",
    Platform.NEWSLETTER: "Newsletter",
}

# What schools' information systems and staff call each platform, after lower-casing and
# reducing to letters and digits.
_ALIASES: dict[str, Platform] = {
    "website": Platform.WEBSITE,
    "web": Platform.WEBSITE,
    "schoolwebsite": Platform.WEBSITE,
    "site": Platform.WEBSITE,
    "facebook": Platform.FACEBOOK,
    "fb": Platform.FACEBOOK,
    "instagram": Platform.INSTAGRAM,
    "insta": Platform.INSTAGRAM,
    "ig": Platform.INSTAGRAM,
    "x": Platform.X,
    "twitter": Platform.X,
    "xtwitter": Platform.X,
    "twitterx": Platform.X,
    "tiktok": Platform.TIKTOK,
    "youtube": Platform.YOUTUBE,
    "yt": Platform.YOUTUBE,
    "linkedin": Platform.LINKEDIN,
    "newsletter": Platform.NEWSLETTER,
    "newsletters": Platform.NEWSLETTER,
    "prospectus": Platform.NEWSLETTER,
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


def platform_named(text: str) -> Platform | None:
    """The platform a word or column heading names ("Twitter", "X", "Insta"), if any."""
    return _ALIASES.get(_key(text))


def platforms_in(text: str) -> list[Platform]:
    """Every platform named among the words of a heading such as "Consent - Facebook/Instagram"
    or "School website", in the order they appear, each once."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    found: list[Platform] = []
    i = 0
    while i < len(words):
        pair = _ALIASES.get(_key(words[i] + words[i + 1])) if i + 1 < len(words) else None
        platform, step = (pair, 2) if pair is not None else (_ALIASES.get(_key(words[i])), 1)
        if platform is not None and platform not in found:
            found.append(platform)
        i += step
    return found
