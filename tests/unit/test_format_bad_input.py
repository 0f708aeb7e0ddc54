"""Bad input: empty bodies, no link, hostile HTML, absurd sizes — always a valid render."""

from __future__ import annotations

import pytest

from bot.format import Article, Profile, render_mastodon, render_telegram
from bot.format.links import with_utm

tdlib = pytest.importorskip("bot.tdlib")
pytest.importorskip("tdjson")

HOSTILE = (
    '<script>alert("xss")</script><style>body{display:none}</style>'
    '<p onclick="steal()">Texte <a href="javascript:alert(1)">piégé</a> '
    '<img src=x onerror="alert(2)"><iframe src="https://evil.example/"></iframe>'
    '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a><svg><script>alert(3)</script></svg>'
    '<object data="x.swf"></object><noscript>nojs()</noscript>fin.</p>'
)
TRACES = ["alert", "script", "style", "display:none", "onclick", "steal", "javascript", "onerror", "iframe",
          "evil.example", "data:", "base64", "svg", "x.swf", "nojs", "<p", "<img"]


def test_empty_body_gives_title_and_link() -> None:
    article = Article(title="Le sommeil des ados", url="https://esante-blog.fr/sommeil")
    render = render_telegram(article, Profile())
    assert render.text == '<b>Le sommeil des ados</b>\n\n<a href="https://esante-blog.fr/sommeil">Lire la suite</a>'
    status = render_mastodon(article, Profile(platform="mastodon")).status
    assert status == "Le sommeil des ados\n\nLire la suite\u00a0: https://esante-blog.fr/sommeil"


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "/relative/path", "mailto:a@b.fr"])
def test_no_usable_link_means_no_read_more(url: str | None) -> None:
    article = Article(title="Titre", body_html="<p>Corps.</p>", url=url)
    render = render_telegram(article, Profile())
    assert render.text == "<b>Titre</b>\n\nCorps." and render.link_preview is None
    assert render_mastodon(article, Profile(platform="mastodon")).status == "Titre\n\nCorps."


def test_hostile_html_leaves_no_trace_of_its_code() -> None:
    article = Article(title="Titre", body_html=HOSTILE, url="https://esante-blog.fr/x")
    telegram = render_telegram(article, Profile())
    plain, entities = tdlib.parse_html(telegram.text)
    mastodon = render_mastodon(article, Profile(platform="mastodon")).status
    assert plain == "Titre\n\nTexte piégé datafin.\n\nLire la suite"
    assert mastodon == "Titre\n\nTexte piégé datafin.\n\nLire la suite\u00a0: https://esante-blog.fr/x"
    for trace in TRACES:
        assert trace not in telegram.text and trace not in mastodon
    assert [e["type"]["url"] for e in entities if e["type"]["@type"] == "textEntityTypeTextUrl"] == [
        "https://esante-blog.fr/x"
    ]


def test_a_title_text_that_looks_like_html_is_escaped_not_executed() -> None:
    render = render_telegram(Article(title="<b>1 < 2 & 3 > 2</b>"), Profile())
    assert tdlib.parse_html(render.text)[0] == "<b>1 < 2 & 3 > 2</b>"


def test_a_plain_text_summary_is_shown_as_written_not_read_again_as_html() -> None:
    # ingest stores summaries as text: a feed's "&lt;b&gt;" arrives here as "<b>"
    article = Article(title="Titre", summary="Balise <b>gras & « citée »", url="https://esante-blog.fr/x")
    plain = tdlib.parse_html(render_telegram(article, Profile()).text)[0]
    assert "Balise <b>gras & « citée »" in plain
    assert "Balise <b>gras & « citée »" in render_mastodon(article, Profile(platform="mastodon")).status


def test_a_giant_word_is_dropped_rather_than_cut() -> None:
    article = Article(title="Titre", body_html="x" * 5000, url="https://esante-blog.fr/x")
    render = render_telegram(article, Profile(max_length=200))
    assert "xxx" not in render.text and render.length <= 200


def test_a_giant_title_is_cut_at_a_word_and_the_link_survives() -> None:
    article = Article(title="mot " * 2000, url="https://esante-blog.fr/x", tags=("santé",))
    render = render_telegram(article, Profile(max_length=120))
    plain = tdlib.parse_html(render.text)[0]
    assert plain.endswith("mot…\n\nLire la suite") and render.length <= 120
    mastodon = render_mastodon(article, Profile(platform="mastodon"), max_characters=100)
    assert mastodon.status.endswith("https://esante-blog.fr/x") and mastodon.length <= 100


@pytest.mark.parametrize(
    ("url", "utm", "expected"),
    [
        ("https://esante-blog.fr/a", "utm_source=telegram", "https://esante-blog.fr/a?utm_source=telegram"),
        ("https://esante-blog.fr/a?p=1#top", "utm_source=tg&utm_medium=social",
         "https://esante-blog.fr/a?p=1&utm_source=tg&utm_medium=social#top"),
        ("https://esante-blog.fr/a?utm_source=rss&p=2", "?utm_source=tg", "https://esante-blog.fr/a?p=2&utm_source=tg"),
        ("https://esante-blog.fr/a?q=caf%C3%A9+cr%C3%A8me", "utm_source=tg",
         "https://esante-blog.fr/a?q=caf%C3%A9+cr%C3%A8me&utm_source=tg"),
        ("https://esante-blog.fr/a", None, "https://esante-blog.fr/a"),
        ("ftp://esante-blog.fr/a", "utm_source=tg", None),
    ],
)
def test_utm_is_merged_into_the_query(url: str, utm: str | None, expected: str | None) -> None:
    assert with_utm(url, utm) == expected
