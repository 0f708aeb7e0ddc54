"""`relais demo` end to end: the bundled sample reaches the Telegram sandbox and a Mastodon mock, once."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
from sqlalchemy import func, select

from bot import demo
from bot.app import App
from bot.cli import demo as demo_cli
from bot.cli import main
from bot.format.counting import mastodon_length
from bot.store.models import Post, Publication, PublicationState

NBSP = "\u00a0"


def hashtags(message: demo.TelegramReceived) -> set[str]:
    """The hashtags Telegram recognized, read through the entities' UTF-16 offsets."""
    units = message.text.encode("utf-16-le")
    return {units[2 * e["offset"]:2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in message.entities if e["type"] == "hashtag"}


async def test_demo_publishes_the_sample_once_on_both_platforms(database_url, empty_engine, capsys) -> None:
    seen: dict[str, object] = {}

    async def look(result: demo.DemoResult, platforms: demo.Platforms, app: App) -> None:
        # Ask the platforms themselves, independently of what the demo collected.
        seen["telegram"] = len(platforms.sandbox.messages(demo.TELEGRAM_CHAT))
        seen["mastodon"] = len(await asyncio.to_thread(lambda: platforms.mastodon_client().timeline_public()))
        demo_cli.show(result)

    first = await demo.run_demo(database_url, then=look)

    assert seen == {"telegram": 7, "mastodon": 7}
    assert first.imported.added == 7 and first.imported.queued == 7
    assert len(first.rows) == 14 and first.published_now == 14 and not first.failed

    therabot = first.telegram[0]
    assert therabot.text.startswith(f"#Therabot{NBSP}: un #chatbot #IA qui améliore la #dépression, l’#anxiété…")
    assert {"#Therabot", "#chatbot", "#IA", "#dépression", "#anxiété"} <= hashtags(therabot)
    assert therabot.photo == demo.SAMPLE_IMAGES + "therabot.png"
    assert f"«{NBSP}NEJM{NBSP}AI{NBSP}»" in therabot.text and "🤖" in therabot.text
    for message in first.telegram:
        assert "Lire la suite" in message.text
        assert any(e["type"] == "text_link" and e["url"].startswith("https://esante.example/")
                   for e in message.entities)
        assert message.buttons and all(url.startswith("https://t.me/relais_demo_bot?start=follow")
                                       for _, url in message.buttons)
        assert len(message.text.encode("utf-16-le")) // 2 <= 600  # the demo's Telegram profile

    assert all(status.language == "fr" and status.visibility == "public" for status in first.mastodon)
    warned = [s for s in first.mastodon if s.spoiler_text]
    assert [s.spoiler_text for s in warned] == [f"Avertissement{NBSP}: suicide"]
    assert "3114" in warned[0].text
    assert first.mastodon[0].media and first.mastodon[0].media[0][1].startswith("Capture d’écran")
    assert all(mastodon_length(s.text, s.spoiler_text) <= 500 for s in first.mastodon)

    printed = capsys.readouterr().out
    assert "Telegram → @relais_demo" in printed and f"CW: Avertissement{NBSP}: suicide" in printed
    assert "14 of 14 publications sent now" in printed

    # Again, on the same database, with brand-new platforms: nothing reaches them.
    second = await demo.run_demo(database_url)
    assert second.imported.not_modified
    assert second.telegram == () and second.mastodon == ()
    assert second.published_now == 0 and second.already_published == 14
    assert [r.remote_id for r in second.rows] == [r.remote_id for r in first.rows]

    # And through the command line: exit 0, "already published", no panel of received messages.
    code = await asyncio.to_thread(main, ["--database", database_url, "demo"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "already published" in printed and "Nothing new to publish" in printed
    assert "What Telegram received" not in printed

    async with empty_engine.connect() as conn:
        posts = await conn.scalar(select(func.count()).select_from(Post).where(Post.source == demo.SAMPLE_SOURCE))
        states = (await conn.execute(select(Publication.state))).scalars().all()
    assert posts == 7 and states == [PublicationState.SENT] * 14


def test_demo_without_its_extra_names_the_install_command(monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mastodon_mock" else real(name, *a))
    assert main(["demo"]) == 2
    error = capsys.readouterr().err
    assert "mastodon_mock missing" in error and "pip install 'relais[demo]'" in error


@pytest.mark.parametrize("text", ["Bonjour 👋 #IA et l’#anxiété", "👨‍👩‍👧 famille : #Santé"])
def test_telegram_entities_are_styled_at_their_utf16_offsets(text: str) -> None:
    start = text.index("#")
    end = text.find(" ", start) if " " in text[start:] else len(text)
    offset = len(text[:start].encode("utf-16-le")) // 2  # emoji before the tag count twice
    length = len(text[start:end].encode("utf-16-le")) // 2
    shown = demo_cli.styled(text, [{"type": "hashtag", "offset": offset, "length": length}])
    [span] = shown.spans
    assert shown.plain[span.start:span.end] == text[start:end] and span.style == "cyan"
