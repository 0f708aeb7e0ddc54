"""Lengths: Telegram UTF-16 units; Mastodon graphemes, URLs 23, remote mentions, CW.

Every Mastodon row is cross-checked against Mastodon.py's get_status_length.
"""

from __future__ import annotations

import grapheme
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
