"""A real formatter render, sent by the real publisher (python-telegram-bot) to the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.request import HTTPXRequest

from bot.format import Article, Profile, render_telegram
from bot.publish.telegram import TelegramPublisher
from bot.sandbox import TelegramSandbox
from tests.conftest import CHANNEL

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
NB = "\u00a0"
ARTICLE = Article(
    title="Therabot : un chatbot IA qui apaise l’anxiété",
    body_html=f"<p>Une étude montre qu’un <b>chatbot</b> réduit l’anxiété de 30{NB}%{NB}! 🧑‍⚕️</p>" * 40,
    url="https://esante-blog.fr/therabot/?ref=rss",
    tags=("anxiété", "santé mentale", "IA"),
    language="en",
    image_url="https://esante-blog.fr/therabot.jpg",
)


@pytest.fixture
async def publisher(sandbox: TelegramSandbox) -> AsyncIterator[TelegramPublisher]:
    bot = telegram.Bot(sandbox.token, base_url=sandbox.base_url, request=HTTPXRequest(read_timeout=0.3))
    async with TelegramPublisher(bot) as running:
        yield running


@pytest.mark.parametrize("prefer_image", [False, True])
async def test_render_is_accepted_and_measured_as_telegram_measures(
    sandbox: TelegramSandbox, publisher: TelegramPublisher, prefer_image: bool
) -> None:
    render = render_telegram(ARTICLE, Profile(hashtag_style="inline", prefer_image=prefer_image, utm="utm_source=tg"))
    await publisher.send(CHANNEL, render)
    stored = sandbox.last_message(CHANNEL)
    assert stored.body is not None and len(stored.body.encode("utf-16-le")) // 2 == render.length
    assert render.length <= render.limit == (1024 if prefer_image else 4096)
    assert stored.body.startswith("Therabot : un chatbot #IA qui apaise l’#anxiété")
    assert stored.body.endswith("Read more\n\n#SantéMentale")
    # one row of the most relevant tags that fit uncut (a third label would make the row too long)
    assert [[b["text"] for b in row] for row in stored.reply_markup["inline_keyboard"]] == [
        ["Follow #anxiété", "Follow #SantéMentale"]]
    if prefer_image:
        assert stored.photo == "https://esante-blog.fr/therabot.jpg"
    else:
        assert stored.link_preview_options == {
            "url": "https://esante-blog.fr/therabot/?ref=rss&utm_source=tg", "prefer_large_media": True
        }
