"""The follow buttons are part of the Telegram render, as pure data (issue 8 item 4, issue 9 item 1).

One compact row: at most three buttons, the most relevant tags first, labels short enough
together to be read uncut; each payload is a deep link ``bot.deeplinks`` reads back as the
tag's key. No publisher, no network.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.deeplinks import MAX_PAYLOAD, followed_tag_key
from bot.domain.tags import tag_key
from bot.format import Article, Profile, render_telegram
from bot.format.telegram import MAX_FOLLOW_BUTTONS, MAX_FOLLOW_ROW_CHARACTERS, follow_row

THERABOT = Article(
    title="#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…",
    body_html="<p>Une étude «\u00a0randomisée\u00a0» publiée dans <b>NEJM AI</b>\u00a0! 🤖</p>",
    url="https://esante.example/therabot",
    tags=("IA", "santé mentale", "anxiété", "dépression", "chatbot"),
)
tag_lists = st.lists(st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(
    ["IA", "santé mentale", "e-santé", "l'IA", "2025", "👍", "x" * 80, "Dépression", "dépression", "TCA"])),
    max_size=12).map(tuple)


def test_a_post_with_five_tags_gets_one_short_row_of_its_most_relevant_tags() -> None:
    rendered = render_telegram(THERABOT, Profile())
    labels = [button.label for button in rendered.follow_buttons]
    assert labels == ["Suivre #IA", "Suivre #SantéMentale"]  # a third would not fit uncut
    assert [followed_tag_key(b.payload) for b in rendered.follow_buttons] == ["ia", "sante mentale"]
    assert rendered.follow_tags[:2] == ("IA", "santé mentale")


def test_labels_follow_the_post_language_and_short_tags_fill_three_buttons() -> None:
    row = follow_row(("AI", "health", "sleep", "diet"), "en")
    assert [b.label for b in row] == ["Follow #AI", "Follow #health", "Follow #sleep"]


def test_no_tags_no_buttons_and_a_tag_that_cannot_be_linked_is_skipped() -> None:
    assert render_telegram(Article(title="Sans sujet"), Profile()).follow_buttons == ()
    row = follow_row(("x" * 80, "2025", "IA"), "fr")  # too long for a deep link; digits only is no hashtag
    assert [b.label for b in row] == ["Suivre #IA"]


@given(tag_lists, st.sampled_from(["fr", "en", "de", None]))
def test_any_tags_give_one_compact_row_of_decodable_payloads(tags: tuple[str, ...], language: str | None) -> None:
    row = follow_row(tags, language)
    assert len(row) <= MAX_FOLLOW_BUTTONS
    assert len(row) <= 1 or sum(len(b.label) for b in row) <= MAX_FOLLOW_ROW_CHARACTERS
    keys = [tag_key(tag) for tag in tags]
    for button in row:
        assert len(button.payload) <= MAX_PAYLOAD
        assert followed_tag_key(button.payload) in keys
    # in relevance order: the buttons' tags appear in the same order as in the post
    positions = [keys.index(followed_tag_key(b.payload)) for b in row]
    assert positions == sorted(positions)
