"""Bot Framework clients built once per app and service, not once per activity.

botbuilder's CloudAdapter builds a new connector client and a new user-token client for every
activity it receives. Each builds msrest's retry policy, whose constructor checks a thousand
status codes against a list of five hundred: in a profile of policybot under load that was
about 40% of the event loop's time, more than the whole dialog turn. The clients depend only
on the app's identity, the service URL and the audience, so they are kept and reused (which also
keeps their credentials' tokens). Each sends on one shared aiohttp session rather than
`requests` in a thread per call (bot/channels/teams/connector_http.py), and writes its
activities' JSON in one walk rather than msrest's three (bot/channels/teams/activity_json.py).

Every connector client is made here, so this is also where the bot refuses to call a service
address it has no reason to trust (bot/channels/teams/service_urls.py), before any connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ClaimsIdentity, ConnectorFactory

from bot.channels.teams.activity_json import use_fast_bodies
from bot.channels.teams.connector_http import use_aiohttp
from bot.channels.teams.service_urls import ServiceUrls

# Service URLs are a handful per deployment (one per Teams region); a bound keeps a stream of
# forged ones (each refused by the token check first anyway) from growing the cache.
_MOST_KEPT = 64


def _app_of(claims: ClaimsIdentity | None) -> str:
    found = claims.claims if claims is not None and claims.claims else {}
    return "|".join(str(found.get(name) or "") for name in ("aud", "appid", "azp"))


class _Reusing(ConnectorFactory):  # type: ignore[misc]
    def __init__(
        self,
        inner: ConnectorFactory,
        kept: dict[tuple[str, str, str], ConnectorClient],
        app: str,
        services: ServiceUrls,
        session: Callable[[], aiohttp.ClientSession],
    ) -> None:
        self._inner = inner
        self._kept = kept
        self._app = app
        self._services = services
        self._session = session

    async def create(self, service_url: str, audience: str) -> ConnectorClient:
        self._services.check(service_url)
        key = (self._app, service_url or "", audience or "")
        client = self._kept.get(key)
        if client is None:
            made = await self._inner.create(service_url, audience)
            client = use_fast_bodies(use_aiohttp(made, self._session()))
            if len(self._kept) >= _MOST_KEPT:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = client
        return client


class ReusingAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    def __init__(self, configuration: Any, services: ServiceUrls) -> None:
        super().__init__(configuration)
        self.services = services
        self._connectors: dict[tuple[str, str, str], ConnectorClient] = {}
        self._token_clients: dict[str, Any] = {}
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        """The connector clients' one HTTP session (bot/channels/teams/connector_http.py),
        made on first use, inside the running loop. It takes proxy settings from the
        environment (HTTPS_PROXY and the rest), as `requests` did."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(trust_env=True)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _Reusing(
                result.connector_factory,
                self._connectors,
                _app_of(result.claims_identity),
                self.services,
                self._session,
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _Reusing(
            super().create_connector_factory(claims_identity),
            self._connectors,
            _app_of(claims_identity),
            self.services,
            self._session,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        app = _app_of(claims_identity)
        client = self._token_clients.get(app)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            if len(self._token_clients) >= _MOST_KEPT:
                self._token_clients.pop(next(iter(self._token_clients)))
            self._token_clients[app] = client
        return client
