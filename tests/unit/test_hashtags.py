"""Inline hashtags follow Telegram's and Mastodon's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.hashtags import find_hashtags


def test_the_blog_title_yields_every_tag_including_after_an_elision() -> None:
    title = "#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…"
    assert find_hashtags(title) == ["Therabot", "chatbot", "IA", "dépression", "anxiété"]


def test_tags_end_at_hyphen_dot_apostrophe_and_punctuation() -> None:
    assert find_hashtags("#e-santé #santé.fr #l'hôpital #IA’s #soins!") == ["e", "santé", "l", "IA", "soins"]


def test_a_tag_needs_a_letter_digits_inside_are_fine() -> None:
    assert find_hashtags("#2024 #COVID19 #19e #_ #_1 #_a") == ["COVID19", "19e", "_a"]


@pytest.mark.parametrize("text", [
    "#हिन्दी et #Santé\u0301", "#_ #__ #_1 #1a", "#e-santé, l’#anxiété, #2024", "#Therabot : un #chatbot #IA",
])
def test_tags_are_the_ones_telegram_recognizes(text: str) -> None:
    tdlib = pytest.importorskip("bot.tdlib")
    import unicodedata

    expected = [tag[1:] for tag in tdlib.hashtags(unicodedata.normalize("NFC", text))]
    assert find_hashtags(text) == expected


def test_a_hash_glued_to_a_word_or_url_starts_no_tag() -> None:
    assert find_hashtags("page#ancre https://x.example/#top a#b (#ok) «\u00a0#guillemets\u00a0»") == ["ok", "guillemets"]


def test_one_tag_per_key_first_spelling_kept_and_decomposed_accents_joined() -> None:
    assert find_hashtags("#Santé #sante #SANTÉ #Sante\u0301") == ["Santé"]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_found_tags_never_contain_a_terminator_and_are_never_digits_only(text: str) -> None:
    for tag in find_hashtags(text):
        assert tag and not tag.isdigit()
        assert not any(ch in tag for ch in "-.'’ \t\n#,;:!?")
