"""The Telegram Bot API emulator depends on nothing of the app it stands in for (issue 8 item 5).

Imported alone in a fresh interpreter, ``bot.sandbox`` may load ``bot`` itself, ``bot.tdlib``
(TDLib bindings, app-independent) and its own modules — never the store, the publisher,
the formatter, the settings or the composition root.
"""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED = {"bot", "bot.tdlib"}


def test_importing_the_sandbox_loads_nothing_of_the_app() -> None:
    script = ("import json, sys, bot.sandbox, bot.sandbox.__main__; "
              "print(json.dumps(sorted(m for m in sys.modules if m == 'bot' or m.startswith('bot.'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                       text=True).stdout)
    foreign = [m for m in loaded if m not in ALLOWED and not m.startswith("bot.sandbox")]
    assert foreign == []
    assert "bot.sandbox.server" in loaded  # the check did import the emulator


def test_the_tdlib_module_it_uses_is_itself_app_independent() -> None:
    script = ("import json, sys, bot.tdlib; "
              "print(json.dumps(sorted(m for m in sys.modules if m.startswith('bot'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                       text=True).stdout)
    assert set(loaded) == ALLOWED
