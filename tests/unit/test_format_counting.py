"""Lengths: Telegram UTF-16 units; Mastodon graphemes, URLs 23, remote mentions, CW.

Every Mastodon row is cross-checked against Mastodon.py's get_status_length.
"""

from __future__ import annotations

from pathlib import Path

import grapheme  # the graphemeu distribution, as Mastodon.py's get_status_length uses it
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mastodon import Mastodon

from bot.format.counting import graphemes, mastodon_length, utf16_length

FAMILY = "👨\u200d👩\u200d👧\u200d👦"


@pytest.mark.parametrize(
    ("text", "units"),
    [("santé", 5), ("😀", 2), (FAMILY, 11), ("e\u0301", 2), ("𝔘", 2), ("« oui\u00a0»", 7), ("", 0)],
)
def test_telegram_counts_utf16_code_units(text: str, units: int) -> None:
    assert utf16_length(text) == units


@pytest.mark.parametrize(
    ("status", "spoiler", "expected"),
    [
        ("Bonjour", "", 7),
        ("Lire : https://esante-blog.fr/2025/04/un-tres-long-chemin-d-article/?utm_source=mastodon", "", 30),
        ("https://a.fr", "", 23),  # a short URL still counts 23
        ("https://a.fr et https://b.com/x", "", 50),
        ("(https://esante-blog.fr/x).", "", 26),
        ("https://esante.example/x", "", 24),  # not a known TLD: not a URL to Mastodon, counted in full
        ("ftp://esante-blog.fr/x", "", 22),
        (FAMILY, "", 1),
        ("🧑🏽\u200d⚕️ soignant", "", 10),
        ("e\u0301te\u0301", "", 3),
        ("שָׁלוֹם", "", 4),
        ("@alice@mastodon.social salut", "", 12),
        ("@alice salut", "", 12),
        ("mail@alice@x.org", "", 16),  # not a mention: glued to a word
        ("Texte", "Avertissement : suicide", 28),
        ("", "", 0),
    ],
)
def test_mastodon_counts_like_mastodon(status: str, spoiler: str, expected: int) -> None:
    assert mastodon_length(status, spoiler) == expected
    assert Mastodon.get_status_length(status, spoiler) == expected


def test_url_length_follows_the_instance() -> None:
    assert mastodon_length("voir https://a.fr", url_length=30) == 35


PIECES = ["a", " ", "\n", "\r", "\u0301", "\u200d", "👨", "🇫", "🇷", "\u0600", "1", "é", "\ufe0f", "\u1100",
          "\u1161", "\u11a8", "\u0915", "\u094d", "\u00a0", "https://", "esante-blog.fr", "x.example", "/a?b=1",
          ".", ")", "(", "@", "alice", "@mastodon.social", "#", "…"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.characters()), max_size=40).map("".join),
       st.text(max_size=10))
def test_counting_agrees_with_mastodon_py_on_arbitrary_text(status: str, spoiler: str) -> None:
    assert graphemes(status) == grapheme.length(status)  # the fast path is exact
    assert mastodon_length(status, spoiler) == Mastodon.get_status_length(status, spoiler)


# Recent emoji and scripts: every one is a single grapheme cluster for Mastodon. A splitter with
# Unicode 13 data (the `grapheme` 0.6 package this replaced) counts the Devanagari conjunct
# (rule GB9c, Unicode 15.1) as 2.
RECENT = [
    ("👨\u200d👩\u200d👧\u200d👦", 1),  # ZWJ family
    ("🧑\u200d🧑\u200d🧒", 1),  # family: adult, adult, child (Emoji 15.1)
    ("🇫🇷🇨🇦", 2),  # two flags, four regional indicators
    ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),  # Scotland: tag sequence
    ("👩🏽\u200d⚕️", 1),  # skin tone + ZWJ profession
    ("🧑🏻\u200d❤️\u200d💋\u200d🧑🏼", 1),  # kiss with two skin tones
    ("🫨🩷🪿", 3),  # Unicode 15: shaking face, pink heart, goose
    ("🐦\u200d🔥", 1),  # Emoji 15.1: phoenix
    ("🍋\u200d🟩", 1),  # Emoji 15.1: lime
    ("🙂\u200d↔️", 1),  # Emoji 15.1: head shaking horizontally
    ("🫩🫆", 2),  # Unicode 16: face with bags under eyes, fingerprint
    ("🇨🇶", 1),  # Unicode 16 flag: Sark
    ("क्षि", 1),  # Devanagari conjunct (GB9c, Unicode 15.1)
]


@pytest.mark.parametrize(("emoji", "clusters"), RECENT)
def test_recent_emoji_count_as_mastodon_counts_them(emoji: str, clusters: int) -> None:
    status = f"Bravo à l’équipe {emoji}\u00a0! https://esante-blog.fr/2025/04/therabot/"
    expected = len("Bravo à l’équipe ") + clusters + len("\u00a0! ") + 23
    assert mastodon_length(status) == expected
    assert Mastodon.get_status_length(status) == expected
    assert graphemes(emoji) == clusters


def test_importing_the_formatter_imports_neither_mastodon_py_nor_the_grapheme_tables() -> None:
    import subprocess
    import sys

    code = "import sys, bot.format; print(sorted(m for m in ('mastodon', 'grapheme') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus"


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")
def test_counting_agrees_with_mastodon_py_on_the_corpus_texts() -> None:
    """Real lines of feeds (French, RTL, CJK, Cyrillic, emoji) and twitter-text's conformance texts."""
    checked = 0
    for folder in ("feeds", "mastodon"):
        for path in sorted((CORPUS / folder).rglob("*")):
            if not path.is_file():
                continue
            for line in path.read_bytes().decode("utf-8", errors="replace").splitlines()[:400]:
                if 0 < len(line) <= 600:
                    assert mastodon_length(line) == Mastodon.get_status_length(line), (path.name, line)
                    checked += 1
    assert checked > 5000
