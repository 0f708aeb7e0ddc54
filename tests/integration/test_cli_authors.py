"""`relais authors …` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFIG = """
[access]
admins = [1001]
authors = [2002]
"""


@pytest.fixture
def cli(relais, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`relais …` (fixture in conftest) with a configuration naming the bootstrap users."""
    config = tmp_path / "relais.toml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("RELAIS_CONFIG", str(config))
    assert relais("db", "upgrade")[0] == 0
    return relais


def test_grant_list_revoke(cli) -> None:
    code, out, _ = cli("authors", "grant", "3003", "--name", "Léa")
    assert code == 0 and "User 3003 is now author." in out
    code, out, _ = cli("authors", "grant", "3003")
    assert code == 0 and "User 3003 already is author." in out
    code, out, _ = cli("authors", "grant", "2002")
    assert code == 0 and "User 2002 already is author (configuration)." in out
    code, out, _ = cli("authors", "list", "--json")
    assert json.loads(out) == [
        {"user_id": 1001, "role": "admin", "name": None, "from_config": "admin"},
        {"user_id": 2002, "role": "author", "name": None, "from_config": "author"},
        {"user_id": 3003, "role": "author", "name": "Léa", "from_config": None},
    ]
    code, out, _ = cli("authors", "list")
    assert code == 0 and "Léa" in out and "configuration" in out and "database" in out
    code, out, _ = cli("authors", "revoke", "3003")
    assert code == 0 and "User 3003 is now reader." in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("authors", "revoke", "1001"), 2, "admin by the configuration (access.admins): remove them from the file"),
        (("authors", "revoke", "3003"), 1, "user 3003 is neither an author nor an admin"),
        (("authors", "grant", "0"), 2, "0 is not a Telegram user id"),
        (("authors", "grant", "3003", "--role", "boss"), 2, "Invalid value"),
    ],
)
def test_clear_errors(cli, args: tuple[str, ...], code: int, message: str) -> None:
    result, _, err = cli(*args)
    assert result == code
    assert message in " ".join(err.split())
