"""The configuration botbuilder reads: the bot's credentials, and the cloud's endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import TeamsSettings

if TYPE_CHECKING:
    pass


# botbuilder's public-cloud values. Once any endpoint is overridden (a sovereign cloud, a test
# server), botbuilder stops filling in the others, so they are all given explicitly then.
_PUBLIC_CLOUD: dict[str, Any] = {
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    ),
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    ),
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "https://api.botframework.com",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://login.microsoftonline.com/botframework.com",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
    "OAUTH_URL": "https://api.botframework.com",
    "CALLER_ID": "urn:botframework:azure",
    "VALIDATE_AUTHORITY": True,
}


class BotFrameworkConfig:
    """The attribute names botbuilder's configuration classes read."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.APP_ID = settings.app_id or ""
        self.APP_PASSWORD = settings.app_password or ""
        # Without an app id (the local development mode) there is no identity to be single-
        # or multi-tenant; botbuilder's anonymous mode is its MultiTenant factory with no id
        # (its SingleTenant factory insists on one).
        self.APP_TYPE = settings.app_type if settings.app_id else "MultiTenant"
        self.APP_TENANTID = settings.tenant_id
        overrides = {
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": settings.openid_metadata_url,
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": settings.emulator_metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": settings.token_issuer,
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": settings.login_url,
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": settings.oauth_scope,
            "OAUTH_URL": settings.oauth_url,
        }
        if any(overrides.values()):
            for name, default in _PUBLIC_CLOUD.items():
                setattr(self, name, overrides.get(name) or default)
