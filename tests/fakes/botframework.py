"""A local stand-in for the Bot Framework side of Microsoft Teams, so tests never reach Microsoft.

Three services, because botbuilder talks to three:

* the **channel token issuer** (login.botframework.com): OpenID metadata and signing keys, so a
  test can mint the JWT that Teams puts on every request to the bot and botbuilder checks it
  exactly as in production (issuer, audience = app id, `serviceurl` claim, channel endorsement,
  expiry with its 5-minute leeway, RS256 signature);
* the **Entra ID (AAD) login** the bot uses, through MSAL's client-credentials flow, to get its
  own token for outgoing calls;
* the **Bot Connector** (smba.trafficmanager.net) that the bot calls to send, reply, update and
  delete messages, open 1:1 conversations, look up members and fetch attachments.

Like tests/fakes/slack_api.py these are real servers, not mocks of botbuilder, so the code under
test builds its requests exactly as in production and a test asserts on what arrived.

botframework fetches metadata and keys, and MSAL fetches its token, with the *synchronous*
`requests` library from inside the event loop, so the issuer and login share one threaded HTTP
server; the connector is reached from executor threads and can live in the event loop.

MSAL only accepts an `https://` authority, so the identity server speaks TLS with a certificate
from a throwaway CA. While any FakeBotFramework is running, REQUESTS_CA_BUNDLE points at that CA
(`requests` reads it on every call), and 127.0.0.1 is added to NO_PROXY. That is the one
process-wide change the fake makes, and it is undone when the last fake stops. It also means no
`requests`-based code in the process can reach a real https host meanwhile, which is the point.
A bot run as a subprocess needs `BotFrameworkSettings.as_env()`, which includes the variable.

MSAL also does "instance discovery" against login.microsoftonline.com for any authority it does
not know, unless the authority is AD FS or B2C shaped. The fake's login URL is therefore
`https://127.0.0.1:<port>/<tenant>/b2c_1_fake` (B2C shaped), which MSAL resolves through the fake
only. botbuilder passes that URL to MSAL unchanged because it does not start with
https://login.microsoftonline.com/.

Configuration the application must expose
-----------------------------------------
`ConfigurationBotFrameworkAuthentication(configuration)` reads the attributes named below; the
environment variables are the names this project should use. In production set only the first
four: with none of the others present botbuilder uses its built-in public-cloud settings.

* MICROSOFT_APP_ID -> APP_ID: the bot's Entra app (client) id.
* MICROSOFT_APP_PASSWORD -> APP_PASSWORD: its client secret.
* MICROSOFT_APP_TYPE -> APP_TYPE: MultiTenant (the default) or SingleTenant.
* MICROSOFT_APP_TENANT_ID -> APP_TENANTID: the home tenant, SingleTenant only.
* BOTFRAMEWORK_OPENID_METADATA_URL -> TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: where the keys
  that sign incoming tokens are published.
* BOTFRAMEWORK_EMULATOR_METADATA_URL -> TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: the same for
  Emulator (Entra-issued) tokens; only so that nothing is fetched from Microsoft in tests.
* BOTFRAMEWORK_LOGIN_URL -> TO_CHANNEL_FROM_BOT_LOGIN_URL: the MSAL authority the bot gets its
  own token from.
* BOTFRAMEWORK_OAUTH_URL -> OAUTH_URL: the Bot Framework token service (user sign-in).
* REQUESTS_CA_BUNDLE: read by `requests` itself, not by the app; see above.

The moment any one of the TO_* / OAUTH_URL / CALLER_ID attributes is set, botbuilder switches to
its "parameterized" mode, in which *every* unset one is None rather than its public-cloud value
(an unset TO_BOT_FROM_CHANNEL_TOKEN_ISSUER then rejects every request). So when any override is
present the app must fill in the rest with the public-cloud values, which are in `PUBLIC_CLOUD`:

* TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL:
  https://login.botframework.com/v1/.well-known/openidconfiguration
* TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL:
  https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration
* TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: https://api.botframework.com
* TO_CHANNEL_FROM_BOT_LOGIN_URL: https://login.microsoftonline.com/<tenant or botframework.com>
* TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: https://api.botframework.com
* OAUTH_URL: https://api.botframework.com
* CALLER_ID: urn:botframework:azure
* VALIDATE_AUTHORITY: True

The service URL the bot replies to is not configuration: it arrives in each activity
(`serviceUrl`), and the issuer signs it into the token, so pointing activities at the fake
connector is enough.

What the self-tests show about botbuilder 4.17.1 (test_botframework.py pins both):
CloudAdapter.process answers 500, not 401, to expired, unsigned, forged or missing tokens (only
PermissionError becomes 401), and answers 500 to every invoke whose handler returns a body,
because it serialises ActivityHandler's already-serialised response again. The app's endpoint
should authenticate with `bot_framework_authentication.authenticate_request` itself (any
exception -> 401), then call `process_activity` and send `invoke.body` as it is; the test file's
`guarded` route is a working example.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import os
import secrets
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import RSAAlgorithm

from tests.fakes.streaming import DEFAULT_PACE, Pace, stream_file

__all__ = [
    "APP_ID",
    "APP_PASSWORD",
    "BOT_FRAMEWORK_ISSUER",
    "BOT_FRAMEWORK_SCOPE",
    "BOT_NAME",
    "CLOCK_LEEWAY_SECONDS",
    "CONVERSATION_ID",
    "DEFAULT_ENDORSEMENTS",
    "PUBLIC_CLOUD",
    "TENANT_ID",
    "USER_AAD_ID",
    "USER_ID",
    "USER_NAME",
    "BotFrameworkSettings",
    "ConnectorCall",
    "Download",
    "FakeBotFramework",
    "LoginRequest",
    "activity",
    "auth_configuration",
    "conversation_update_added",
    "invoke_action",
]

# What Teams and Entra ID would send for one school; fixed so recorded values are reproducible.
APP_ID = "5b0d3c1e-7a42-4f0b-9c8e-2d6f1a9b7c30"
APP_PASSWORD = "fake-client-secret~0123456789"
TENANT_ID = "3f7e2c1a-9b84-4d6e-a5c0-8e1f2b3d4c5a"
BOT_NAME = "Policy Bot"
USER_ID = "29:1q2W3e4R5t6Y7u8I9o0PaSdFgHjKlZxCvBnMqWeRtYuIoPlKjHgFdSaZxCvBnM-AbCdEfGhIjKlMnOpQrStUv"
USER_AAD_ID = "8c2a4e6f-1b3d-4f5a-9e7c-0d2b4a6c8e1f"
USER_NAME = "Alex Morgan"
CONVERSATION_ID = (
    "a:1Xn3Yb6p1kQHd0cZ8oT9mVQy2rF4uE5sJwL7gK0aB3iN6hM8dR1tC4vG7xW2zS5jP9nU0eY3qO6lA8fK1bD4hS7"
)
# The real channel token issuer; botbuilder compares the `iss` claim with it character for
# character.
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com"
# Roughly what login.botframework.com lists on each key; the activity's channelId must be here.
DEFAULT_ENDORSEMENTS = (
    "msteams",
    "webchat",
    "emulator",
    "directline",
    "skype",
    "slack",
    "email",
    "sms",
    "telegram",
    "facebook",
    "kik",
    "groupme",
    "line",
    "m365extensions",
    "outlook",
    "omnichannel",
)
# What botbuilder itself uses when no override is configured; see the module docstring.
PUBLIC_CLOUD: Mapping[str, Any] = {
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    ),
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    ),
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": BOT_FRAMEWORK_ISSUER,
    "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://login.microsoftonline.com/botframework.com",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": BOT_FRAMEWORK_SCOPE,
    "OAUTH_URL": "https://api.botframework.com",
    "CALLER_ID": "urn:botframework:azure",
    "VALIDATE_AUTHORITY": True,
}

# Teams' region segment: real service URLs look like https://smba.trafficmanager.net/emea/, and
# keeping one here catches code that builds connector URLs by string concatenation.
_REGION = "emea"
# The default for activities built without a fake: shaped like Teams' but in the reserved .invalid
# domain, so a bot that replies to it fails at once instead of reaching Microsoft.
_UNROUTABLE_SERVICE_URL = f"https://smba.trafficmanager.invalid/{_REGION}/"
# Bot Framework's clock leeway, to explain rejected "expired" tokens that were not expired enough.
CLOCK_LEEWAY_SECONDS = 5 * 60
# Message ids Teams hands out in personal chats are epoch milliseconds.
_FIRST_MESSAGE_ID = 1_763_724_600_000
_B2C_POLICY = "b2c_1_fake"

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# records


@dataclass
class ConnectorCall:
    """One request to the Bot Connector as it arrived, so tests assert on the wire."""

    method: str
    path: str  # decoded, e.g. "/emea/v3/conversations/a:1…/activities"
    body: Any
    authorization: str | None
    headers: dict[str, str]
    status: int = 0
    response: Any = None


@dataclass(frozen=True)
class Download:
    """One GET of a file registered with add_file, with the credentials it carried."""

    attachment_id: str
    view_id: str
    authorization: str | None
    status: int


@dataclass(frozen=True)
class LoginRequest:
    """One request to the fake Entra ID login (discovery or token), recorded from its thread."""

    method: str
    path: str
    form: dict[str, str]


@dataclass
class _Failure:
    path_contains: str
    status: int
    retry_after: int | None
    remaining: int


@dataclass
class _StoredFile:
    name: str
    data: bytes
    content_type: str
    require_auth: bool
    pace: Pace = DEFAULT_PACE
    cut_after: int | None = None  # the connection drops after this many bytes


# --------------------------------------------------------------------------------------------
# configuration for botbuilder


@dataclass(frozen=True)
class BotFrameworkSettings:
    """Attributes named as ConfigurationBotFrameworkAuthentication and its credential factory read
    them, so the object can be passed straight in; see the module docstring for their meaning."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str
    OAUTH_URL: str
    CALLER_ID: str
    VALIDATE_AUTHORITY: bool
    REQUESTS_CA_BUNDLE: str
    CHANNEL_SERVICE: str | None = None

    def as_env(self) -> dict[str, str]:
        """The environment variables the application should read (module docstring), for tests
        that start the real app, in process or as a subprocess."""
        env = {
            "MICROSOFT_APP_ID": self.APP_ID,
            "MICROSOFT_APP_PASSWORD": self.APP_PASSWORD,
            "MICROSOFT_APP_TYPE": self.APP_TYPE,
            "BOTFRAMEWORK_OPENID_METADATA_URL": self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
            "BOTFRAMEWORK_EMULATOR_METADATA_URL": self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
            "BOTFRAMEWORK_LOGIN_URL": self.TO_CHANNEL_FROM_BOT_LOGIN_URL,
            "BOTFRAMEWORK_OAUTH_URL": self.OAUTH_URL,
            "REQUESTS_CA_BUNDLE": self.REQUESTS_CA_BUNDLE,
        }
        if self.APP_TENANTID is not None:
            env["MICROSOFT_APP_TENANT_ID"] = self.APP_TENANTID
        return env


def auth_configuration(
    fake: FakeBotFramework, *, app_id: str, password: str, tenant_id: str | None = None
) -> BotFrameworkSettings:
    """Settings that make botbuilder trust the fake issuer and log in at the fake Entra ID.

    Only supported configuration is used, no patching. The app is registered with the fake
    login, which then refuses a wrong client id or secret as Entra ID would. A `tenant_id` makes
    the app SingleTenant and puts the tenant in the login URL, as production would.
    """
    fake.register_app(app_id, password)
    return BotFrameworkSettings(
        APP_ID=app_id,
        APP_PASSWORD=password,
        APP_TYPE="SingleTenant" if tenant_id else "MultiTenant",
        APP_TENANTID=tenant_id,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=fake.openid_metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=fake.openid_metadata_url,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=BOT_FRAMEWORK_ISSUER,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=fake.login_url(tenant_id),
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=BOT_FRAMEWORK_SCOPE,
        # Nothing in the fake serves the user-token API; pointing it at the connector makes any
        # accidental call a recorded 404 instead of a request to api.botframework.com.
        OAUTH_URL=fake.service_url.rstrip("/"),
        CALLER_ID=str(PUBLIC_CLOUD["CALLER_ID"]),
        VALIDATE_AUTHORITY=True,
        REQUESTS_CA_BUNDLE=fake.ca_bundle,
    )


# --------------------------------------------------------------------------------------------
# activities as Teams sends them


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_activity_ids = itertools.count(_FIRST_MESSAGE_ID)


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _base_activity(service_url: str, app_id: str) -> dict[str, Any]:
    return {
        "id": str(next(_activity_ids)),
        "timestamp": _now_iso(),
        "localTimestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "localTimezone": "Europe/London",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": USER_ID, "name": USER_NAME, "aadObjectId": USER_AAD_ID},
        "conversation": {
            "conversationType": "personal",
            "tenantId": TENANT_ID,
            "id": CONVERSATION_ID,
        },
        "recipient": {"id": f"28:{app_id}", "name": BOT_NAME},
        "entities": [
            {
                "type": "clientInfo",
                "locale": "en-GB",
                "country": "GB",
                "platform": "Web",
                "timezone": "Europe/London",
            }
        ],
        "channelData": {"tenant": {"id": TENANT_ID}},
        "locale": "en-GB",
    }


def activity(
    *,
    service_url: str = _UNROUTABLE_SERVICE_URL,
    app_id: str = APP_ID,
    **overrides: Any,
) -> dict[str, Any]:
    """A personal-chat message as Teams posts it to the bot, with a fresh id and timestamp.

    Overrides use the wire (camelCase) names; nested dicts are merged, so
    `conversation={"id": "a:2"}` keeps the conversation type and tenant, and a value of None
    removes a key. Use FakeBotFramework.activity to get the fake's service URL filled in; the
    default one is deliberately unreachable.
    """
    base = _base_activity(service_url, app_id)
    base.update({"type": "message", "text": "hello", "textFormat": "plain", "attachments": []})
    return _merge(base, overrides)


def invoke_action(
    verb: str,
    data: Mapping[str, Any],
    *,
    service_url: str = _UNROUTABLE_SERVICE_URL,
    app_id: str = APP_ID,
    **overrides: Any,
) -> dict[str, Any]:
    """An Adaptive Card Universal Action (Action.Execute) press, which Teams sends as an invoke
    and for which the bot must answer in the HTTP response rather than through the connector."""
    base = _base_activity(service_url, app_id)
    base["channelData"] = {
        "tenant": {"id": TENANT_ID},
        "source": {"name": "message"},
        "legacy": {"replyToId": str(_FIRST_MESSAGE_ID - 1)},
    }
    base.update(
        {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "replyToId": str(_FIRST_MESSAGE_ID - 1),
            "value": {
                "action": {
                    "type": "Action.Execute",
                    "id": str(uuid.uuid4()),
                    "verb": verb,
                    "data": dict(data),
                },
                "trigger": "manual",
            },
        }
    )
    return _merge(base, overrides)


def conversation_update_added(
    *,
    service_url: str = _UNROUTABLE_SERVICE_URL,
    app_id: str = APP_ID,
    members_added: Sequence[Mapping[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """What Teams sends when someone installs the bot in personal scope: the bot itself is among
    the members added, which is how a bot tells an install from a person joining a chat."""
    base = _base_activity(service_url, app_id)
    added = (
        [dict(member) for member in members_added]
        if members_added is not None
        else [{"id": f"28:{app_id}"}, {"id": USER_ID, "aadObjectId": USER_AAD_ID}]
    )
    base.update({"type": "conversationUpdate", "membersAdded": added})
    return _merge(base, overrides)


# --------------------------------------------------------------------------------------------
# TLS: one throwaway CA per process, trusted by `requests` only while a fake is running


@dataclass(frozen=True)
class _TlsFiles:
    ca: Path
    chain: Path
    key: Path


class _LocalTrust:
    """Reference-counted so that fakes may overlap (a fixture plus a test's own) without one
    stopping pulling the trust from under another."""

    _lock = threading.Lock()
    _users = 0
    _dir: tempfile.TemporaryDirectory[str] | None = None
    _files: _TlsFiles | None = None
    _saved: dict[str, str | None] = {}  # noqa: RUF012 - class-level state on purpose

    @classmethod
    def acquire(cls) -> _TlsFiles:
        with cls._lock:
            if cls._files is None:
                cls._dir = tempfile.TemporaryDirectory(prefix="fake-botframework-")
                cls._files = _write_tls_files(Path(cls._dir.name))
                cls._saved = {name: os.environ.get(name) for name in _ENV_NAMES}
                os.environ["REQUESTS_CA_BUNDLE"] = str(cls._files.ca)
                for name in ("NO_PROXY", "no_proxy"):
                    current = [p for p in (os.environ.get(name) or "").split(",") if p]
                    os.environ[name] = ",".join([*current, "127.0.0.1", "localhost"])
            cls._users += 1
            return cls._files

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users -= 1
            if cls._users > 0:
                return
            for name, value in cls._saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            if cls._dir is not None:
                cls._dir.cleanup()
            cls._dir, cls._files, cls._saved = None, None, {}


_ENV_NAMES = ("REQUESTS_CA_BUNDLE", "NO_PROXY", "no_proxy")


def _write_tls_files(directory: Path) -> _TlsFiles:
    # EC keys: generating them is instant, unlike RSA, and nothing here needs RSA.
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "policybot test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = _TlsFiles(directory / "ca.pem", directory / "chain.pem", directory / "key.pem")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# --------------------------------------------------------------------------------------------
# the identity server (token issuer metadata + Entra ID login), in a thread of its own


class _IdentityServer(ThreadingHTTPServer):
    # Joining request threads on close is what lets a test end with no thread left behind; it
    # is safe because HTTP/1.0 without keep-alive means every request thread ends on its own.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeBotFramework, context: ssl.SSLContext) -> None:
        self.fake = fake
        self.tls = context
        super().__init__(("127.0.0.1", 0), _IdentityHandler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        # The handshake happens in the request thread, so a stalled client cannot block accept.
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up mid-handshake is not news; anything else is reported through
        # the response status and the recorded requests.
        return


class _IdentityHandler(BaseHTTPRequestHandler):
    server: _IdentityServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.server.fake._identity_request(method, self.path, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --------------------------------------------------------------------------------------------
# the fake


class FakeBotFramework:
    """Token issuer, Entra ID login and Bot Connector for one test, on 127.0.0.1.

    Use as `async with FakeBotFramework() as fake:`. Every instance has its own signing key,
    ports and metadata URL, so instances never share botframework's process-wide key cache.
    """

    def __init__(
        self, *, endorsements: Iterable[str] = DEFAULT_ENDORSEMENTS, require_auth: bool = True
    ) -> None:
        """`require_auth=False` lets the connector accept calls without the fake login's token,
        for tests of code that builds a ConnectorClient by hand."""
        self.endorsements = list(endorsements)
        self.require_auth = require_auth
        self.key_id = secrets.token_urlsafe(16)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._wrong_key: rsa.RSAPrivateKey | None = None
        self._nonce = secrets.token_hex(8)

        self.calls: list[ConnectorCall] = []
        self.downloads: list[Download] = []
        self.login_requests: list[LoginRequest] = []
        self.issued_tokens: list[str] = []
        self._apps: dict[str, str] = {}
        self._login_lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._files: dict[str, _StoredFile] = {}
        self._members: dict[str, dict[str, Any]] = {}
        self._conversation_members: dict[str, list[str]] = {}
        # Teams (team id -> member ids, in the order they joined) and the team each channel
        # belongs to; people gone from the tenant altogether.
        self._teams: dict[str, list[str]] = {}
        self._channel_teams: dict[str, str] = {}
        self._gone: set[str] = set()
        self._refused_chats: dict[str, tuple[int, str, str]] = {}
        self._message_ids = itertools.count(_FIRST_MESSAGE_ID + 500_000)
        self._changed = asyncio.Event()

        self._runner: web.AppRunner | None = None
        self._connector_port: int | None = None
        self._identity: _IdentityServer | None = None
        self._identity_thread: threading.Thread | None = None
        self._tls: _TlsFiles | None = None

    # ----------------------------------------------------------------------------------------
    # lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotFramework is already running")
        self._tls = _LocalTrust.acquire()
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self._tls.chain, self._tls.key)
            identity = _IdentityServer(self, context)
            thread = threading.Thread(
                target=identity.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-botframework-identity",
            )
            thread.start()
            self._identity, self._identity_thread = identity, thread

            # Teams attachments can be large; aiohttp's 1 MiB default would turn them into 413s.
            app = web.Application(
                client_max_size=100 * 1024 * 1024, middlewares=[_close_connections]
            )
            app.router.add_route("*", "/{tail:.*}", self._connector)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runner = runner
            self._connector_port = int(runner.addresses[0][1])
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        metadata_url = self._metadata_url_or_none
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        identity, self._identity = self._identity, None
        thread, self._identity_thread = self._identity_thread, None
        if identity is not None:
            if thread is not None:
                # shutdown() blocks until serve_forever notices, so not on the event loop.
                await asyncio.to_thread(identity.shutdown)
            await asyncio.to_thread(identity.server_close)
        if thread is not None:
            await asyncio.to_thread(thread.join, 5.0)
        if self._tls is not None:
            self._tls = None
            _LocalTrust.release()
        _forget_cached_metadata(metadata_url)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------------------------------
    # addresses

    @property
    def identity_url(self) -> str:
        """Root of the TLS server playing login.botframework.com and login.microsoftonline.com."""
        if self._identity is None:
            raise RuntimeError("FakeBotFramework has not been started")
        return f"https://127.0.0.1:{self._identity.server_address[1]}"

    @property
    def _metadata_url_or_none(self) -> str | None:
        return None if self._identity is None else self.openid_metadata_url

    @property
    def openid_metadata_url(self) -> str:
        """TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL. The query makes the URL unique per instance:
        botframework caches keys per URL for a day, process-wide, and ports get reused."""
        return f"{self.identity_url}/v1/.well-known/openidconfiguration?fake={self._nonce}"

    @property
    def jwks_url(self) -> str:
        return f"{self.identity_url}/v1/.well-known/keys?fake={self._nonce}"

    def login_url(self, tenant_id: str | None = None) -> str:
        """TO_CHANNEL_FROM_BOT_LOGIN_URL, B2C shaped so MSAL skips instance discovery (module
        docstring); the token itself comes from /<tenant>/oauth2/v2.0/token as from Entra ID."""
        return f"{self.identity_url}/{tenant_id or 'botframework.com'}/{_B2C_POLICY}"

    @property
    def ca_bundle(self) -> str:
        """The CA that signed the identity server's certificate, for REQUESTS_CA_BUNDLE."""
        if self._tls is None:
            raise RuntimeError("FakeBotFramework has not been started")
        return str(self._tls.ca)

    @property
    def url(self) -> str:
        if self._connector_port is None:
            raise RuntimeError("FakeBotFramework has not been started")
        return f"http://127.0.0.1:{self._connector_port}"

    @property
    def service_url(self) -> str:
        """The `serviceUrl` to put in activities (and in tokens): the fake connector, shaped like
        https://smba.trafficmanager.net/emea/ including the trailing slash."""
        return f"{self.url}/{_REGION}/"

    # ----------------------------------------------------------------------------------------
    # token issuer

    def mint(
        self,
        *,
        app_id: str,
        service_url: str,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        audience: str | None = None,
        expires_in: int = 3600,
        unsigned: bool = False,
        wrong_key: bool = False,
        without: Sequence[str] = (),
    ) -> str:
        """The JWT Teams would send to the bot, valid when the arguments match the bot's settings.

        botbuilder allows 5 minutes of clock skew, so a token only counts as expired once
        `expires_in` is below -300. `unsigned` gives an alg=none token; `wrong_key` one signed
        by a key the metadata does not publish, under the published key id (a forgery);
        `without` names claims left out of an otherwise valid token (e.g. "exp").
        """
        now = int(time.time())
        claims = {
            "serviceurl": service_url,
            "nbf": now - CLOCK_LEEWAY_SECONDS,
            "exp": now + expires_in,
            "iss": issuer,
            "aud": audience if audience is not None else app_id,
        }
        for name in without:
            claims.pop(name, None)
        headers = {"kid": self.key_id, "x5t": self.key_id, "typ": "JWT"}
        if unsigned:
            header = _b64url(json.dumps({**headers, "alg": "none"}).encode())
            return f"{header}.{_b64url(json.dumps(claims).encode())}."
        key = self._key
        if wrong_key:
            if self._wrong_key is None:
                self._wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key = self._wrong_key
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)

    def headers_for(self, body: Mapping[str, Any], *, app_id: str, **mint: Any) -> dict[str, str]:
        """Headers for posting `body` to the bot, with a token minted for its serviceUrl unless
        `mint` says otherwise."""
        mint.setdefault("service_url", str(body.get("serviceUrl")))
        token = self.mint(app_id=app_id, **mint)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def jwks(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        key.update(
            {
                "kid": self.key_id,
                "x5t": self.key_id,
                "use": "sig",
                "alg": "RS256",
                "endorsements": list(self.endorsements),
            }
        )
        return {"keys": [key]}

    # ----------------------------------------------------------------------------------------
    # Entra ID login

    def register_app(self, app_id: str, password: str) -> None:
        """Make the login check this client id and secret; with no app registered it accepts any."""
        with self._login_lock:
            self._apps[app_id] = password

    def token_requests(self) -> list[LoginRequest]:
        with self._login_lock:
            return [r for r in self.login_requests if r.path.endswith("/oauth2/v2.0/token")]

    def _identity_request(self, method: str, raw_path: str, body: bytes) -> tuple[int, Any]:
        """Runs in the identity server's request threads."""
        parts = urlsplit(raw_path)
        path = parts.path
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        with self._login_lock:
            self.login_requests.append(LoginRequest(method, path, form))
        root = self.identity_url
        if method == "GET" and path in (
            "/v1/.well-known/openidconfiguration",
            "/.well-known/openid-configuration",
        ):
            return 200, {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        if method == "GET" and path == "/v1/.well-known/keys":
            return 200, self.jwks()
        segments = path.strip("/").split("/")
        if method == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = segments[0]
            return 200, {
                "issuer": f"{root}/{tenant}/v2.0",
                "authorization_endpoint": f"{root}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/{tenant}/oauth2/v2.0/token",
                "jwks_uri": f"{root}/{tenant}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
            }
        if method == "POST" and path.endswith("/oauth2/v2.0/token") and len(segments) == 4:
            return self._token(segments[0], form)
        return 404, {"error": "not_found", "error_description": f"no route for {method} {path}"}

    def _token(self, tenant: str, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "client_credentials":
            return 400, _aad_error("unsupported_grant_type", 70003, "grant type not supported")
        client_id = form.get("client_id", "")
        with self._login_lock:
            expected = self._apps.get(client_id)
            known = bool(self._apps)
        if known and expected is None:
            return 400, _aad_error(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant}'.",
            )
        if known and form.get("client_secret") != expected:
            return 401, _aad_error(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                "the client secret value, not the client secret ID.",
            )
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            return 400, _aad_error(
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        now = int(time.time())
        token = jwt.encode(
            {
                "aud": scope.removesuffix("/.default"),
                "iss": f"https://sts.windows.net/{tenant}/",
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "appid": client_id,
                "appidacr": "1",
                "tid": tenant,
                "ver": "1.0",
                "jti": secrets.token_hex(8),
            },
            self._key,
            algorithm="RS256",
            headers={"kid": f"login-{self.key_id}"},
        )
        with self._login_lock:
            self.issued_tokens.append(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        }

    def _authorized(self, authorization: str | None) -> bool:
        token = _bearer(authorization)
        with self._login_lock:
            return token is not None and token in self.issued_tokens

    # ----------------------------------------------------------------------------------------
    # connector: inspecting and steering

    def sent_activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Activities the connector accepted (sends and replies), oldest first."""
        return [
            call.body
            for call in self._accepted("POST", "activities")
            if conversation_id is None or _conversation_of(call.path) == conversation_id
        ]

    def updates(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Bodies of accepted activity updates (PUT), oldest first; each carries its `id`."""
        return [
            call.body
            for call in self._accepted("PUT", "activity")
            if conversation_id is None or _conversation_of(call.path) == conversation_id
        ]

    def deletes(self) -> list[tuple[str, str]]:
        """(conversation id, activity id) of each accepted delete."""
        return [
            (_conversation_of(call.path) or "", call.path.rsplit("/", 1)[-1])
            for call in self._accepted("DELETE", "activity")
        ]

    def created_conversations(self) -> list[dict[str, Any]]:
        """ConversationParameters of each accepted POST /v3/conversations, with the new `id`."""
        return [
            {**call.body, "id": call.response["id"]}
            for call in self.calls
            if call.method == "POST"
            and call.path == f"/{_REGION}/v3/conversations"
            and 200 <= call.status < 300
        ]

    async def wait_for_activities(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - the failure must say what was seen instead
        conversation_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Wait for sends made by background tasks, which a test cannot simply await; returns the
        first `count`. A failure lists the calls that did arrive."""

        def enough() -> list[dict[str, Any]] | None:
            sent = self.sent_activities(conversation_id)
            return sent[:count] if len(sent) >= count else None

        found = await self._wait_until(enough, timeout)
        if found is None:
            seen = [f"{c.method} {c.path} -> {c.status}" for c in self.calls]
            raise AssertionError(
                f"expected {count} activit{'y' if count == 1 else 'ies'} within {timeout}s, got "
                f"{len(self.sent_activities(conversation_id))}; connector calls: {seen or 'none'}"
            )
        return found

    def fail_next(
        self, path_contains: str, *, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Make the next `times` connector calls whose decoded path contains `path_contains` fail
        with `status` (and a Retry-After header if given), as Teams does under throttling (429),
        on a stale update (412) or when its backend is down (502, 504)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append(_Failure(path_contains, status, retry_after, times))

    def add_file(
        self,
        name: str,
        data: bytes,
        content_type: str,
        *,
        require_auth: bool = False,
        pace: Pace = DEFAULT_PACE,
        cut_after: int | None = None,
    ) -> str:
        """Host a file and return its URL, usable as a file's `downloadUrl` or an inline image's
        `contentUrl`. Teams' downloadUrl is pre-authenticated but contentUrl needs the bot's
        token, hence `require_auth`; `downloads` records what credentials each GET carried (and,
        like every request here, it is in `calls` too). fail_next matches downloads as well.
        The file streams in paced pieces (tests/fakes/streaming.py); `cut_after` drops the
        connection part-way through."""
        attachment_id = f"0-weu-d{len(self._files) + 1}-{secrets.token_hex(16)}"
        self._files[attachment_id] = _StoredFile(
            name, data, content_type, require_auth, pace, cut_after
        )
        return f"{self.service_url}v3/attachments/{quote(attachment_id, safe='')}/views/original"

    def refuse_personal_chat(self, member_id: str, *, status: int = 403) -> None:
        """Answer every request to open a 1:1 chat with this member as Teams does when it will
        not: 403 when the user has blocked the bot or the app is not allowed for them, 404 when
        the user is not found in the tenant (they have left), 400 for an id it cannot read."""
        code, message = {
            400: ("BadArgument", "Failed to decrypt pairwise id"),
            403: ("ConversationBlockedByUser", "User blocked the conversation with the bot."),
            404: ("NotFound", "User not found in the tenant."),
        }.get(status, ("ServiceError", "Unknown error."))
        self._refused_chats[member_id] = (status, code, message)

    def add_member(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Override what the members endpoints say about a user (wire names, merged)."""
        self._members[user_id] = {**self._account(user_id), **fields}
        return self._members[user_id]

    def add_team(self, team_id: str, *, channels: Iterable[str] = ()) -> None:
        """A team the app is installed in, with its channels; its roster starts empty. Teams
        answers the members APIs of a channel's conversation with the team's roster."""
        self._teams.setdefault(team_id, [])
        for channel in channels:
            self._channel_teams[channel] = team_id

    def add_to_team(
        self,
        team_id: str,
        user_id: str,
        *,
        name: str,
        aad_object_id: str,
        email: str | None,
        user_principal_name: str | None = None,
        user_role: str = "user",
        tenant_id: str = TENANT_ID,
    ) -> dict[str, Any]:
        """Someone in a team's roster, as TeamsChannelAccount puts them on the wire: `userRole`
        is "user", "guest" (an Entra B2B guest) or "anonymous"; `email` may be missing, as it
        is for some accounts, when the userPrincipalName is all there is."""
        given, _, surname = name.partition(" ")
        account: dict[str, Any] = {
            "id": user_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "givenName": given,
            "surname": surname,
            "userPrincipalName": user_principal_name or email or f"{aad_object_id}@{tenant_id}",
            "tenantId": tenant_id,
            "userRole": user_role,
        }
        if email is not None:
            account["email"] = email
        self._members[user_id] = account
        self._gone.discard(user_id)
        roster = self._teams.setdefault(team_id, [])
        if user_id not in roster:
            roster.append(user_id)
        return account

    def remove_from_team(self, team_id: str, user_id: str) -> None:
        """Someone taken out of a team (they may still be in the tenant): the team's members
        APIs no longer list or find them."""
        roster = self._teams.get(team_id, [])
        if user_id in roster:
            roster.remove(user_id)

    def remove_member(self, user_id: str) -> None:
        """Someone gone from the tenant: every members API answers 404 for them, and no 1:1
        chat can be opened with them."""
        self._gone.add(user_id)
        for roster in self._teams.values():
            if user_id in roster:
                roster.remove(user_id)

    # ----------------------------------------------------------------------------------------
    # connector: routes

    async def _connector(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        authorization = request.headers.get("Authorization")
        call = ConnectorCall(request.method, path, body, authorization, dict(request.headers))
        self.calls.append(call)
        try:
            if not path.startswith(f"/{_REGION}/v3/"):
                return _answer(call, 404, _teams_error("NotFound", f"no route for {path}"))
            route = path.removeprefix(f"/{_REGION}/v3/").split("/")
            file = self._file_for(route) if request.method == "GET" else None
            if file is not None:
                return await self._download(request, call, route, file)
            if self.require_auth and not self._authorized(authorization):
                return _answer(
                    call, 401, {"message": "Authorization has been denied for this request."}
                )
            failure = self._take_failure(path)
            if failure is not None:
                return _fail(call, failure)
            status, payload = self._route(request.method, route, body, request.query)
            return _answer(call, status, payload)
        finally:
            self._notify()

    def _route(
        self, method: str, route: list[str], body: Any, query: Mapping[str, str]
    ) -> tuple[int, Any]:
        match method, route:
            case "POST", ["conversations"]:
                return self._create_conversation(body)
            case "POST", ["conversations", _, "activities"] | [
                "conversations",
                _,
                "activities",
                _,
            ]:
                if not isinstance(body, dict) or not body.get("type"):
                    return 400, _teams_error("BadArgument", "Activity type is required")
                return 201, {"id": str(next(self._message_ids))}
            case "PUT", ["conversations", _, "activities", activity_id]:
                if not isinstance(body, dict) or not body.get("type"):
                    return 400, _teams_error("BadArgument", "Activity type is required")
                return 200, {"id": activity_id}
            case "DELETE", ["conversations", _, "activities", _]:
                return 200, None
            case "GET", ["conversations", conversation_id, "members"]:
                return 200, [self._account(u) for u in self._members_of(conversation_id)]
            case "GET", ["conversations", conversation_id, "pagedmembers"]:
                return self._paged_members(conversation_id, query)
            case "GET", ["conversations", conversation_id, "members", user_id]:
                return self._member(conversation_id, user_id)
            case "GET", ["attachments", attachment_id]:
                stored = self._files.get(attachment_id)
                if stored is None:
                    return 404, _teams_error("NotFound", "attachment not found")
                return 200, {
                    "name": stored.name,
                    "type": stored.content_type,
                    "views": [{"viewId": "original", "size": len(stored.data)}],
                }
        return 404, _teams_error("NotFound", f"the fake connector has no {method} {route}")

    def _create_conversation(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, _teams_error("BadSyntax", "conversation parameters are required")
        members = [m.get("id") for m in body.get("members") or [] if isinstance(m, dict)]
        if not members or not all(members):
            return 400, _teams_error("BadArgument", "Conversation must have members")
        channel_tenant = ((body.get("channelData") or {}).get("tenant") or {}).get("id")
        if not (body.get("tenantId") or channel_tenant):
            return 400, _teams_error("BadArgument", "Tenant ID is required")
        bot = (body.get("bot") or {}).get("id", "")
        refused = [self._refused_chats[m] for m in members if m in self._refused_chats]
        refused += [
            (404, "NotFound", "User not found in the tenant.")
            for m in members
            if (self._user_id_of(str(m)) or m) in self._gone
        ]
        if refused:
            status, code, message = refused[0]
            return status, _teams_error(code, message)
        if len(members) == 1 and not body.get("isGroup"):
            # Teams answers with the same 1:1 conversation every time for a bot and a user.
            digest = hashlib.sha256(f"{bot}|{members[0]}".encode()).digest()
            conversation_id = "a:1" + _b64url(digest + digest[:16])
        else:
            conversation_id = f"19:{secrets.token_hex(16)}@thread.v2"
        self._conversation_members[conversation_id] = [str(m) for m in members]
        return 201, {"id": conversation_id}

    def _team_of(self, conversation_id: str) -> str | None:
        """The team a conversation id stands for: the team's own id, or one of its channels
        (with or without the ";messageid=…" of a thread)."""
        bare = conversation_id.split(";", 1)[0]
        if bare in self._teams:
            return bare
        return self._channel_teams.get(bare)

    def _member(self, conversation_id: str, member_id: str) -> tuple[int, Any]:
        """GET …/members/{id}, by the Teams user id ("29:…") or the Entra object id, as Teams
        accepts either: 404 for someone not (or no longer) in the team or the tenant."""
        user_id = self._user_id_of(member_id)
        team = self._team_of(conversation_id)
        if (
            user_id is None
            or user_id in self._gone
            or (team is not None and user_id not in self._teams[team])
        ):
            return 404, _teams_error(
                "MemberNotFoundInConversation", "The specified user is not a member of this team."
            )
        return 200, self._account(user_id)

    def _user_id_of(self, member_id: str) -> str | None:
        if member_id in self._members or member_id.startswith("29:"):
            return member_id
        for user_id, account in self._members.items():
            if str(account.get("aadObjectId") or "").lower() == member_id.lower():
                return user_id
        return None

    def _paged_members(self, conversation_id: str, query: Mapping[str, str]) -> tuple[int, Any]:
        """One page of a team's (or a chat's) members, with a continuationToken while more are
        left; pageSize is a suggestion Teams caps at 500."""
        team = self._team_of(conversation_id)
        ids = list(self._teams[team]) if team is not None else self._members_of(conversation_id)
        ids = [u for u in ids if u not in self._gone]
        try:
            size = min(max(int(query.get("pageSize") or 100), 1), 500)
            start = int(query.get("continuationToken") or 0)
        except ValueError:
            return 400, _teams_error("BadArgument", "invalid pageSize or continuationToken")
        page = ids[start : start + size]
        result: dict[str, Any] = {"members": [self._account(u) for u in page]}
        if start + size < len(ids):
            result["continuationToken"] = str(start + size)
        return 200, result

    def _file_for(self, route: list[str]) -> _StoredFile | None:
        if len(route) == 4 and route[0] == "attachments" and route[2] == "views":
            return self._files.get(route[1])
        return None

    async def _download(
        self, request: web.Request, call: ConnectorCall, route: list[str], file: _StoredFile
    ) -> web.StreamResponse:
        attachment_id, view_id = route[1], route[3]
        failure: _Failure | None
        if file.require_auth and not self._authorized(call.authorization):
            failure = _Failure(call.path, 401, None, 0)
        else:
            failure = self._take_failure(call.path)
        status = 200 if failure is None else failure.status
        self.downloads.append(Download(attachment_id, view_id, call.authorization, status))
        if failure is not None:
            return _fail(call, failure)
        call.status = 200
        return await stream_file(
            request,
            file.data,
            file.content_type,
            pace=file.pace,
            cut_after=file.cut_after,
            headers={"Content-Disposition": f'attachment; filename="{file.name}"'},
        )

    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path_contains in path:
                failure.remaining -= 1
                if failure.remaining == 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _accepted(self, method: str, kind: str) -> list[ConnectorCall]:
        wanted = []
        for call in self.calls:
            if call.method != method or not 200 <= call.status < 300:
                continue
            route = call.path.removeprefix(f"/{_REGION}/v3/").split("/")
            if route[:1] != ["conversations"] or len(route) < 3 or route[2] != "activities":
                continue
            if kind == "activities" or len(route) == 4:
                wanted.append(call)
        return wanted

    def _members_of(self, conversation_id: str) -> list[str]:
        if conversation_id in self._conversation_members:
            return self._conversation_members[conversation_id]
        return list(self._members) or [USER_ID]

    def _account(self, user_id: str) -> dict[str, Any]:
        if user_id in self._members:
            return self._members[user_id]
        if user_id == USER_ID:
            given, surname, aad_id = "Alex", "Morgan", USER_AAD_ID
        else:
            given, surname = "User", user_id[-6:]
            aad_id = str(uuid.uuid5(uuid.NAMESPACE_URL, user_id))
        email = f"{given}.{surname}@example-school.org.uk".lower()
        return {
            "id": user_id,
            "name": f"{given} {surname}",
            "aadObjectId": aad_id,
            "givenName": given,
            "surname": surname,
            "email": email,
            "userPrincipalName": email,
            "tenantId": TENANT_ID,
            "userRole": "user",
        }

    # ----------------------------------------------------------------------------------------
    # activities bound to this fake

    def activity(self, **overrides: Any) -> dict[str, Any]:
        return activity(service_url=self.service_url, **overrides)

    def invoke_action(self, verb: str, data: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
        return invoke_action(verb, data, service_url=self.service_url, **overrides)

    def conversation_update_added(self, **overrides: Any) -> dict[str, Any]:
        return conversation_update_added(service_url=self.service_url, **overrides)

    # ----------------------------------------------------------------------------------------
    # waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, probe: Callable[[], _T | None], seconds: float) -> _T | None:
        try:
            async with asyncio.timeout(seconds):
                while True:
                    changed = self._changed
                    found = probe()
                    if found is not None:
                        return found
                    await changed.wait()
        except TimeoutError:
            return probe()


# --------------------------------------------------------------------------------------------
# helpers


@web.middleware
async def _close_connections(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    # msrest's requests sessions are never closed by botbuilder; closing each connection from the
    # server side means no socket outlives its request to become a ResourceWarning later.
    response: web.StreamResponse = await handler(request)
    response.force_close()
    return response


def _answer(
    call: ConnectorCall, status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> web.Response:
    call.status, call.response = status, payload
    if payload is None:
        return web.Response(status=status, headers=headers)
    return web.json_response(payload, status=status, headers=headers)


def _fail(call: ConnectorCall, failure: _Failure) -> web.Response:
    headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
    return _answer(call, failure.status, _failure_body(failure.status), headers)


def _teams_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _failure_body(status: int) -> dict[str, Any]:
    code, message = {
        401: ("Unauthorized", "Authorization has been denied for this request."),
        412: ("PreconditionFailed", "The message was changed since it was last read."),
        429: ("TooManyRequests", "Too many requests."),
        502: ("BadGateway", "Bad gateway."),
        503: ("ServiceUnavailable", "Service unavailable."),
        504: ("GatewayTimeout", "Gateway timeout."),
    }.get(status, ("ServiceError", "Unknown error."))
    return _teams_error(code, message)


def _aad_error(error: str, code: int, description: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Timestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }


def _bearer(authorization: str | None) -> str | None:
    if authorization is None or not authorization.startswith("Bearer "):
        return None
    return authorization.removeprefix("Bearer ").strip() or None


def _conversation_of(path: str) -> str | None:
    route = path.removeprefix(f"/{_REGION}/v3/").split("/")
    return route[1] if len(route) >= 2 and route[0] == "conversations" else None


def _forget_cached_metadata(url: str | None) -> None:
    # botframework keeps fetched keys per URL for the life of the process; this instance's URL is
    # never used again, so dropping the entry only keeps a long test run from accumulating them.
    if url is None:
        return
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    JwtTokenExtractor.metadataCache.pop(url, None)
