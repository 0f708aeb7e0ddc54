"""bot.tdlib: Telegram's parser, offline."""

from __future__ import annotations

import pytest

pytest.importorskip("tdjson")
from bot import tdlib


def test_parse_html_returns_plain_text_and_entities() -> None:
    plain, entities = tdlib.parse_html('<b>Santé</b> 😀 <a href="https://esante-blog.fr/?a=1&amp;b=2">lien</a>')
    assert plain == "Santé 😀 lien"
    assert [(e["offset"], e["length"], e["type"]["@type"]) for e in entities] == [
        (0, 5, "textEntityTypeBold"), (9, 4, "textEntityTypeTextUrl"),  # offsets in UTF-16 units
    ]
    assert entities[1]["type"]["url"] == "https://esante-blog.fr/?a=1&b=2"


@pytest.mark.parametrize("bad", ["<p>x</p>", "<b>x", "a < b <c", "<a href='x'>y</b>"])
def test_parse_html_raises_with_telegrams_message(bad: str) -> None:
    with pytest.raises(ValueError, match="Can't parse entities"):
        tdlib.parse_html(bad)


def test_hashtags_are_found_as_clients_find_them() -> None:
    assert tdlib.hashtags("l’#anxiété #e-santé #123 #SantéMentale 😀 #a\u0301b") == [
        "#anxiété", "#e", "#SantéMentale", "#a"
    ]
