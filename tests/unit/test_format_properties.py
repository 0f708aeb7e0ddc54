"""Property tests: whatever Unicode and HTML comes in, every render is valid and fits.

Telegram's own parser (TDLib via tdjson) is the judge of the HTML and of the hashtags;
Mastodon.py's get_status_length is the judge of the Mastodon length.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.domain.hashtags import hashtag_body
from bot.format import Article, Profile, render_mastodon, render_telegram
from bot.format.counting import utf16_length

tdlib = pytest.importorskip("bot.tdlib")
pytest.importorskip("tdjson")
Mastodon = pytest.importorskip("mastodon").Mastodon

TRICKY = [
    "👨‍👩‍👧‍👦", "🧑🏽‍⚕️", "🇫🇷", "e\u0301", "\u0301", "ש\u05b8לוֹם", "مرحبا", "\u200f", "\u202e", "𝔘𝔫𝔦",
    "\u00a0", "\u202f", "&amp;", "&lt;b&gt;", "&#128512;", "&nbsp;", "&bogus;", "<", ">", "&", "\"", "'",
    "’", "«\u00a0", "\u00a0»", "\u00a0:", "#", "#santé", "#123", "@user@example.org", "l’", "d'", "-", ".",
    "…", "\n", " ", "\t", "https://esante-blog.fr/a/b?c=1&d=2", "http://x.example/" + "y" * 300,
    "w" * 500, "A" * 5000, "\u200d", "\ufe0f", "\x00", "\x0b", "\ud7ff",
]
TAGS = ["<b>", "</b>", "<i>", "</i>", "<p>", "</p>", "<br>", "<div>", "</div>", "<a href='https://x.fr/?a=1&b=2'>",
        "<a href=\"javascript:alert(1)\">", "</a>", "<script>alert(1)</script>", "<style>p{}</style>", "<ul><li>",
        "</li>", "<img src=x onerror=alert(1)>", "<table><tr><td>", "<pre>", "<b><i>", "</b></i>", "<!--", "-->",
        "<![CDATA[", "<tg-spoiler>", "<code>", "<blockquote>", "<h2>", "</h2>", "<a>", "<b", "</"]

fragments = st.one_of(st.text(max_size=40), st.sampled_from(TRICKY), st.sampled_from(TAGS))
html = st.lists(fragments, max_size=30).map("".join)
tag_text = st.one_of(st.text(min_size=1, max_size=25), st.sampled_from(
    ["santé mentale", "e-santé", "l'IA", "IA", "ia", "2024", "anxiété", "Sante\u0301", "TCA", "👍", "a-b-c", "x" * 80]))
articles = st.builds(
    Article,
    title=st.one_of(html, st.sampled_from(["#Therabot : un chatbot IA qui soigne l’anxiété", "Santé mentale et e-santé"])),
    body_html=html,
    url=st.one_of(st.none(), st.sampled_from(["https://esante-blog.fr/2025/04/therabot/", "https://x.fr/?q=1#f",
                                              "http://example.com/" + "long" * 200, "javascript:alert(1)"])),
    tags=st.lists(tag_text, max_size=8).map(tuple),
    language=st.sampled_from(["fr", "en", "fr-FR"]),
    image_url=st.one_of(st.none(), st.just("https://esante-blog.fr/img.jpg")),
)
profiles = st.builds(
    Profile,
    max_length=st.one_of(st.none(), st.integers(50, 1200)),
    hashtag_style=st.sampled_from(["trailing", "inline"]),
    max_hashtags=st.integers(0, 8),
    prefer_image=st.booleans(),
    utm=st.sampled_from([None, "utm_source=telegram&utm_medium=social"]),
    read_more=st.booleans(),
    content_warnings=st.just({"suicide": "suicide"}),
)
# Mastodon's Tag::HASHTAG_RE (app/models/tag.rb), with Python's \w for Ruby's [[:word:]].
MASTODON_HASHTAG = re.compile(r"(?:^|[^/)\w])#((?:[\w_][\w_·]*[^\W\d][\w_·]*[\w_])|(?:[\w_]*[^\W\d][\w_]*))")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(articles, profiles)
def test_telegram_renders_parse_fit_and_keep_hashtags_whole(article: Article, profile: Profile) -> None:
    render = render_telegram(article, profile)
    plain, entities = tdlib.parse_html(render.text)  # raises if Telegram would answer 400
    assert utf16_length(plain) == render.length <= render.limit
    assert render.limit <= (1024 if render.photo else 4096)
    if render.link_preview is not None and profile.read_more:
        assert any(e["type"].get("url") == render.link_preview.url for e in entities)
    found = set(tdlib.hashtags(plain))
    for display in render.follow_tags:
        body = hashtag_body(display)
        if re.search(rf"#{re.escape(body)}(?![\w·])", plain):
            assert f"#{body}" in found


@FAST
@given(articles, profiles, st.integers(100, 1000), st.sampled_from([23, 30]))
def test_mastodon_renders_fit_as_mastodon_counts(article: Article, profile: Profile, limit: int, url_length: int) -> None:
    render = render_mastodon(article, profile, max_characters=limit, url_length=url_length)
    assert render.length <= render.limit <= limit
    if url_length == 23:
        assert render.length == Mastodon.get_status_length(render.status, render.spoiler_text)
    assert render.language in ("fr", "en")
    if article.url == "https://esante-blog.fr/2025/04/therabot/" and not profile.utm:
        assert article.url in render.status  # the link is never sacrificed
    found = {m.group(1) for m in MASTODON_HASHTAG.finditer(render.status)}
    for hashtag in re.findall(r"(?:^|\s)(#\w+)(?=\s|$)", render.status.rsplit("\n\n", 1)[-1]):
        if hashtag_body(hashtag) == hashtag[1:]:
            assert hashtag[1:] in found  # our trailing hashtags, recognized whole by Mastodon


@FAST
@given(tag_text)
def test_every_emitted_hashtag_is_recognized_whole_by_telegram(display: str) -> None:
    body = hashtag_body(display)
    assume(body is not None)
    assert tdlib.hashtags(f"x #{body} x") == [f"#{body}"]
    assert tdlib.hashtags(f"l’#{body}, x") == [f"#{body}"]
