"""Fixtures for the integration tier."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.fixture
def relais(database_url: str, empty_engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.delenv("RELAIS_CONFIG", raising=False)
    monkeypatch.delenv("RELAIS_DATABASE_URL", raising=False)

    def call(*args: str) -> tuple[int, str, str]:
        code = main(["--database", database_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return call
