"""The lean sender (JSON over aiohttp) against the Telegram sandbox: what it sends, how each failure is classified."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import PermanentError, RetryableError
from bot.format import Article, Profile, render_telegram
from bot.format.model import FollowButton, LinkPreview, TelegramRender
from bot.publish.classify import classify_network
from bot.publish.telegram_lean import LeanTelegramSender, send_request
from bot.sandbox import RateLimits, TelegramSandbox
from bot.tdlib import parse_html

BOT = "relais_sandbox_bot"
CHANNEL = "@sante_numerique"  # the channel every sandbox fixture has (tests/conftest.py)
RENDER = TelegramRender(
    text="<b>#Therabot</b> : un #chatbot qui améliore la #dépression, l’#anxiété… 🧠\n«\u00a0Une étude prudente\u00a0»",
    link_preview=LinkPreview("https://esante.example/therabot", prefer_large_media=True),
    follow_buttons=(FollowButton("Suivre #IA", "follow_ia"),),
)


@pytest.fixture
async def sender(sandbox: TelegramSandbox) -> AsyncIterator[LeanTelegramSender]:
    lean = LeanTelegramSender(sandbox.token, base_url=sandbox.base_url)
    await lean.start()
    yield lean
    await lean.stop()


async def send(sender: LeanTelegramSender, chat: str, render: TelegramRender = RENDER):
    return await sender.send(chat, render, bot_username=BOT)


async def test_a_message_goes_out_with_its_keyboard_and_link(sandbox, sender) -> None:
    sent = await send(sender, CHANNEL)
    [message] = sandbox.messages(CHANNEL)
    assert sent.remote_id == str(message.message_id)
    assert sent.remote_url == f"https://t.me/{CHANNEL[1:]}/{message.message_id}"
    plain, _ = parse_html(RENDER.text)  # TDLib reads the text as Telegram will
    assert message.text == plain
    [[button]] = message.reply_markup["inline_keyboard"]
    assert button == {"text": "Suivre #IA", "url": f"https://t.me/{BOT}?start=follow_ia"}


async def test_a_real_render_passes_tdlib_and_a_private_chat_has_no_link(sandbox, sender) -> None:
    reader = sandbox.add_user(5301, "Camille").id
    article = Article(title="L’#IA à l’hôpital : « un outil, pas un médecin » ! 🩺", url="https://esante.example/ia",
                      body_html="<p>Un #chatbot pour la #santémentale.</p>", language="fr")
    render = render_telegram(article, Profile(platform="telegram"))
    sent = await send(sender, str(reader), render)
    assert sent.remote_url is None
    assert sandbox.messages(reader)[0].text == parse_html(render.text)[0]


async def test_429_is_retryable_after_the_seconds_telegram_names(sandbox, sender) -> None:
    sandbox.limits = RateLimits(private_per_second=1)
    reader = str(sandbox.add_user(5302).id)
    await send(sender, reader)
    with pytest.raises(RetryableError) as caught:
        await send(sender, reader)
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    assert "Too Many Requests" in str(caught.value)


async def test_a_blocked_reader_is_permanent(sandbox, sender) -> None:
    reader = sandbox.add_user(5303).id
    sandbox.block(reader)
    with pytest.raises(PermanentError, match="blocked by the user"):
        await send(sender, str(reader))


@pytest.mark.parametrize("chat, render", [
    ("@nulle_part", RENDER),
    (CHANNEL, TelegramRender(text="<p>un paragraphe</p>")),  # HTML Telegram does not know
])
async def test_bad_requests_are_permanent(sender, chat, render) -> None:
    with pytest.raises(PermanentError, match="Bad Request"):
        await send(sender, chat, render)


async def test_5xx_is_retryable(sandbox, sender) -> None:
    sandbox.faults.fail(502, method="sendMessage")
    with pytest.raises(RetryableError) as caught:
        await send(sender, CHANNEL)
    assert caught.value.retry_after is None


async def failed_send(token: str, base_url: str) -> tuple[LeanTelegramSender, Exception]:
    """What sending with ``token`` to ``base_url`` raised (a retryable error is expected)."""
    lean = LeanTelegramSender(token, base_url=base_url)
    await lean.start()
    try:
        with pytest.raises(RetryableError) as caught:
            await send(lean, CHANNEL)
    finally:
        await lean.stop()
    return lean, caught.value


async def test_no_server_is_a_retryable_network_error_without_the_token() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8"
    lean, error = await failed_send(token, "http://127.0.0.1:9/bot")  # discard port: nobody listens
    assert "network error" in str(error)
    assert token not in str(error) and token not in repr(lean)


async def test_a_server_echoing_the_url_never_shows_the_token() -> None:
    async def echo(request: web.Request) -> web.Response:  # a misconfigured proxy quoting the request
        body = {"ok": False, "error_code": 502, "description": f"Bad Gateway: upstream failed for {request.url}"}
        return web.json_response(body, status=502)

    app = web.Application()
    app.router.add_post("/{path:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    token = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
    try:
        _, error = await failed_send(token, f"http://127.0.0.1:{port}/bot")
    finally:
        await runner.cleanup()
    assert "Bad Gateway" in str(error) and token not in str(error) and "***" in str(error)


TOKENS = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=8, max_size=60)


@given(token=TOKENS, status=st.sampled_from([400, 401, 403, 404, 429, 500, 502]))
def test_no_answer_ever_shows_the_token(token: str, status: int) -> None:
    lean = LeanTelegramSender(token, base_url="http://127.0.0.1:9/bot")
    body = {"ok": False, "error_code": status, "description": f"failed: /bot{token}/sendMessage",
            "parameters": {"retry_after": 3} if status == 429 else {}}
    with pytest.raises((RetryableError, PermanentError)) as caught:
        lean._result(status, json.dumps(body).encode())
    assert token not in str(caught.value)
    assert (status == 429) == (caught.value.retry_after == 3 if isinstance(caught.value, RetryableError) else False)


@given(token=TOKENS)
def test_no_network_error_ever_shows_the_token(token: str) -> None:
    error = classify_network(ConnectionError(f"cannot reach http://127.0.0.1:9/bot{token}/sendMessage"), secret=token)
    assert isinstance(error, RetryableError) and token not in str(error)


def test_the_request_is_the_bot_api_json() -> None:
    method, body = send_request("@canal", RENDER, BOT, allow_paid_broadcast=True)
    assert method == "sendMessage" and body["allow_paid_broadcast"] is True
    assert body["link_preview_options"] == {"url": "https://esante.example/therabot", "prefer_large_media": True}
    photo = TelegramRender(text="légende", photo="https://esante.example/therabot.png")
    method, body = send_request("@canal", photo, BOT)
    assert method == "sendPhoto" and body["caption"] == "légende" and "text" not in body
