"""Configuration: TOML file → ``RELAIS_*`` environment → CLI flags (last one wins).

Nothing here reads ``os.environ`` by itself: :func:`load_settings` takes the environment
as an argument, so tests and the composition root say exactly what they pass in.
Secrets are ``SecretStr``: their repr and ``str`` are masked, and error messages built
here never quote a value.
"""

from __future__ import annotations

import contextvars
import importlib.util
import logging
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError
from pydantic_settings.sources import InitSettingsSource

from bot.errors import ConfigError
from bot.logs import mask_credentials

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///relais.db"
TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"


def _masked(value: Any) -> Any:
    """``value`` with every URL password masked, through dicts and lists."""
    if isinstance(value, str):
        return mask_credentials(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


class _MaskedRepr:
    """repr() and str() of a settings model never show a URL's password (database_url, feed URLs)."""

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():  # type: ignore[misc]
            yield name, _masked(value) if isinstance(value, str) else value


class _Strict(_MaskedRepr, BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _read_secret(value: SecretStr | None, file: Path | None, env_name: str | None,
                 env: Mapping[str, str], where: str) -> SecretStr | None:
    """Resolve a secret from, in order: an environment variable, a file, the TOML itself."""
    if env_name:
        if env_name not in env:
            raise _KeyValueError(f"environment variable {env_name} named by {where}.token_env is not set", "token_env", env_name)
        return SecretStr(env[env_name].strip())
    if file is not None:
        file = _expand_variables(file, env, where)
        try:
            return SecretStr(file.expanduser().read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ValueError(f"cannot read {where}.token_file {file}: {exc.strerror}") from None
    return value


def _expand_variables(file: Path, env: Mapping[str, str], where: str) -> Path:
    """``${CREDENTIALS_DIRECTORY}/telegram-token`` → the folder systemd's LoadCredential= fills.

    Taken from ``env`` (not os.environ), so one file serves every unit: the folder's name
    differs per unit and per template instance (deploy/systemd/).
    """
    try:
        return Path(string.Template(str(file)).substitute(env))
    except KeyError as exc:
        raise ValueError(f"environment variable {exc.args[0]} in {where}.token_file is not set") from None
    except ValueError:
        raise ValueError(f"{where}.token_file: write ${{NAME}} for a variable, $$ for a literal $") from None


class TelegramSettings(_Strict):
    token: SecretStr | None = None
    token_file: Path | None = None
    api_base_url: str = TELEGRAM_API_BASE_URL
    bot_username: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    allow_paid_broadcast: bool = False
    # Pace messages under Telegram's limits before it answers 429. Turn off only for a Bot API
    # server without those limits (the local sandbox, benchmarks).
    rate_limits: bool = True

    @field_validator("api_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _check_http_url(value)


class ProfileSettings(_Strict):
    """How one channel's posts look. ``bot.format`` turns this into its own ``Profile``."""

    max_length: int | None = Field(default=None, ge=50, description="cap on the whole render, measured the platform's way; None = platform limit")  # noqa: E501
    hashtag_style: Literal["trailing", "inline"] = "trailing"
    max_hashtags: int = Field(default=5, ge=0, le=30)
    prefer_image: bool = False
    utm: str | None = None
    read_more: bool = True
    content_warnings: dict[str, list[str]] = Field(
        default_factory=dict,
        description="topic → tags that trigger a Mastodon content warning naming the topic",
    )


class ChannelSettings(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    platform: Literal["telegram", "mastodon"]
    chat: str | None = None  # Telegram: @name or numeric id
    instance_url: str | None = None  # Mastodon
    token: SecretStr | None = None
    token_file: Path | None = None
    token_env: str | None = None
    profile: str | None = None
    slots: list[time] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    enabled: bool = True
    # Mastodon: pace calls under 300 requests / 5 min per token. Turn off only for a local
    # server without limits (the demo's mock); Telegram pacing is telegram.rate_limits.
    rate_limits: bool = True

    @field_validator("instance_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _check_http_url(value)

    @field_validator("chat")
    @classmethod
    def _chat(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20}", value):
            raise ValueError("must be @channelname or a numeric chat id")
        return value

    @model_validator(mode="after")
    def _platform_fields(self) -> ChannelSettings:
        if self.platform == "telegram" and not self.chat:
            raise ValueError("a telegram channel needs chat = \"@name\" or a numeric id")
        if self.platform == "mastodon" and not self.instance_url:
            raise ValueError("a mastodon channel needs instance_url")
        return self


class FeedSettings(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: str
    policy: Literal["queue", "draft"] = "queue"
    interval_minutes: int = Field(default=30, ge=1)
    first_import_max_age_days: int = Field(default=7, ge=0)


class AccessSettings(_Strict):
    admins: list[int] = Field(default_factory=list)
    authors: list[int] = Field(default_factory=list)


class ScheduleSettings(_Strict):
    catch_up_grace_minutes: int = Field(default=60, ge=0, description="missed slots published late within this")
    sweep_seconds: int = Field(default=30, ge=1)
    # A `sending` claim older than this belongs to a worker that died (SIGKILL, power loss):
    # its publications go back to the queue. Must exceed the longest legitimate send, rate-limit
    # waits included, or a live worker's claim is retaken (a duplicate on Telegram).
    claim_timeout_seconds: int = Field(default=600, ge=1, description="a dead worker's claims are retaken after this")


class HealthSettings(_Strict):
    """`relais run`'s /healthz, /readyz and /metrics (bot.health): loopback only by default."""

    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535, description="0: any free port")


# Filled by load_settings for the duration of one construction (see settings_customise_sources).
_toml_data: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("toml_data", default={})  # noqa: B039 (never mutated)
_environ: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("environ", default={})  # noqa: B039 (never mutated)


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' env source, reading the mapping given to load_settings."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in _environ.get().items()}


class Settings(_MaskedRepr, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RELAIS_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Europe/Paris"
    default_language: str = Field(default="fr", pattern=r"^[a-z]{2,3}$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    telegram: TelegramSettings = TelegramSettings()
    profiles: dict[str, ProfileSettings] = Field(default_factory=dict)
    channels: list[ChannelSettings] = Field(default_factory=list)
    feeds: list[FeedSettings] = Field(default_factory=list)
    access: AccessSettings = AccessSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    health: HealthSettings = HealthSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            _MappingEnvSource(settings_cls),
            InitSettingsSource(settings_cls, init_kwargs=_toml_data.get()),
        )

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite(\+aiosqlite)?|postgres(ql)?(\+asyncpg)?)://", value):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        if value.startswith("postgres") and importlib.util.find_spec("asyncpg") is None:
            raise ValueError("PostgreSQL needs the postgres extra (asyncpg): pip install 'relais[postgres]'")
        return normalize_database_url(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _references(self) -> Settings:
        names = [c.name for c in self.channels]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"channel names must be unique: {', '.join(sorted(duplicates))}")
        for channel in self.channels:
            if channel.profile and channel.profile not in self.profiles:
                raise _KeyValueError(f"channel {channel.name!r} names unknown profile {channel.profile!r}",
                                     "profile", channel.profile)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def profile_for(self, channel: ChannelSettings) -> ProfileSettings:
        return self.profiles[channel.profile] if channel.profile else ProfileSettings()

    def missing_tokens(self) -> list[str]:
        """Tokens an enabled channel will need to publish, not configured. Not a load error:
        `relais render` works without them; `relais config check` reports them."""
        missing = []
        for index, channel in enumerate(self.channels):
            where = f"channels[{index}] ({channel.name})"
            if not channel.enabled:
                continue
            if channel.platform == "telegram" and self.telegram.token is None:
                missing.append(f"{where}: telegram channel enabled but telegram.token is missing — "
                               "set RELAIS_TELEGRAM__TOKEN or telegram.token_file")
            if channel.platform == "mastodon" and channel.token is None:
                missing.append(f"{where}: mastodon channel enabled but it has no token — set token_env or token_file")
        return missing

    def require_telegram_token(self) -> SecretStr:
        if self.telegram.token is None:
            raise ConfigError(
                "telegram.token: missing — set RELAIS_TELEGRAM__TOKEN or telegram.token_file"
            )
        return self.telegram.token


def normalize_database_url(url: str) -> str:
    """Accept the short spellings people paste and return the async driver's URL."""
    url = re.sub(r"^sqlite://", "sqlite+aiosqlite://", url)
    url = re.sub(r"^postgres(ql)?://", "postgresql+asyncpg://", url)
    return url


def _check_http_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


class _KeyValueError(ValueError):
    """A ValueError about one ``key = "value"`` of the file, so the message can carry its line."""

    def __init__(self, message: str, key: str, value: str) -> None:
        super().__init__(message)
        self.key, self.value = key, value


def _key_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of the key an error is about, for the one-line message."""
    for key in reversed([str(part) for part in loc if isinstance(part, str)]):
        match = re.search(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)", text, re.M)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return None


def _value_line(text: str, key: str, value: str) -> int | None:
    """Line of ``key = "value"`` in the file (the channel that names a missing profile or variable)."""
    match = re.search(rf"^\s*{re.escape(key)}\s*=\s*[\"']{re.escape(value)}[\"']", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _at(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line else source


_FLAGS = {"database_url": "--database", "log_format": "--log-format", "log_level": "--log-level"}


def _origin(loc: tuple[Any, ...], env: Mapping[str, str], overrides: Mapping[str, Any]) -> str | None:
    """The flag or environment variable that supplied the value at ``loc``; None when it is the file's.

    Same precedence as the sources: flags, then RELAIS_* variables (the most specific name first).
    """
    keys = [str(part) for part in loc]
    if keys and keys[0] in overrides:
        return f"command line {_FLAGS.get(keys[0], keys[0])}"
    names = {name.upper(): name for name in env}
    for depth in range(len(keys), 0, -1):
        name = names.get(("RELAIS_" + "__".join(keys[:depth])).upper())
        if name is not None:
            return f"environment variable {name}"
    return None


def _describe(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown key"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


def _locate(error: Mapping[str, Any], text: str, source: str, env: Mapping[str, str],
            overrides: Mapping[str, Any]) -> str:
    """Where the bad value came from: a flag, an environment variable, or the file and its line."""
    origin = _origin(error["loc"], env, overrides)
    if origin is not None:
        return origin
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, _KeyValueError):
        return _at(source, _value_line(text, cause.key, cause.value))
    return _at(source, _key_line(text, error["loc"]) if text else None)


def _env_parse_error(exc: SettingsError, env: Mapping[str, str]) -> ConfigError:
    """pydantic-settings could not read a section from a RELAIS_* variable (e.g. RELAIS_TELEGRAM=oops)."""
    field = re.search(r'field "(\w+)"', str(exc))
    name = ("RELAIS_" + field[1]).upper() if field else "RELAIS_*"
    shown = next((key for key in env if key.upper() == name), name)
    section = field[1] if field else "a section"
    return ConfigError(f"environment variable {shown}: cannot be read as the {section} section "
                       f"(a JSON object is expected; or set one key with {name}__KEY)")


def _resolve_secrets(data: dict[str, Any], env: Mapping[str, str], source: str, warn: Callable[[str], None]) -> None:
    """Turn token_file/token_env into tokens before validation; warn about inline tokens."""
    telegram = data.get("telegram")
    if isinstance(telegram, dict):
        if "token" in telegram:
            warn(f"{source}: telegram.token is written in the file; prefer token_file or RELAIS_TELEGRAM__TOKEN")
        if telegram.get("token_file") and "token" not in telegram:
            secret = _read_secret(None, Path(telegram["token_file"]), None, env, "telegram")
            telegram["token"] = secret.get_secret_value() if secret else None
    for index, channel in enumerate(data.get("channels") or []):
        if not isinstance(channel, dict):
            continue
        where = f"channels[{index}]"
        if "token" in channel:
            warn(f"{source}: {where}.token is written in the file; prefer token_file or token_env")
        if channel.get("token_env") or channel.get("token_file"):
            file = Path(channel["token_file"]) if channel.get("token_file") else None
            secret = _read_secret(None, file, channel.get("token_env"), env, where)
            channel["token"] = secret.get_secret_value() if secret else None


def _read_file(config_path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read configuration file ({exc})") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: malformed TOML: {exc}") from None


def load_settings(
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    warn: Callable[[str], None] | None = None,
    resolve_secrets: bool = True,
    **overrides: Any,
) -> Settings:
    """Build Settings from a TOML file, an environment mapping and explicit overrides.

    Raises ConfigError with one line naming where the bad value came from (the file and its
    line, the environment variable, or the flag), the key and what is wrong. Warnings go to
    ``warn`` (default: this module's logger); the CLI holds them until logging is configured.
    ``resolve_secrets=False`` leaves token_env/token_file unread, for commands that send
    nothing (`relais render`): their tokens stay None.
    """
    env = dict(env or {})
    warn = warn or log.warning
    source = str(config_path) if config_path else "environment"
    text, data = _read_file(config_path) if config_path is not None else ("", {})
    try:
        if resolve_secrets:
            _resolve_secrets(data, env, source, warn)
    except _KeyValueError as exc:
        raise ConfigError(f"{_at(source, _value_line(text, exc.key, exc.value))}: {exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    overrides = {k: v for k, v in overrides.items() if v is not None}
    toml_token = _toml_data.set(data)
    env_token = _environ.set(env)
    try:
        return Settings(**overrides)
    except SettingsError as exc:
        raise _env_parse_error(exc, env) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{_locate(first, text, source, env, overrides)}: {_describe(first)}{more}") from None
    finally:
        _toml_data.reset(toml_token)
        _environ.reset(env_token)


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain data: secrets shown as '**********', URL passwords too."""
    return _masked(settings.model_dump(mode="json"))
