"""The `relais` command line, run in-process through its real entry point."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

EXAMPLE = Path(__file__).parents[2] / "config" / "relais.example.toml"


def test_version_and_help() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("relais ")
    result = subprocess.run([sys.executable, "-m", "bot", "post", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "add" in result.stdout and "delete" in result.stdout


def test_commands_refuse_a_database_behind_head_and_name_the_fix(relais) -> None:
    code, _, err = relais("post", "list")
    assert code == 1
    assert "relais db upgrade" in err


def test_upgrade_then_add_list_show_delete(relais) -> None:
    assert relais("db", "upgrade")[0] == 0
    code, out, _ = relais("post", "add", "#Therabot : un #chatbot qui écoute", "--tag", "IA", "--tag", "Santé mentale")
    assert code == 0 and "Added post 1" in out
    code, out, _ = relais("post", "list", "--json")
    rows = json.loads(out)
    assert [r["title"] for r in rows] == ["#Therabot : un #chatbot qui écoute"]
    assert rows[0]["tags"] == ["Therabot", "chatbot", "IA", "Santé mentale"]  # title hashtags first, as ingest
    code, out, _ = relais("post", "show", "1", "--json")
    assert json.loads(out)["language"] == "fr"
    assert relais("post", "delete", "1")[0] == 0
    code, _, err = relais("post", "show", "1")
    assert code == 1 and "post 1 does not exist" in err


def test_unknown_option_is_a_usage_error(relais) -> None:
    code, _, err = relais("post", "list", "--bogus")
    assert code == 2 and "No such option" in err


def test_config_error_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('timezone = "UTC"\nnope = 1\n')
    code = main(["--config", str(path), "config", "check"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == f"error: {path}:2: nope: unknown key"


def test_config_check_masks_secrets_in_output_and_logs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RELAIS_TELEGRAM__TOKEN", "123456:super-secret-token")
    monkeypatch.setenv("RELAIS_MASTODON_ESANTE_TOKEN", "mastodon-secret-token")
    with caplog.at_level(logging.DEBUG):
        code = main(["--config", str(EXAMPLE), "config", "check", "--json"])
        logging.getLogger("test").info("token is 123456:super-secret-token")
    out, err = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert data["telegram"]["token"] == "**********"
    assert data["channels"][1]["token"] == "**********"
    for text in (out, err):
        assert "super-secret" not in text and "mastodon-secret" not in text


def test_unreachable_database_is_a_clear_error_without_password(capsys: pytest.CaptureFixture) -> None:
    code = main(["--database", "postgresql+asyncpg://relais:hunter2pw@127.0.0.1:9/x", "post", "list"])
    err = capsys.readouterr().err
    assert code == 1
    assert "is unavailable" in err and "hunter2pw" not in err
