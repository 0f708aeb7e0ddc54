"""`relais config check` and configuration errors: one line, naming where the bad value came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

EXAMPLE = Path(__file__).parents[2] / "config" / "relais.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RELAIS_CONFIG", "RELAIS_DATABASE_URL", "RELAIS_TELEGRAM__TOKEN", "RELAIS_MASTODON_ESANTE_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_config_check_masks_the_database_password(capsys: pytest.CaptureFixture, json_flag: list[str]) -> None:
    code, out, err = run(capsys, "--database", "postgresql://u:Hunter2@127.0.0.1/db", "config", "check", *json_flag)
    assert code == 0
    assert "Hunter2" not in out + err
    assert "postgresql+asyncpg://u:**********@127.0.0.1/db" in out


def test_a_bad_environment_variable_is_named_not_the_file(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAIS_MASTODON_ESANTE_TOKEN", "m-token")
    monkeypatch.setenv("RELAIS_SCHEDULE__SWEEP_SECONDS", "abc")
    code, _, err = run(capsys, "-c", str(EXAMPLE), "config", "check")
    assert code == 2
    assert err.startswith("error: environment variable RELAIS_SCHEDULE__SWEEP_SECONDS: schedule.sweep_seconds:")
    assert str(EXAMPLE) not in err and len(err.strip().splitlines()) == 1


def test_a_section_variable_that_is_not_json_is_one_line(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAIS_TELEGRAM", "oops")
    code, _, err = run(capsys, "config", "check")
    assert code == 2
    assert err.startswith("error: environment variable RELAIS_TELEGRAM: cannot be read as the telegram section")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_bad_flag_is_named(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(capsys, "--database", "mysql://x", "config", "check")
    assert code == 2 and err.startswith("error: command line --database: database_url: must start with")


def test_missing_profile_and_unset_token_env_carry_their_line(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    path = tmp_path / "relais.toml"
    path.write_text('timezone = "UTC"\n\n[[channels]]\nname = "a"\nplatform = "telegram"\nchat = "@canal_sante"\n'
                    'profile = "nope"\n', encoding="utf-8")
    code, _, err = run(capsys, "-c", str(path), "config", "check")
    assert code == 2 and err.strip() == f"error: {path}:7: channel 'a' names unknown profile 'nope'"
    code, _, err = run(capsys, "-c", str(EXAMPLE), "config", "check")
    line = next(n for n, text in enumerate(EXAMPLE.read_text().splitlines(), 1) if text.startswith("token_env"))
    assert code == 2 and err.startswith(f"error: {EXAMPLE}:{line}: environment variable RELAIS_MASTODON_ESANTE_TOKEN")


def test_an_enabled_telegram_channel_without_a_token_is_reported(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAIS_MASTODON_ESANTE_TOKEN", "m-token")
    code, out, err = run(capsys, "-c", str(EXAMPLE), "config", "check", "--json")
    assert code == 2
    assert json.loads(out)["channels"][0]["name"] == "esante-telegram"  # the dump is still printed
    assert err.strip() == ("error: channels[0] (esante-telegram): telegram channel enabled but telegram.token is "
                           "missing — set RELAIS_TELEGRAM__TOKEN or telegram.token_file")
    monkeypatch.setenv("RELAIS_TELEGRAM__TOKEN", "123:token")
    assert run(capsys, "-c", str(EXAMPLE), "config", "check")[0] == 0


def test_config_warnings_follow_log_format_json(tmp_path: Path) -> None:
    path = tmp_path / "relais.toml"
    path.write_text('[telegram]\ntoken = "123:inline-token"\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "--log-format", "json", "-c", str(path), "config", "check",
                             "--json"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip())
    assert entry["level"] == "WARNING" and "telegram.token is written in the file" in entry["message"]
    assert "inline-token" not in result.stderr


def test_postgresql_without_asyncpg_names_the_extra(tmp_path: Path) -> None:
    hide_asyncpg = "import sys; sys.modules['asyncpg'] = None; from bot.cli import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", hide_asyncpg, "--database", "postgresql://relais:pw@127.0.0.1:9/x", "db", "status"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pip install 'relais[postgres]'" in result.stderr and "pw@" not in result.stderr
