"""The sandbox answers the real python-telegram-bot like the Bot API server would."""

from __future__ import annotations

import html
from datetime import timedelta

import httpx
import pytest
import telegram
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from bot.sandbox import TelegramSandbox
from tests.conftest import CHANNEL

POST = ("<b>#Therabot</b> : un #chatbot #IA qui améliore la #dépression, l’#anxiété… "
        "<a href=\"https://blog.example.fr/therabot\">Lire la suite</a> 🧠")


async def test_html_is_parsed_by_tdlib_and_hashtags_detected(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    sent = await bot.send_message(CHANNEL, POST, parse_mode="HTML")
    stored = sandbox.last_message(CHANNEL)
    assert stored.text == sent.text
    assert stored.text.startswith("#Therabot : un #chatbot #IA")
    assert "<b>" not in stored.text and "Lire la suite" in stored.text
    kinds = {(e.type, sent.parse_entity(e)) for e in sent.entities}
    assert ("bold", "#Therabot") in kinds
    assert ("text_link", "Lire la suite") in kinds
    # Telegram's own hashtag rules: l’#anxiété is a tag, the apostrophe is not part of it.
    assert {text for kind, text in kinds if kind == "hashtag"} == {
        "#Therabot", "#chatbot", "#IA", "#dépression", "#anxiété"}
    assert sent.chat.username == "sante_numerique" and sent.sender_chat is not None


@pytest.mark.parametrize(("markup", "error"), [
    ("<p>Bonjour</p>", "unsupported start tag \"p\""),
    ("<b>gras", "can't find end tag corresponding to start tag \"b\""),
    ("1 < 2 & 3", "can't parse entities"),
])
async def test_invalid_html_is_rejected_like_telegram(bot: telegram.Bot, sandbox: TelegramSandbox,
                                                      markup: str, error: str) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities") as caught:
        await bot.send_message(CHANNEL, markup, parse_mode="HTML")
    assert error.lower() in caught.value.message.lower()
    assert sandbox.messages(CHANNEL) == []


async def test_limits_count_utf16_units_after_parsing(bot: telegram.Bot, sandbox: TelegramSandbox) -> None:
    # 5000 characters of markup, 4096 once parsed: accepted.
    markup = "<b>" + "é" * 4000 + "</b>" + "<i>" + "x" * 96 + "</i>" + "<u></u>" * 128
    assert len(markup) > 5000
    await bot.send_message(CHANNEL, markup, parse_mode="HTML")
    assert len(sandbox.last_message(CHANNEL).text) == 4096
    # 2049 emoji are 2049 characters for Python but 4098 UTF-16 units for Telegram.
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHANNEL, "🧠" * 2049)
    await bot.send_message(CHANNEL, "🧠" * 2048)
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_photo(CHANNEL, "https://blog.example.fr/a.jpg", caption="<b>" + "a" * 1025 + "</b>",
                             parse_mode="HTML")
    await bot.send_photo(CHANNEL, "https://blog.example.fr/a.jpg", caption="<b>" + "a" * 1024 + "</b>",
                         parse_mode="HTML")
    assert sandbox.last_message(CHANNEL).caption == "a" * 1024


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300).filter(str.strip))
async def test_escaped_text_round_trips(bot: telegram.Bot, sandbox: TelegramSandbox, body: str) -> None:
    sent = await bot.send_message(CHANNEL, html.escape(body), parse_mode="HTML")
    assert sent.text == body
    for entity in sent.entities:  # offsets are valid UTF-16 positions inside the text
        assert entity.offset >= 0 and entity.offset + entity.length <= len(body.encode("utf-16-le")) // 2


async def test_photo_by_url_and_upload_with_keyboard(bot: telegram.Bot, sandbox: TelegramSandbox) -> None:
    keyboard = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("Suivre #IA", url="https://t.me/b?start=follow_ia")]])
    sent = await bot.send_photo(CHANNEL, "https://blog.example.fr/therabot.jpg", caption="<i>l’#IA</i>",
                                parse_mode="HTML", reply_markup=keyboard)
    assert sent.photo and sent.caption == "l’#IA"
    assert sent.reply_markup == keyboard
    await bot.send_photo(CHANNEL, b"\x89PNG\r\n\x1a\n fake image bytes", caption="envoi")
    stored = sandbox.last_message(CHANNEL)
    assert stored.photo is not None and stored.photo.startswith("upload:") and stored.caption == "envoi"
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(CHANNEL, "pas une URL")


async def test_unknown_chat_blocked_user_and_unknown_method(bot: telegram.Bot, sandbox: TelegramSandbox) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message("@personne_ici", "Bonjour")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(42, "Bonjour")
    sandbox.add_user(42, "Camille")
    await bot.send_message(42, "Bonjour Camille !")
    sandbox.block(42)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(42, "Toujours là ?")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    assert await bot.do_api_request("SENDCHATACTION", {"chat_id": CHANNEL, "action": "typing"}) is True


async def test_wrong_token_is_unauthorized(sandbox: TelegramSandbox) -> None:
    with pytest.raises(InvalidToken):
        async with telegram.Bot("987654:wrong-token-wrong-token-wrong", base_url=sandbox.base_url):
            pass


async def test_json_and_form_bodies_are_both_accepted(sandbox: TelegramSandbox) -> None:
    url = f"{sandbox.base_url}{sandbox.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Lire", "url": "https://blog.example.fr/"}]]}
    async with httpx.AsyncClient() as client:
        as_json = await client.post(url, json={"chat_id": CHANNEL, "text": "<i>json</i>", "parse_mode": "HTML",
                                               "reply_markup": markup})
        as_form = await client.post(url, data={"chat_id": CHANNEL, "text": "form",
                                               "reply_markup": '{"inline_keyboard": []}'})
        bad = await client.post(url, json={"chat_id": CHANNEL, "text": "<p>x</p>", "parse_mode": "HTML"})
    assert as_json.json()["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 4}]
    assert as_form.json()["ok"] is True
    assert sandbox.messages(CHANNEL)[0].reply_markup == markup
    assert bad.status_code == 400
    assert bad.json() == {"ok": False, "error_code": 400,
                          "description": "Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 0"}


async def test_edits_and_deletes_within_48_hours(bot: telegram.Bot, sandbox: TelegramSandbox) -> None:
    first = await bot.send_message(CHANNEL, "Version 1 #IA")
    edited = await bot.edit_message_text("<b>Version 2</b> #IA", CHANNEL, first.message_id, parse_mode="HTML")
    assert edited.text == "Version 2 #IA" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("<b>Version 2</b> #IA", CHANNEL, first.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)there is no caption in the message to edit"):
        await bot.edit_message_caption(CHANNEL, first.message_id, caption="légende")
    photo = await bot.send_photo(CHANNEL, "https://blog.example.fr/a.jpg", caption="avant")
    with pytest.raises(BadRequest, match="(?i)there is no text in the message to edit"):
        await bot.edit_message_text("après", CHANNEL, photo.message_id)
    assert (await bot.edit_message_caption(CHANNEL, photo.message_id, caption="après")).caption == "après"
    stored = sandbox.message(CHANNEL, first.message_id)
    assert stored.edited and stored.edits == 1 and stored.text == "Version 2 #IA"

    sandbox.clock.advance(timedelta(hours=47, minutes=59))
    assert await bot.delete_message(CHANNEL, first.message_id) is True
    assert sandbox.message(CHANNEL, first.message_id).deleted
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(CHANNEL, first.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("trop tard", CHANNEL, first.message_id)
    sandbox.clock.advance(timedelta(minutes=2))
    with pytest.raises(BadRequest, match="(?i)message can't be deleted"):
        await bot.delete_message(CHANNEL, photo.message_id)
    assert not sandbox.message(CHANNEL, photo.message_id).deleted
    assert [m.message_id for m in sandbox.messages(CHANNEL, include_deleted=False)] == [photo.message_id]


async def test_chat_info_commands_and_link_preview(bot: telegram.Bot, sandbox: TelegramSandbox) -> None:
    chat = await bot.get_chat(CHANNEL)
    assert chat.type == "channel" and chat.title == "Santé numérique"
    commands = [telegram.BotCommand("start", "Démarrer"), telegram.BotCommand("suivre", "Suivre un #tag")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    with pytest.raises(BadRequest):
        await bot.set_my_commands([telegram.BotCommand("Pas-Valide", "x")])
    options = telegram.LinkPreviewOptions(url="https://blog.example.fr/therabot", prefer_large_media=True)
    sent = await bot.send_message(CHANNEL, "Lien https://blog.example.fr/therabot", link_preview_options=options)
    assert sent.link_preview_options == options
    assert sandbox.last_message(CHANNEL).link_preview_options == {
        "url": "https://blog.example.fr/therabot", "prefer_large_media": True}


_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                            max_leaves=8)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["sendMessage", "sendPhoto", "editMessageText", "deleteMessage", "getUpdates",
                               "setMyCommands", "answerInlineQuery", "editMessageReplyMarkup"]),
       params=st.dictionaries(st.sampled_from(["chat_id", "text", "photo", "message_id", "parse_mode", "offset",
                                               "reply_markup", "commands", "results", "inline_query_id",
                                               "caption", "entities", "timeout"]), _json_values, max_size=6))
async def test_malformed_requests_get_a_4xx_never_a_crash(sandbox: TelegramSandbox, method: str,
                                                          params: dict) -> None:  # type: ignore[type-arg]
    params.setdefault("chat_id", CHANNEL)
    params["timeout"] = 0
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{sandbox.base_url}{sandbox.token}/{method}", json=params)
    assert answer.status_code in (200, 400, 403, 404, 409), answer.text
    assert answer.json()["ok"] is (answer.status_code == 200)
