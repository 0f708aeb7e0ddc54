"""`relais --help` imports no command module; every command still loads and shows tidy help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli import COMMANDS, main
from bot.cli import load_command as load

HEAVY = ("mastodon", "alembic", "markdownify", "sqlalchemy.orm", "feedparser", "telegram", "bot.app", "bot.store.models")
# `relais queue` reads the queue (the ORM) after a schema check by plain SQL, and nothing else heavy.
NOT_FOR_QUEUE = ("mastodon", "alembic", "markdownify", "feedparser", "telegram")


def imported_by(argv: list[str], modules: tuple[str, ...], *, shows: str = "Usage: relais") -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after `relais ARGV` (exit 0, printing ``shows``)."""
    probe = (
        "import contextlib, io, sys\n"
        "import bot.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = bot.cli.main({argv!r})\n"
        f"assert code == 0 and {shows!r} in out.getvalue(), out.getvalue()\n"
        f"print(' '.join(m for m in {modules!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_help_imports_no_command_module() -> None:
    assert imported_by(["--help"], HEAVY) == []


def test_queue_help_imports_no_database_code() -> None:
    assert imported_by(["queue", "--help"], HEAVY) == []


def test_queue_imports_neither_alembic_nor_mastodon_nor_the_ingest_stack(tmp_path) -> None:
    database = ["--database", f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}"]
    assert main([*database, "db", "upgrade"]) == 0
    assert imported_by([*database, "queue"], NOT_FOR_QUEUE, shows="No channels configured") == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_summary_is_the_commands_own_help(name: str) -> None:
    command = load(name, COMMANDS[name])
    assert (command.help or "").split("\n\n")[0].strip() == COMMANDS[name].summary


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_has_no_empty_type_labels(name: str, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    pages = [[name, "--help"]]
    command = load(name, COMMANDS[name])
    pages += [[name, sub, "--help"] for sub in getattr(command, "commands", {})]
    for page in pages:
        assert main(page) == 0
        out = capsys.readouterr().out
        assert "Usage: relais " + " ".join(page[:-1]) in out
        for noise in ("<bool>", "<list[", "…...", "--install-completion"):
            assert noise not in out, (page, noise)


def test_root_help_lists_every_command_without_noise(capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f" {name} " in out for name in COMMANDS)
    assert "<bool>" not in out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["pubish"]) == 2
    assert "Did you mean 'publish'" in capsys.readouterr().err


def test_run_role_lists_its_choices(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--help"]) == 0
    assert "--role <all|updates|worker>" in capsys.readouterr().out
    assert main(["run", "--role", "everything"]) == 2
    assert "'everything' is not one of 'all', 'updates', 'worker'" in capsys.readouterr().err
