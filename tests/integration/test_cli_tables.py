"""What the command line prints around its tables: whole file names, every command documented."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.cli import COMMANDS
from bot.cli import load_command as load

FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"
README = Path(__file__).parents[2] / "README.md"


def test_a_long_file_name_is_never_folded_mid_word(relais, tmp_path: Path) -> None:
    name = "revue-de-presse-sante-numerique-novembre-2026-export-complet.xml"
    shutil.copy(FEEDS / "atom10.xml", tmp_path / name)
    assert relais("db", "upgrade")[0] == 0
    code, out, _ = relais("import", str(tmp_path / name), "--max-age-days", "3650")
    assert code == 0
    rows = [line for line in out.splitlines() if name[:12] in line]
    assert len(rows) == 1 and (name in rows[0] or "…" in rows[0]), out
    assert not any(name[-10:] in line for line in out.splitlines() if line not in rows), out


def test_the_readme_command_table_names_every_command() -> None:
    table = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| `relais ")]
    for name, spec in COMMANDS.items():
        subcommands = list(getattr(load(name, spec), "commands", {})) or [""]
        for sub in subcommands:
            assert any(re.search(rf"`relais {name}( |`)", line) and sub in line for line in table), (name, sub)
