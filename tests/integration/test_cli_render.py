"""`relais render`: the JSON contract, default channels, configured channels, bad usage."""

from __future__ import annotations

import json
from pathlib import Path

from mastodon import Mastodon

KEYS = {"source_key", "channel", "platform", "parse_mode", "photo", "spoiler_text", "language", "length", "limit",
        "limit_source"}
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>E-santé</title><link>https://esante-blog.fr/</link><language>fr</language>
<item><title>#Therabot : un chatbot qui apaise l’anxiété</title><link>https://esante-blog.fr/therabot/</link>
<guid>esante-1</guid><category>anxiété</category><category>santé mentale</category><category>suicide</category>
<pubDate>Tue, 01 Apr 2025 08:00:00 +0000</pubDate>
<content:encoded><![CDATA[<p>Une étude montre qu’un <b>chatbot</b> réduit l’anxiété de 30&nbsp;%&nbsp;!</p><script>x()</script>]]></content:encoded>
</item></channel></rss>
"""
CONFIG = """
[profiles.tg]
hashtag_style = "inline"
max_length = 300
[profiles.md]
content_warnings = { suicide = ["suicide"] }
[[channels]]
name = "esante-tg"
platform = "telegram"
chat = "@esante_demo"
profile = "tg"
[[channels]]
name = "esante-md"
platform = "mastodon"
instance_url = "http://127.0.0.1:9"
token_env = "RELAIS_TEST_UNSET_TOKEN"
profile = "md"
visibility = "unlisted"
"""


def test_render_a_stored_post_for_the_default_channels(relais) -> None:
    assert relais("db", "upgrade")[0] == 0
    relais("post", "add", "Le sommeil des ados", "--url", "https://esante-blog.fr/sommeil",
           "--body", "<p>Les écrans retardent l’endormissement.</p>", "--tag", "sommeil", "--tag", "2024")
    code, out, _ = relais("render", "--post", "1", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["channel"], r["platform"]) for r in rows] == [("telegram", "telegram"), ("mastodon", "mastodon")]
    telegram, mastodon = rows
    assert set(telegram) == KEYS | {"text", "buttons"} and set(mastodon) == KEYS | {"status"}
    assert telegram["buttons"] == ["Suivre #sommeil"]
    assert (telegram["limit_source"], mastodon["limit_source"]) == ("telegram", "default")
    assert telegram["text"] == (
        "<b>Le sommeil des ados</b>\n\nLes écrans retardent l’endormissement.\n\n"
        '<a href="https://esante-blog.fr/sommeil">Lire la suite</a>\n\n#sommeil'
    )
    assert (telegram["parse_mode"], telegram["limit"], mastodon["limit"]) == ("HTML", 4096, 500)
    assert mastodon["length"] == Mastodon.get_status_length(mastodon["status"]) and mastodon["language"] == "fr"
    code, out, _ = relais("render", "--post", "1")
    assert code == 0 and "telegram (telegram)" in out and "/500" in out


def test_render_a_missing_post_is_a_clear_error(relais) -> None:
    relais("db", "upgrade")
    code, _, err = relais("render", "--post", "42")
    assert code == 1 and "post 42 does not exist" in err


def test_render_needs_exactly_one_source_and_a_known_channel(relais, tmp_path: Path) -> None:
    assert relais("render")[0] == 2
    code, _, err = relais("render", str(tmp_path / "absent.xml"))
    assert code == 2 and "absent.xml: cannot read" in err
    config = tmp_path / "relais.toml"
    config.write_text(CONFIG, encoding="utf-8")
    code, _, err = relais("--config", str(config), "render", "--post", "1", "--channel", "nope")
    assert code == 2 and "no such channel" in err


def test_render_a_feed_file_through_ingest_for_configured_channels(relais, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, encoding="utf-8")
    config = tmp_path / "relais.toml"
    config.write_text(CONFIG, encoding="utf-8")
    code, out, err = relais("--config", str(config), "render", str(feed), "--json")
    assert code == 0, err
    telegram, mastodon = json.loads(out)
    assert (telegram["channel"], mastodon["channel"]) == ("esante-tg", "esante-md")
    assert telegram["text"].startswith("<b>#Therabot : un chatbot qui apaise l’#anxiété</b>")
    assert "x()" not in telegram["text"] and telegram["length"] <= telegram["limit"] == 300
    assert mastodon["spoiler_text"] == "Avertissement\u00a0: suicide"
    code, out, _ = relais("--config", str(config), "render", str(feed), "--channel", "esante-md", "--json")
    assert [r["channel"] for r in json.loads(out)] == ["esante-md"]
