"""Users send formatted text, photos and replies to forwarded messages; PTB reads them as from Telegram."""

from __future__ import annotations

import httpx
import telegram
from telegram import MessageOriginUser

from bot.sandbox import TelegramSandbox


async def test_formatting_photos_and_forwarded_replies_reach_ptb(sandbox: TelegramSandbox) -> None:
    camille = sandbox.add_user(7101, "Camille")
    sandbox.add_user(7102, "Lou")
    sandbox.inject_message(camille, "<b>Une étude</b> sur l’#IA, <a href=\"https://esante.example/a\">ici</a>",
                           parse_mode="HTML")
    sandbox.inject_photo(camille, "AgACtherabot")
    sandbox.inject_message(camille, "/grant", reply_to=sandbox.forwarded(camille, 7102, "Bonjour"))
    root = sandbox.base_url.removesuffix("/bot")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{root}/sandbox/updates", json={"kind": "photo", "user_id": 7101, "file_id": "AgACx"})
        assert response.status_code == 200
    async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        formatted, photo, reply, by_http = (u.message for u in await bot.get_updates())
    assert formatted.text == "Une étude sur l’#IA, ici"
    assert formatted.text_html == "<b>Une étude</b> sur l’#IA, <a href=\"https://esante.example/a\">ici</a>"
    assert [e.type for e in formatted.entities] == ["bold", "hashtag", "text_link"]
    assert photo.photo[-1].file_id == "AgACtherabot_1280" and photo.photo[-1].width == 1280
    assert isinstance(reply.reply_to_message.forward_origin, MessageOriginUser)
    assert reply.reply_to_message.forward_origin.sender_user.id == 7102
    assert by_http.photo[-1].file_id == "AgACx_1280"
