"""Hashtags an author wrote the platforms would cut (#e-santé, #COVID-19, #l’IA, #2025).

Ingest reads the tag the author meant; every render shows it as one whole hashtag, judged
by TDLib's getTextEntities (Telegram) and Mastodon's HASHTAG_RE, inline and trailing.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.hashtags import find_hashtags
from bot.format import Article, Profile, render_mastodon, render_telegram

tdlib = pytest.importorskip("bot.tdlib")
pytest.importorskip("tdjson")

# Mastodon's Tag::HASHTAG_RE (app/models/tag.rb), with Python's \w for Ruby's [[:word:]].
MASTODON_HASHTAG = re.compile(r"(?:^|[^/)\w])#((?:[\w_][\w_·]*[^\W\d][\w_·]*[\w_])|(?:[\w_]*[^\W\d][\w_]*))")
LETTERS = "abcdefghijklmnopqrstuvwxyzéèêëàâçôöûùîïœ" + "ABCDEFGHIJKLMNOPQRSTUVWXYZÉÈÊÀÇÔŒ"
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def telegram_hashtags(article: Article, style: str) -> list[str]:
    render = render_telegram(article, Profile(hashtag_style=style))  # type: ignore[arg-type]
    plain, _ = tdlib.parse_html(render.text)  # raises if Telegram would answer 400
    return tdlib.hashtags(plain)


def mastodon_hashtags(article: Article, style: str) -> list[str]:
    render = render_mastodon(article, Profile(platform="mastodon", hashtag_style=style))  # type: ignore[arg-type]
    return ["#" + m.group(1) for m in MASTODON_HASHTAG.finditer(render.status)]


@st.composite
def author_hashtags(draw: st.DrawFn) -> tuple[str, str | None]:
    """(what the author wrote after '#', the hashtag the platforms must show, or None)."""
    if draw(st.integers(0, 5)) == 0:
        digits = draw(st.from_regex(r"\A[0-9]{1,4}(-[0-9]{1,4})?\Z"))
        return digits, None  # #2025, #2025-2026: no tag, plain text
    words = draw(st.lists(st.text(LETTERS + "0123456789", min_size=1, max_size=7), min_size=1, max_size=3))
    if not any(ch.isalpha() for ch in "".join(words)):
        words[0] += "a"
    elision = draw(st.sampled_from(["", "", "l'", "l’", "d’", "L’"]))
    camel = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
    return elision + "-".join(words), f"#{camel}"


@SETTINGS
@given(st.lists(author_hashtags(), min_size=1, max_size=4), st.lists(author_hashtags(), max_size=3),
       st.sampled_from(["inline", "trailing"]))
def test_every_render_shows_each_author_hashtag_as_one_whole_hashtag(
        in_title: list[tuple[str, str | None]], in_body: list[tuple[str, str | None]], style: str) -> None:
    title = "Le point sur " + " et ".join(f"#{written}" for written, _ in in_title) + " !"
    body = "<p>On en parle\u00a0: " + ", ".join(f"#{written}" for written, _ in in_body) + ".</p>"
    expected = [shown for _, shown in [*in_title, *in_body] if shown is not None]
    bare = Article(title=title, body_html=body, url="https://esante-blog.fr/2025/04/point/")
    assert telegram_hashtags(bare, style) == expected
    assert mastodon_hashtags(bare, style) == expected
    # With the tags ingest reads from it, a render adds no cut or doubled hashtag either.
    tagged = Article(title=title, body_html=body, url=bare.url, tags=tuple(find_hashtags(title + " " + body)))
    for found in (telegram_hashtags(tagged, style), mastodon_hashtags(tagged, style)):
        assert {tag.casefold() for tag in found} == {tag.casefold() for tag in expected}


def test_the_blog_examples_render_whole_on_both_platforms() -> None:
    article = Article(
        title="#e-santé : ce que #l’IA change après le #COVID-19 (bilan #2025)",
        body_html="<p>La #télé-consultation progresse.</p>",
        tags=("e-santé", "IA", "COVID-19", "télé-consultation"),
    )
    # the body's hashtag is also a tag the title lacks: it trails once more, whole
    expected = ["#ESanté", "#IA", "#COVID19", "#TéléConsultation", "#TéléConsultation"]
    for style in ("inline", "trailing"):
        assert telegram_hashtags(article, style) == expected
        assert mastodon_hashtags(article, style) == expected
    plain, _ = tdlib.parse_html(render_telegram(article, Profile()).text)
    assert plain.startswith("#ESanté : ce que l’#IA change après le #COVID19 (bilan 2025)")
