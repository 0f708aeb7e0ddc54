"""TelegramPublisher over the real python-telegram-bot, against the sandbox."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.deeplinks import followed_tag_key
from bot.format.model import LinkPreview, TelegramRender
from bot.format.telegram import follow_row
from bot.publish.telegram import SentMessage, TelegramPublisher
from bot.sandbox import RateLimits, TelegramSandbox
from bot.settings import load_settings
from tests.conftest import CHANNEL

TEXT = ("<b>#Therabot : un #chatbot #IA qui améliore la #dépression</b>\n\n"
        "Une étude montre l’effet d’un agent conversationnel sur l’#anxiété.\n\n"
        "<a href=\"https://blog.example.fr/therabot\">Lire la suite</a>")
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def Render(follow_tags: tuple[str, ...] = (), **fields) -> TelegramRender:
    """The formatter's TelegramRender, with TEXT unless given, and the formatter's follow row."""
    buttons = follow_row(follow_tags, fields.get("language", "fr"))
    return TelegramRender(**{"text": TEXT, "follow_tags": follow_tags, "follow_buttons": buttons, **fields})


@pytest.fixture
async def publisher(sandbox: TelegramSandbox) -> AsyncIterator[TelegramPublisher]:
    settings = load_settings(env={"RELAIS_TELEGRAM__TOKEN": sandbox.token,
                                  "RELAIS_TELEGRAM__API_BASE_URL": sandbox.base_url})
    bot = telegram.Bot(sandbox.token, base_url=settings.telegram.api_base_url,
                       request=HTTPXRequest(read_timeout=0.3))
    async with TelegramPublisher.from_settings(settings, bot=bot) as running:
        yield running


async def test_send_text_with_preview_and_follow_buttons(sandbox: TelegramSandbox, publisher: TelegramPublisher) -> None:
    render = Render(link_preview=LinkPreview("https://blog.example.fr/therabot", prefer_large_media=True),
                    follow_tags=("IA", "dépression", "santé mentale", "anxiété", "chatbot"))
    sent = await publisher.send(CHANNEL, render)
    stored = sandbox.last_message(CHANNEL)
    assert sent == SentMessage(str(stored.message_id), f"https://t.me/sante_numerique/{stored.message_id}")
    assert stored.text.startswith("#Therabot : un #chatbot #IA") and "<b>" not in stored.text
    assert stored.link_preview_options == {"url": "https://blog.example.fr/therabot", "prefer_large_media": True}
    buttons = stored.url_buttons()
    # one row, the most relevant tags that fit; labels show the hashtag as written in posts,
    # the payload carries the tag key
    assert [len(row) for row in stored.reply_markup["inline_keyboard"]] == [2]
    assert [label for label, _ in buttons] == ["Suivre #IA", "Suivre #dépression"]
    for (_, url), key in zip(buttons, ("ia", "depression"), strict=True):
        parts = urlsplit(url)
        assert parts.netloc == "t.me" and parts.path == f"/{sandbox.bot_username}"
        assert followed_tag_key(parse_qs(parts.query)["start"][0]) == key


async def test_button_language_and_no_keyboard_without_tags(sandbox: TelegramSandbox,
                                                           publisher: TelegramPublisher) -> None:
    await publisher.send(CHANNEL, Render(language="en", follow_tags=("AI",)))
    assert sandbox.last_message(CHANNEL).url_buttons()[0][0] == "Follow #AI"
    await publisher.send(CHANNEL, Render())
    assert sandbox.last_message(CHANNEL).reply_markup is None
    assert sandbox.last_message(CHANNEL).link_preview_options is None


async def test_photo_is_sent_with_the_text_as_caption_and_edited_as_caption(
        sandbox: TelegramSandbox, publisher: TelegramPublisher) -> None:
    caption = "<b>#Therabot</b> : un #chatbot #IA"
    sent = await publisher.send(CHANNEL, Render(text=caption, photo="https://blog.example.fr/therabot.jpg",
                                                follow_tags=("IA",)))
    stored = sandbox.message(CHANNEL, int(sent.remote_id))
    assert stored.photo == "https://blog.example.fr/therabot.jpg" and stored.caption == "#Therabot : un #chatbot #IA"
    await publisher.edit(CHANNEL, sent.remote_id, Render(text="<b>#Therabot</b> (mis à jour)",
                                                         photo="https://blog.example.fr/therabot.jpg",
                                                         follow_tags=("IA",)))
    assert stored.caption == "#Therabot (mis à jour)" and stored.edits == 1
    assert stored.url_buttons()[0][0] == "Suivre #IA"


async def test_edit_text_message(sandbox: TelegramSandbox, publisher: TelegramPublisher) -> None:
    sent = await publisher.send(CHANNEL, Render(follow_tags=("IA",)))
    await publisher.edit(CHANNEL, sent.remote_id, Render(text="Article <i>corrigé</i> #IA"))
    stored = sandbox.message(CHANNEL, int(sent.remote_id))
    assert stored.text == "Article corrigé #IA" and stored.edited and stored.reply_markup is None
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await publisher.edit(CHANNEL, sent.remote_id, Render(text="Article <i>corrigé</i> #IA"))


async def test_delete_inside_and_outside_the_48_hour_window(
        sandbox: TelegramSandbox, publisher: TelegramPublisher, caplog: pytest.LogCaptureFixture) -> None:
    first = await publisher.send(CHANNEL, Render())
    second = await publisher.send(CHANNEL, Render())
    sent_at = sandbox.message(CHANNEL, 1).date
    assert await publisher.delete(CHANNEL, first.remote_id, sent_at, sent_at + timedelta(hours=47)) is True
    assert sandbox.message(CHANNEL, 1).deleted
    with caplog.at_level(logging.WARNING, logger="bot.publish.telegram"):
        late = await publisher.delete(CHANNEL, second.remote_id, sent_at, sent_at + timedelta(hours=48))
    assert late is False and not sandbox.message(CHANNEL, 2).deleted
    assert "more than 48 h ago" in caplog.text
    # the sandbox applies the same rule on its own clock
    sandbox.clock.advance(timedelta(hours=49))
    with pytest.raises(BadRequest, match="(?i)can't be deleted"):
        await publisher.delete(CHANNEL, second.remote_id, sandbox.clock.now(), sandbox.clock.now())


async def test_platform_errors_are_raised_as_ptb_exceptions(sandbox: TelegramSandbox,
                                                            publisher: TelegramPublisher) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await publisher.send("@inconnu_ici", Render())
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await publisher.send(CHANNEL, Render(text="<p>Un paragraphe</p>"))
    sandbox.add_user(5001, "Dominique")
    sandbox.block(5001)
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await publisher.send("5001", Render())
    sandbox.faults.fail(503, method="sendMessage")
    with pytest.raises(NetworkError):
        await publisher.send(CHANNEL, Render())
    sandbox.faults.delay(0.6, method="sendMessage")
    with pytest.raises(TimedOut):
        await publisher.send(CHANNEL, Render())
    sandbox.limits = RateLimits(group_per_minute=1)
    await publisher.send(CHANNEL, Render())
    with pytest.raises(RetryAfter) as caught:
        await publisher.send(CHANNEL, Render())
    assert caught.value.retry_after in (60, timedelta(seconds=60))


async def test_remote_url_for_channel_given_by_id_and_for_private_group(sandbox: TelegramSandbox,
                                                                       publisher: TelegramPublisher) -> None:
    channel_id = str(sandbox.chat(CHANNEL).id)
    sent = await publisher.send(channel_id, Render())
    assert sent.remote_url == f"https://t.me/sante_numerique/{sent.remote_id}"
    group = sandbox.add_channel("@groupe_prive", chat_type="supergroup")
    group.username = None
    assert (await publisher.send(str(group.id), Render())).remote_url is None
