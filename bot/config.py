"""Settings: environment variables plus one TOML file, validated before anything starts.

Secrets come only from the environment, so the TOML file can be shared, reviewed and committed
by a school's IT admin without leaking anything. A bad value stops start-up with a message that
names the field, because a safeguarding bot that half-starts is worse than one that refuses.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import socket
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dialogs.services.errors import ConfigError
from dialogs.services.school.schools import Directory, School
from storage.audit_key import decode_key

SAMPLE_CONFIG = Path(str(resources.files("bot") / "sample" / "policybot.toml"))
_PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "todo", "replace-me", "example"}


class EvidenceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_upload_mb: Annotated[float, Field(gt=0, le=100)] = 10
    max_video_mb: Annotated[float, Field(gt=0, le=200)] = 50  # videos for posts, or evidence
    max_image_pixels: Annotated[int, Field(ge=1_000_000, le=500_000_000)] = 40_000_000

    @property
    def largest_upload_bytes(self) -> int:
        """What a channel may download before the file's kind is known."""
        return int(max(self.max_upload_mb, self.max_video_mb) * 1024 * 1024)


class DraftSettings(BaseModel):
    """How long an unfinished report waits for its author: a reminder first, then expiry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    remind_after_hours: Annotated[float, Field(gt=0)] = 24
    expire_after_hours: Annotated[float, Field(gt=0)] = 24 * 7
    sweep_every_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 15


class FileSettings(BaseModel):
    """The shape of the TOML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path | None = None
    evidence: EvidenceSettings = EvidenceSettings()
    drafts: DraftSettings = DraftSettings()
    schools: tuple[School, ...]  # at least one: checked by Directory, so it is reported once


@dataclass(frozen=True)
class SlackSettings:
    """Slack credentials, from the environment only."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(repr=False)
    api_url: str | None

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


TEAMS_APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")
# A school's bot serves one Microsoft 365 tenant, its own, so SingleTenant is the default: only
# that tenant's Entra ID issues the bot's tokens, and it is what Azure now creates a new Azure
# Bot as. MultiTenant (an older registration) and UserAssignedMSI (a managed identity) are
# chosen by name, and a SingleTenant bot without its tenant stops start-up.
DEFAULT_TEAMS_APP_TYPE = "SingleTenant"
_TENANT_NEEDED = (
    "MICROSOFT_APP_ID is set, so MICROSOFT_APP_TENANT_ID is needed: the bot is SingleTenant "
    "unless MICROSOFT_APP_TYPE says otherwise. Set it to the Directory (tenant) ID shown on "
    "the app registration's Overview page in the Azure portal, or, for a bot registered as "
    "multi-tenant, set MICROSOFT_APP_TYPE=MultiTenant."
)


@dataclass(frozen=True)
class TeamsSettings:
    """Bot Framework credentials (from the environment only) and, for sovereign clouds or
    tests, where tokens are checked and fetched.

    With neither an app id nor `development`, Teams is off and /api/messages does not exist:
    without a token nobody on it can be told apart. `development` (POLICYBOT_TEAMS_DEV=1) is
    the local development mode for the Agents Playground: no tokens, so only this machine may
    talk to the bot (bot/channels/teams/dev_mode.py)."""

    app_id: str | None
    app_password: str | None = field(repr=False)
    tenant_id: str | None
    app_type: str
    openid_metadata_url: str | None = None
    emulator_metadata_url: str | None = None
    token_issuer: str | None = None
    login_url: str | None = None
    oauth_scope: str | None = None
    oauth_url: str | None = None
    development: bool = False

    @property
    def development_mode(self) -> bool:
        return self.development

    @property
    def enabled(self) -> bool:
        """Whether the server takes Teams activities at all."""
        return bool(self.app_id) or self.development


@dataclass(frozen=True)
class WebhookSettings:
    """Secrets for comments arriving by webhook, from the environment only.

    Automation tools sign with a secret per school (POLICYBOT_COMMENTS_SECRET_<SCHOOL ID>, the
    id in capitals with anything but letters and digits as "_"); Facebook signs with the Meta
    app's secret (FACEBOOK_APP_SECRET) and checks the webhook with FACEBOOK_VERIFY_TOKEN.
    """

    comment_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    facebook_app_secret: str | None = field(default=None, repr=False)
    facebook_verify_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MetricsSettings:
    """Where Prometheus scrapes the server's metrics (bot.observability): a port of their own,
    never the public one that Slack and Teams reach, on this machine only unless
    POLICYBOT_METRICS_HOST names another address. Without POLICYBOT_METRICS_PORT there is no
    metrics endpoint at all."""

    port: int | None = None
    host: str = "127.0.0.1"

    @property
    def enabled(self) -> bool:
        return self.port is not None


def _metrics(env: Mapping[str, str], public_port: int) -> MetricsSettings:
    raw = (env.get("POLICYBOT_METRICS_PORT") or "").strip()
    host = (env.get("POLICYBOT_METRICS_HOST") or "").strip() or "127.0.0.1"
    if not raw:
        return MetricsSettings(host=host)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"POLICYBOT_METRICS_PORT must be a port number, not {raw[:20]!r}.")
    if int(raw) == public_port:
        raise ConfigError(
            "POLICYBOT_METRICS_PORT must differ from PORT: the metrics are never served where "
            "Slack and Teams reach the bot."
        )
    if not re.fullmatch(r"[A-Za-z0-9.:_-]+", host):
        raise ConfigError(f"POLICYBOT_METRICS_HOST must be an address, not {host[:40]!r}.")
    return MetricsSettings(port=int(raw), host=host)


@dataclass(frozen=True)
class EvidenceBucket:
    """Evidence in an S3-compatible bucket (storage.objectstore) rather than under the data
    directory: for several servers, which must all read what any of them kept. Chosen by
    POLICYBOT_EVIDENCE_S3_BUCKET; POLICYBOT_EVIDENCE_S3_ENDPOINT names a server other than AWS
    (MinIO, Ceph), POLICYBOT_EVIDENCE_S3_PREFIX a folder in the bucket. Credentials come from
    the standard AWS chain (AWS_ACCESS_KEY_ID and so on, or a role), never from here."""

    bucket: str
    endpoint: str | None = None
    prefix: str = ""
    region: str | None = None


def _evidence_bucket(env: Mapping[str, str]) -> EvidenceBucket | None:
    bucket = (env.get("POLICYBOT_EVIDENCE_S3_BUCKET") or "").strip()
    if not bucket:
        return None
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ConfigError(f"POLICYBOT_EVIDENCE_S3_BUCKET is not a bucket name: {bucket[:70]!r}.")
    endpoint = (env.get("POLICYBOT_EVIDENCE_S3_ENDPOINT") or "").strip() or None
    if endpoint is not None and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", endpoint):
        raise ConfigError("POLICYBOT_EVIDENCE_S3_ENDPOINT must be an http:// or https:// URL.")
    prefix = (env.get("POLICYBOT_EVIDENCE_S3_PREFIX") or "").strip().strip("/")
    if prefix and (
        not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", prefix) or ".." in prefix.split("/")
    ):
        raise ConfigError("POLICYBOT_EVIDENCE_S3_PREFIX may hold letters, digits and . _ - / only.")
    region = (env.get("POLICYBOT_EVIDENCE_S3_REGION") or "").strip() or None
    return EvidenceBucket(bucket=bucket, endpoint=endpoint, prefix=prefix, region=region)


@dataclass(frozen=True)
class HostSettings:
    """How this server shares the work with others on the same PostgreSQL database.

    `host_id` names this machine in the inbound journal's entries and in its lease
    (POLICYBOT_HOST_ID, by default the host name); a host that stops renewing its lease for
    `lease_seconds` (POLICYBOT_LEASE_SECONDS) has its journaled messages taken over by another.
    A server that does not run the scheduled jobs asks to every `leader_retry_seconds`
    (POLICYBOT_LEADER_RETRY_SECONDS) whether the one that did has gone."""

    host_id: str
    lease_seconds: float = 60
    leader_retry_seconds: float = 15


def _positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if not 0 < value <= 86_400:
        raise ConfigError(f"{name} must be a number of seconds, not {raw[:20]!r}.")
    return value


def _hosts(env: Mapping[str, str]) -> HostSettings:
    host_id = (env.get("POLICYBOT_HOST_ID") or "").strip() or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", host_id):
        raise ConfigError("POLICYBOT_HOST_ID may hold letters, digits and . _ - only.")
    return HostSettings(
        host_id=host_id,
        lease_seconds=_positive_seconds(env, "POLICYBOT_LEASE_SECONDS", 60),
        leader_retry_seconds=_positive_seconds(env, "POLICYBOT_LEADER_RETRY_SECONDS", 15),
    )


def comments_secret_name(school_id: str) -> str:
    return "POLICYBOT_COMMENTS_SECRET_" + re.sub(r"[^A-Z0-9]", "_", school_id.upper())


def _webhooks(env: Mapping[str, str], school_ids: Sequence[str]) -> WebhookSettings:
    secrets: dict[str, str] = {}
    for school_id in school_ids:
        name = comments_secret_name(school_id)
        value = _secret(env, name)
        if value is not None:
            if len(value) < 16:
                raise ConfigError(f"{name} is too short to be safe; use at least 16 characters.")
            secrets[school_id] = value
    app_secret = _secret(env, "FACEBOOK_APP_SECRET")
    verify_token = _secret(env, "FACEBOOK_VERIFY_TOKEN")
    if (app_secret is None) != (verify_token is None):
        raise ConfigError("Facebook needs both FACEBOOK_APP_SECRET and FACEBOOK_VERIFY_TOKEN.")
    return WebhookSettings(secrets, app_secret, verify_token)


@dataclass(frozen=True)
class Settings:
    config_path: Path
    data_dir: Path
    database_url: str
    evidence_dir: Path
    evidence_key: bytes | None = field(repr=False)
    evidence: EvidenceSettings
    drafts: DraftSettings
    directory: Directory
    slack: SlackSettings | None = None
    teams: TeamsSettings = TeamsSettings(None, None, None, DEFAULT_TEAMS_APP_TYPE)
    port: int = 3978
    public_url: str | None = None
    webhooks: WebhookSettings = WebhookSettings()
    # Keys replaced by evidence_key: they only decrypt, until `policybot keys rotate` has
    # rewritten everything they encrypted and they can be removed.
    previous_keys: tuple[bytes, ...] = field(default=(), repr=False)
    # The key that seals the audit log (POLICYBOT_AUDIT_KEY), or the file that holds it; with
    # neither, a file in the data directory made on first start (bot.runtime.audit_key).
    audit_key: bytes | None = field(default=None, repr=False)
    audit_key_file: Path | None = None
    # Where the audit chain's head is kept outside the database (POLICYBOT_AUDIT_ANCHOR).
    audit_anchor: Path | None = None
    metrics: MetricsSettings = MetricsSettings()
    evidence_bucket: EvidenceBucket | None = None
    # The inbound journal's folder: under the data directory unless POLICYBOT_JOURNAL_DIR puts
    # it on storage that several hosts share (storage.journal).
    journal_dir_override: Path | None = None
    hosts: HostSettings = field(default_factory=lambda: HostSettings(socket.gethostname()))

    def __post_init__(self) -> None:
        if self.previous_keys and self.evidence_key is None:
            raise ConfigError(_PREVIOUS_WITHOUT_CURRENT)

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def default_audit_key_file(self) -> Path:
        return self.data_dir / "audit.key"

    @property
    def journal_dir(self) -> Path:
        return self.journal_dir_override or self.data_dir / "journal"

    @property
    def audit_anchor_file(self) -> Path:
        return self.audit_anchor or self.data_dir / "audit-anchor.jsonl"

    @property
    def keys(self) -> tuple[bytes, ...]:
        """Every configured key, the current one first: the first encrypts, all decrypt."""
        if self.evidence_key is None:
            return ()
        return (self.evidence_key, *self.previous_keys)


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(exc: ValidationError, source: Path) -> str:
    lines = [f"The configuration in {source} is not valid:"]
    for error in exc.errors(include_url=False):
        lines.append(f"  - {_field_path(tuple(error['loc']))}: {error['msg']}")
    return "\n".join(lines)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"POLICYBOT_CONFIG points at {path}, which does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The configuration in {path} is not valid TOML: {exc}") from exc


def _resolve_policy_files(schools: tuple[School, ...], base: Path) -> tuple[School, ...]:
    resolved = []
    for index, school in enumerate(schools):
        if school.policy_file is None:
            resolved.append(school)
            continue
        path = school.policy_file if school.policy_file.is_absolute() else base / school.policy_file
        if not path.is_file():
            raise ConfigError(
                f"schools[{index}].policy_file: {path} does not exist (paths are relative to the "
                "configuration file)."
            )
        resolved.append(school.model_copy(update={"policy_file": path}))
    return tuple(resolved)


_PREVIOUS_WITHOUT_CURRENT = (
    "POLICYBOT_PREVIOUS_KEYS is set but POLICYBOT_EVIDENCE_KEY is not: previous keys only "
    "read what they encrypted, so set the current key as POLICYBOT_EVIDENCE_KEY too."
)


def _fernet_key(raw: str, name: str) -> bytes:
    """The key as Fernet takes it; the message names where it came from, never the value."""
    if raw.strip().lower() in _PLACEHOLDERS:
        raise ConfigError(f"{name} is a placeholder; generate one with `policybot keygen`.")
    try:
        decoded = base64.urlsafe_b64decode(raw.encode())
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{name} is not a key made by `policybot keygen`.") from exc
    if len(decoded) != 32:
        raise ConfigError(f"{name} is not a key made by `policybot keygen`.")
    return raw.encode()


def _evidence_key(raw: str | None) -> bytes | None:
    if raw is None or raw == "":
        return None
    return _fernet_key(raw, "POLICYBOT_EVIDENCE_KEY")


def _previous_keys(raw: str | None, current: bytes | None) -> tuple[bytes, ...]:
    parts = [part.strip() for part in (raw or "").split(",")]
    found = [part for part in parts if part]
    if not found:
        return ()
    if current is None:
        raise ConfigError(_PREVIOUS_WITHOUT_CURRENT)
    keys: list[bytes] = []
    for position, part in enumerate(found, 1):
        key = _fernet_key(part, f"POLICYBOT_PREVIOUS_KEYS (key {position} of {len(found)})")
        if key != current and key not in keys:  # a repeated key would only be tried twice
            keys.append(key)
    return tuple(keys)


def _audit_key(env: Mapping[str, str]) -> tuple[bytes | None, Path | None]:
    """The audit key given in the environment, or the file named there that holds it."""
    raw = (env.get("POLICYBOT_AUDIT_KEY") or "").strip()
    file = (env.get("POLICYBOT_AUDIT_KEY_FILE") or "").strip()
    if raw and file:
        raise ConfigError(
            "Set POLICYBOT_AUDIT_KEY or POLICYBOT_AUDIT_KEY_FILE, not both: they name the same key."
        )
    if file:
        return None, Path(file).expanduser().resolve()
    if not raw:
        return None, None
    return decode_key(_fernet_key(raw, "POLICYBOT_AUDIT_KEY").decode()), None


def _secret(env: Mapping[str, str], name: str, prefix: str | None = None) -> str | None:
    value = (env.get(name) or "").strip()
    if not value:
        return None
    if value.lower() in _PLACEHOLDERS or value.lower().startswith(("changeme", "your-")):
        raise ConfigError(f"{name} is a placeholder; set the real value from your Slack app.")
    if prefix and not value.startswith(prefix):
        raise ConfigError(f"{name} should start with {prefix!r}; check you copied the right token.")
    return value


def _slack(env: Mapping[str, str]) -> SlackSettings | None:
    token = _secret(env, "SLACK_BOT_TOKEN", "xoxb-")
    secret = _secret(env, "SLACK_SIGNING_SECRET")
    app_token = _secret(env, "SLACK_APP_TOKEN", "xapp-")
    if token is None and secret is None and app_token is None:
        return None
    if token is None or secret is None:
        raise ConfigError(
            "Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (and SLACK_APP_TOKEN for "
            "Socket Mode)."
        )
    api_url = (env.get("SLACK_API_URL") or "").strip() or None
    if api_url and not api_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError("SLACK_API_URL must be an https:// address (or a local test server).")
    if api_url and not api_url.endswith("/"):
        api_url += "/"
    return SlackSettings(
        bot_token=token, signing_secret=secret, app_token=app_token, api_url=api_url
    )


def _teams(env: Mapping[str, str]) -> TeamsSettings:
    app_id = (env.get("MICROSOFT_APP_ID") or "").strip() or None
    password = _secret(env, "MICROSOFT_APP_PASSWORD")
    tenant = (env.get("MICROSOFT_APP_TENANT_ID") or "").strip() or None
    app_type = (env.get("MICROSOFT_APP_TYPE") or "").strip() or DEFAULT_TEAMS_APP_TYPE
    if app_type not in TEAMS_APP_TYPES:
        raise ConfigError(
            "MICROSOFT_APP_TYPE must be SingleTenant (the default), MultiTenant or "
            f"UserAssignedMSI, not {app_type[:40]!r}."
        )
    development = _teams_development(env)
    if development and app_id:
        raise ConfigError(
            "POLICYBOT_TEAMS_DEV=1 turns off the Bot Framework token check, so it cannot be "
            "used with MICROSOFT_APP_ID: unset POLICYBOT_TEAMS_DEV on a real Teams server."
        )
    if app_id and not password and app_type != "UserAssignedMSI":
        raise ConfigError("MICROSOFT_APP_ID is set, so MICROSOFT_APP_PASSWORD is needed too.")
    if app_type == "SingleTenant" and app_id and not tenant:
        raise ConfigError(_TENANT_NEEDED)

    def optional(name: str) -> str | None:
        return (env.get(name) or "").strip() or None

    return TeamsSettings(
        app_id=app_id,
        app_password=password,
        tenant_id=tenant,
        app_type=app_type,
        openid_metadata_url=optional("BOTFRAMEWORK_OPENID_METADATA_URL"),
        emulator_metadata_url=optional("BOTFRAMEWORK_EMULATOR_METADATA_URL"),
        token_issuer=optional("BOTFRAMEWORK_TOKEN_ISSUER"),
        login_url=optional("BOTFRAMEWORK_LOGIN_URL"),
        oauth_scope=optional("BOTFRAMEWORK_OAUTH_SCOPE"),
        oauth_url=optional("BOTFRAMEWORK_OAUTH_URL"),
        development=development,
    )


def _teams_development(env: Mapping[str, str]) -> bool:
    """POLICYBOT_TEAMS_DEV: "1" switches the local development mode on; unset (or "0") off.
    Anything else is refused rather than guessed, since it decides whether tokens are checked."""
    raw = (env.get("POLICYBOT_TEAMS_DEV") or "").strip()
    if raw not in ("", "0", "1"):
        raise ConfigError(f"POLICYBOT_TEAMS_DEV must be 1 (on) or 0 (off), not {raw[:20]!r}.")
    return raw == "1"


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("PORT") or "3978"
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT must be a port number, not {raw[:20]!r}.")
    return int(raw)


def _read_file(config_path: Path) -> tuple[FileSettings, Directory]:
    raw = _read_toml(config_path)
    try:
        parsed = FileSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path)) from exc
    schools = _resolve_policy_files(parsed.schools, config_path.parent)
    try:
        directory = Directory(schools=schools)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path)) from exc
    return parsed, directory


def read_directory(config_path: Path) -> Directory:
    """The schools and people in the configuration file as it is now, validated as at start
    (for a reload without a restart: bot.config_reload); raises ConfigError naming what is
    wrong."""
    return _read_file(config_path)[1]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate everything, or raise ConfigError naming what is wrong."""
    env = os.environ if env is None else env
    config_path = Path(env.get("POLICYBOT_CONFIG") or SAMPLE_CONFIG).expanduser().resolve()
    parsed, directory = _read_file(config_path)
    data_dir = Path(env.get("POLICYBOT_DATA_DIR") or parsed.data_dir or "var").expanduser()
    data_dir = data_dir.resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'policybot.sqlite3'}"
    if not database_url.startswith(("sqlite", "postgresql")):
        raise ConfigError("DATABASE_URL must start with sqlite:// or postgresql://")
    evidence_key = _evidence_key(env.get("POLICYBOT_EVIDENCE_KEY"))
    audit_key, audit_key_file = _audit_key(env)
    anchor = (env.get("POLICYBOT_AUDIT_ANCHOR") or "").strip()
    journal = (env.get("POLICYBOT_JOURNAL_DIR") or "").strip()
    port = _port(env)
    return Settings(
        config_path=config_path,
        data_dir=data_dir,
        database_url=database_url,
        evidence_dir=data_dir / "evidence",
        evidence_key=evidence_key,
        previous_keys=_previous_keys(env.get("POLICYBOT_PREVIOUS_KEYS"), evidence_key),
        audit_key=audit_key,
        audit_key_file=audit_key_file,
        audit_anchor=Path(anchor).expanduser().resolve() if anchor else None,
        evidence=parsed.evidence,
        drafts=parsed.drafts,
        directory=directory,
        slack=_slack(env),
        teams=_teams(env),
        port=port,
        metrics=_metrics(env, port),
        public_url=(env.get("POLICYBOT_PUBLIC_URL") or "").rstrip("/") or None,
        webhooks=_webhooks(env, [school.id for school in directory.schools]),
        evidence_bucket=_evidence_bucket(env),
        journal_dir_override=Path(journal).expanduser().resolve() if journal else None,
        hosts=_hosts(env),
    )
