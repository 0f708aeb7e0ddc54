"""Fidelity on real-world feeds (issue 11 items 8, 10, 12, 13): encodings, relative links,
HTML pages given as feeds, empty paragraphs, trailing boilerplate, article language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.ingest import html as h
from bot.ingest.discover import feed_links, is_html
from bot.ingest.encoding import fix_mojibake, mend_utf8
from bot.ingest.language import article_language
from bot.ingest.parse import parse_feed

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
FRENCH = st.text(alphabet="abcdeéèêëàâîïôöùûüçœÉÈÀÇ’«»… \u00a0!?:;,.-#", min_size=1, max_size=80)
# Sentences, not random characters: ftfy judges by plausibility, and "Â»Ã‡" alone is a coin toss.
WORDS = ("été", "à", "l’épisode", "déjà", "cœur", "Ça", "où", "très", "«\u00a0santé\u00a0»", "#télésoin", "fenêtre",
         "naïf", "Noël", "garçon", "Île", "À", "bientôt", "…", "!", "médecin", "qu’il", "œuvre", "dernière", "the")
REPAIRABLE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)


def _rss(items: str, channel: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Carnet</title>{channel}'
            f"{items}</channel></rss>").encode()


@given(FRENCH)
def test_clean_french_is_never_touched(text: str) -> None:
    assert fix_mojibake(text) == text


@given(REPAIRABLE)
def test_utf8_read_as_windows_1252_is_repaired(text: str) -> None:
    try:
        mojibake = text.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        assume(False)
    assert fix_mojibake(mojibake) == text


@pytest.mark.parametrize("text", ["Le cœur de l’#IA", "Épisode 3 – démontage d’un four", "« Ça marche ! » …"])
def test_mojibake_in_sentences_is_repaired(text: str) -> None:
    assert fix_mojibake(text.encode("utf-8").decode("cp1252")) == text


def test_a_utf8_document_with_a_few_bad_bytes_stays_utf8() -> None:
    data = "<rss><title>Épisode d’été — « café » 🔥</title></rss>".encode().replace(b"caf\xc3\xa9", b"caf\xe9")
    assert mend_utf8(data).decode("utf-8") == "<rss><title>Épisode d’été — « caf\ufffd » 🔥</title></rss>"


@pytest.mark.parametrize("data", [
    "<rss><title>Épisode d’été, café, thé, à bientôt</title></rss>".encode("cp1252"),  # undeclared legacy 8-bit
    '<?xml version="1.0" encoding="iso-8859-1"?><rss><title>É — ça</title></rss>'.encode() + b"\xe9",
])
def test_legacy_or_other_declared_encodings_are_left_to_feedparser(data: bytes) -> None:
    assert mend_utf8(data) == data


def test_a_relative_link_with_no_base_skips_the_entry_and_says_why() -> None:
    parsed = parse_feed(_rss("<item><title>Sans base</title><link>/2026/03/sans-base</link></item>"
                             "<item><title>Absolu</title><link>https://carnet.example/absolu</link></item>"),
                        source="s", now=NOW)
    assert [e.url for e in parsed.entries] == ["https://carnet.example/absolu"]
    assert parsed.skipped == 1 and "'/2026/03/sans-base' is relative" in parsed.skips[0]


def test_the_url_the_feed_came_from_comes_before_its_self_link() -> None:
    data = _rss("<item><title>Ici</title><link>ici</link></item>",
                '<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="https://ancien.example/flux"/>')
    entry = parse_feed(data, source="s", now=NOW, headers={"content-location": "https://carnet.example/flux/"}).entries[0]
    assert entry.url == "https://carnet.example/flux/ici"
    assert parse_feed(data, source="s", now=NOW).entries[0].url == "https://ancien.example/ici"


def test_an_html_page_is_named_as_such_not_a_syntax_error() -> None:
    page = b"<!DOCTYPE html>\n<html lang=\"fr\"><head><title>Accueil</title></head><body><p>Bonjour</p></body></html>"
    assert is_html(page)
    assert parse_feed(page, source="s", now=NOW).error == "this is an HTML page, not a feed"
    assert not is_html(_rss("<item><title>Flux</title></item>"), {"content-type": "text/html"})


def test_feed_links_are_found_in_page_order_and_made_absolute() -> None:
    page = b"""<html><head>
      <link rel="stylesheet" href="/style.css">
      <link rel="alternate" type="application/rss+xml" title="Articles" href="/feed/">
      <link rel="alternate" type="application/atom+xml" href="https://carnet.example/atom.xml">
      <link rel="alternate" type="application/feed+json" href="/feed.json">
    </head><body></body></html>"""
    assert feed_links(page, "https://carnet.example/blog/") == ["https://carnet.example/feed/",
                                                                "https://carnet.example/atom.xml"]
    assert feed_links(b"<html><head></head></html>", "https://carnet.example/") == []


@pytest.mark.parametrize("empty", ["<p>&nbsp;</p>", "<p>\u00a0</p>", "<p> <br> </p>", "<p><span>&#160;</span></p>",
                                   "<p></p>"])
def test_paragraphs_holding_only_spaces_are_dropped(empty: str) -> None:
    assert h.sanitize(f"<p>Premier paragraphe.</p>{empty}<p>Second.</p>") == "<p>Premier paragraphe.</p><p>Second.</p>"


def test_an_authors_read_also_line_stays_and_a_long_text_after_a_heading_is_not_a_trailer() -> None:
    inline = "<p>Le texte.</p><p>À lire aussi&nbsp;: <a href=\"https://carnet.example/dmp\">le DMP</a>.</p>"
    assert "À lire aussi" in h.sanitize(inline)
    long_after = "<p>Intro.</p><h3>Articles similaires</h3>" + "<p>Une vraie suite d’article, longue.</p>" * 60
    assert h.sanitize(long_after).count("vraie suite") == 60


def test_a_trailing_related_posts_block_never_reaches_the_body() -> None:
    body = ("<p>Le télésoin progresse.</p><div class='mf-related'><p>Articles en rapport</p><ul>"
            "<li><a href='https://carnet.example/a'>Autre article</a></li></ul></div>")
    assert h.sanitize(body) == "<p>Le télésoin progresse.</p>"


def test_language_follows_the_text_only_when_it_is_long_and_clear() -> None:
    french = ("Lundi matin, sept patients, une tablette et beaucoup de café. J’ai fait ma première tournée en "
              "télésoin depuis le cabinet, et la connexion a tenu du début à la fin de la matinée.")
    assert article_language("en", french) == "fr"
    assert article_language("en", "Fermé la semaine prochaine, bises !") == "en"  # too short to overrule
    assert article_language("fr", french) == "fr"


def test_a_declared_language_outside_the_candidates_is_kept() -> None:
    swedish = ("Igår cyklade jag hela vägen från Uppsala till Stockholm i motvind, och det var både kallt och "
               "blött, men cykelbanorna var fina och kaffet i Märsta smakade bättre än någonsin tidigare.")
    assert article_language("sv", swedish) == "sv"


def test_a_file_whose_name_looks_like_a_scheme_is_still_a_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.ingest.fetch import check_location, read_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes:2026.xml").write_bytes(b"<rss/>")
    check_location("notes:2026.xml")
    assert read_file("notes:2026.xml").content == b"<rss/>"
