"""Which tags ingest gives an entry: what the author meant, never noise; and a SQLAlchemy-free ingest."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from bot.ingest.hashtags import entry_tags
from bot.ingest.parse import parse_feed

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)

PODCAST = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Le podcast e-santé</title><link>https://esante-blog.fr/</link><language>fr</language>
<itunes:category text="Health &amp; Fitness"/>
<item><title>Ceci n'est pas un best of (2/2)</title><link>https://esante-blog.fr/podcast/42</link>
<category>Santé mentale</category>
<itunes:keywords>Ceci,n'est,pas,un,best,of,(2/2)</itunes:keywords>
<itunes:category text="Medicine"/>
<description>On reparle de la #e-santé, de #l’IA et du #COVID-19 en #2025 😷</description></item>
</channel></rss>"""


def test_podcast_keywords_and_categories_are_not_tags_the_author_hashtags_are() -> None:
    (entry,) = parse_feed(PODCAST.encode(), source="podcast", now=NOW).entries
    assert entry.tags == ("Santé mentale", "e-santé", "IA", "COVID-19")


def test_title_hashtags_come_first_then_categories_then_body_hashtags() -> None:
    tags = entry_tags("#Therabot : un #chatbot contre l’#anxiété", ["Santé mentale", "chatbot"], "La #e-santé avance")
    assert tags == ("Therabot", "chatbot", "anxiété", "Santé mentale", "e-santé")


def test_stop_words_one_letter_words_and_the_default_category_are_never_tags() -> None:
    tags = entry_tags("#Un #e #IA et #the #HAD", ["Non classé", "de", "x", "C", "été"], "#pas #n'est #2025")
    assert tags == ("IA", "HAD", "été")


def test_a_lower_case_category_takes_the_title_capitals_for_one_display_form() -> None:
    title = "L’Alsace et les DSL en Python"
    assert entry_tags(title, ["alsace", "dsl", "python", "Programmation"], "") == ("Alsace", "DSL", "Python", "Programmation")
    assert entry_tags("du python partout", ["Python"], "") == ("Python",)  # a capitalised category keeps its own


def test_the_pure_parts_of_ingest_import_no_sqlalchemy() -> None:
    modules = ["bot.domain", "bot.domain.posts", "bot.domain.feeds", "bot.domain.hashtags", "bot.ingest.parse",
               "bot.ingest.entry", "bot.ingest.decide", "bot.ingest.wxr", "bot.ingest.hashtags", "bot.ingest.html"]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
