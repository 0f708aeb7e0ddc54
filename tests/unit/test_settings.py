"""Configuration: precedence, one-line errors naming file/line/key, secrets masked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import DEFAULT_DATABASE_URL, load_settings, masked_dump

EXAMPLE = Path(__file__).parents[2] / "config" / "relais.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relais.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, env={})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.timezone == "Europe/Paris"
    assert settings.default_language == "fr"


def test_example_file_is_valid() -> None:
    settings = load_settings(EXAMPLE, env={"RELAIS_MASTODON_ESANTE_TOKEN": "m-token"})
    assert [c.name for c in settings.channels] == ["esante-telegram", "esante-mastodon"]
    assert settings.channels[1].token.get_secret_value() == "m-token"


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:///from-file.db"\ntimezone = "UTC"\n')
    assert load_settings(path, env={}).database_url == "sqlite+aiosqlite:///from-file.db"
    env = {"RELAIS_DATABASE_URL": "sqlite:///from-env.db"}
    assert load_settings(path, env=env).database_url == "sqlite+aiosqlite:///from-env.db"
    flags = load_settings(path, env=env, database_url="sqlite:///from-flag.db")
    assert flags.database_url == "sqlite+aiosqlite:///from-flag.db"
    assert flags.timezone == "UTC"


def test_nested_env_sets_the_telegram_token(tmp_path: Path) -> None:
    settings = load_settings(None, env={"RELAIS_TELEGRAM__TOKEN": "123:env-token"})
    assert settings.require_telegram_token().get_secret_value() == "123:env-token"


def test_token_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("123:file-token\n")
    path = write(tmp_path, f'[telegram]\ntoken_file = "{tmp_path / "token"}"\n')
    assert load_settings(path, env={}).require_telegram_token().get_secret_value() == "123:file-token"


def test_token_in_file_works_but_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "123:inline-token"\n')
    with caplog.at_level(logging.WARNING):
        settings = load_settings(path, env={})
    assert settings.require_telegram_token().get_secret_value() == "123:inline-token"
    assert "telegram.token is written in the file" in caplog.text
    assert "123:inline-token" not in caplog.text


def test_missing_token_where_required_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="telegram.token: missing.*RELAIS_TELEGRAM__TOKEN"):
        load_settings(None, env={}).require_telegram_token()


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'timezone = "UTC"\n\ndatabase_url = \n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    message = str(caught.value)
    assert str(path) in message and "line 3" in message and "\n" not in message


def test_unknown_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'timezone = "UTC"\n[telegram]\napi_base_url = "https://x.org/bot"\ntokn = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}:4: telegram.tokn: unknown key"


def test_bad_url_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[[channels]]\nname = "m"\nplatform = "mastodon"\ninstance_url = "mastodon.social"\n')
    with pytest.raises(ConfigError, match=r"relais.toml:4: channels.0.instance_url: must be an http"):
        load_settings(path, env={})


def test_bad_database_url_and_time_zone(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="database_url: must start with"):
        load_settings(None, env={"RELAIS_DATABASE_URL": "mysql://x"})
    with pytest.raises(ConfigError, match="timezone: unknown time zone 'Mars/Olympus'"):
        load_settings(write(tmp_path, 'timezone = "Mars/Olympus"\n'), env={})


def test_channel_referencing_unknown_profile(tmp_path: Path) -> None:
    path = write(tmp_path, '[[channels]]\nname = "t"\nplatform = "telegram"\nchat = "@esante_demo"\nprofile = "nope"\n')
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        load_settings(path, env={})


def test_missing_file_and_missing_token_env(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "absent.toml", env={})
    path = write(tmp_path, '[[channels]]\nname = "m"\nplatform = "mastodon"\n'
                           'instance_url = "https://m.example"\ntoken_env = "NOPE_TOKEN"\n')
    with pytest.raises(ConfigError, match="NOPE_TOKEN .* is not set"):
        load_settings(path, env={})


def test_secrets_are_masked_in_repr_and_dump(tmp_path: Path) -> None:
    env = {"RELAIS_TELEGRAM__TOKEN": "123:very-secret", "RELAIS_MASTODON_ESANTE_TOKEN": "m-secret"}
    settings = load_settings(EXAMPLE, env=env)
    for text in (repr(settings), str(settings), str(masked_dump(settings))):
        assert "very-secret" not in text and "m-secret" not in text
