"""The hashtag grammar: the tag the author meant, and the text as both platforms see it whole."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.hashtags import can_be_tag, find_hashtags, platform_text

# Mastodon's Tag::HASHTAG_RE (app/models/tag.rb), with Python's \w for Ruby's [[:word:]].
MASTODON_HASHTAG = re.compile(r"(?:^|[^/)\w])#((?:[\w_][\w_·]*[^\W\d][\w_·]*[\w_])|(?:[\w_]*[^\W\d][\w_]*))")


def tdlib_hashtags(text: str) -> list[str]:
    tdlib = pytest.importorskip("bot.tdlib")
    pytest.importorskip("tdjson")
    return tdlib.hashtags(text)


def mastodon_hashtags(text: str) -> list[str]:
    return ["#" + m.group(1) for m in MASTODON_HASHTAG.finditer(text)]


def test_the_blog_title_yields_every_tag_including_after_an_elision() -> None:
    title = "#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…"
    assert find_hashtags(title) == ["Therabot", "chatbot", "IA", "dépression", "anxiété"]


@pytest.mark.parametrize(("text", "tags"), [
    ("La #e-santé en 2025", ["e-santé"]),
    ("Après le #COVID-19, la #télé-consultation", ["COVID-19", "télé-consultation"]),
    ("#l'IA et #l’IA générative, #d’anxiété", ["IA", "anxiété"]),
    ("#2025, #2025-2026, #_ et #_1", []),
    ("#santé.fr #IA’s #soins! #IA- #e-", ["santé", "IA", "soins", "e"]),
])
def test_ingest_reads_the_tag_the_author_meant(text: str, tags: list[str]) -> None:
    assert find_hashtags(text) == tags


@pytest.mark.parametrize(("text", "shown", "hashtags"), [
    ("La #e-santé en 2025", "La #ESanté en 2025", ["#ESanté"]),
    ("Après le #COVID-19 :", "Après le #COVID19 :", ["#COVID19"]),
    ("#l'IA et #l’IA", "l'#IA et l’#IA", ["#IA", "#IA"]),
    ("Bilan #2025, #2025-2026.", "Bilan 2025, 2025-2026.", []),
    ("#Therabot, l’#anxiété, #santé.", "#Therabot, l’#anxiété, #santé.", ["#Therabot", "#anxiété", "#santé"]),
    ("« #e-santé-mentale »", "« #ESantéMentale »", ["#ESantéMentale"]),
    ("page#ancre et #Sante\u0301-publique", "page#ancre et #SantéPublique", ["#SantéPublique"]),
])
def test_renders_show_each_author_hashtag_whole_on_both_platforms(text: str, shown: str, hashtags: list[str]) -> None:
    assert platform_text(text) == shown
    assert tdlib_hashtags(shown) == hashtags
    assert mastodon_hashtags(shown) == hashtags


def test_a_hash_glued_to_a_word_or_url_starts_no_tag() -> None:
    assert find_hashtags("page#ancre https://x.example/#top a#b (#ok) «\u00a0#guillemets\u00a0»") == ["ok", "guillemets"]


def test_one_tag_per_key_first_spelling_kept_and_decomposed_accents_joined() -> None:
    assert find_hashtags("#Santé #sante #SANTÉ #Sante\u0301") == ["Santé"]


@pytest.mark.parametrize(("display", "taggable"), [
    ("e", False), ("C", False), ("un", False), ("n'est", False), ("Ceci", False), ("de la", False), ("the", False),
    ("2025", False), ("had", False), ("HAD", True), ("IA", True), ("AI", True), ("best of", True), ("santé", True),
])
def test_stop_words_and_one_letter_words_are_never_tags(display: str, taggable: bool) -> None:
    assert can_be_tag(display) is taggable


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_found_tags_never_contain_a_terminator_and_are_never_digits_only(text: str) -> None:
    for tag in find_hashtags(text):
        assert tag and not tag.replace("-", "").isdigit()
        assert not any(ch in tag for ch in ".'’ \t\n#,;:!?")
        assert not tag.startswith("-") and not tag.endswith("-") and "--" not in tag


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_the_platform_text_is_stable_and_its_tags_read_back_whole(text: str) -> None:
    shown = platform_text(text)
    assert platform_text(shown) == shown
    assert all("-" not in tag for tag in find_hashtags(shown))


@pytest.mark.parametrize("text", ["#हिन्दी et #Santé\u0301", "#_ #__ #_1 #1a", "#Therabot : un #chatbot #IA"])
def test_tags_without_joiners_are_the_ones_telegram_recognizes(text: str) -> None:
    expected = [tag[1:] for tag in tdlib_hashtags(unicodedata.normalize("NFC", text))]
    assert find_hashtags(text) == expected
