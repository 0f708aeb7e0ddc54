"""`python -m bot.sandbox` serves the Bot API standalone (the demo runs it this way)."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys

import httpx
import telegram

from bot.sandbox import DEFAULT_TOKEN, TelegramSandbox


def test_standalone_server_answers_and_never_logs_the_token() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--port", "0", "--channel", "@sante_numerique"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        base_url = banner.split("base_url=")[1].split()[0]
        with httpx.Client() as client:
            me = client.get(f"{base_url}{DEFAULT_TOKEN}/getMe").json()
            refused = client.post(f"{base_url}{DEFAULT_TOKEN}/sendMessage",
                                  data={"chat_id": "@inconnu", "text": "Bonjour"})
            sent = client.post(f"{base_url}{DEFAULT_TOKEN}/sendMessage",
                               data={"chat_id": "@sante_numerique", "text": "Bonjour #IA"})
            root = base_url.removesuffix("/bot")
            watched = client.get(f"{root}/sandbox/messages", params={"chat": "@sante_numerique"}).json()
            injected = client.post(f"{root}/sandbox/updates",
                                   json={"kind": "message", "user_id": 7, "text": "/start follow_ia"}).json()
            polled = client.get(f"{base_url}{DEFAULT_TOKEN}/getUpdates").json()["result"]
            stats = client.get(f"{root}/sandbox/stats").json()
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=5)
    assert me["ok"] and me["result"]["is_bot"]
    assert refused.status_code == 400 and sent.json()["result"]["message_id"] == 1
    assert watched[0]["text"] == "Bonjour #IA" and watched[0]["entities"][0]["type"] == "hashtag"
    assert polled == [injected] and polled[0]["message"]["entities"][0]["type"] == "bot_command"
    assert stats["requests"]["sendmessage"] == 2
    assert "sendmessage chat=@inconnu → 400 Bad Request: chat not found" in errors
    assert DEFAULT_TOKEN not in errors and DEFAULT_TOKEN.split(":")[1] not in banner + errors


async def test_in_process_logs_hold_no_token(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    async with TelegramSandbox() as sandbox:
        async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as bot:
            await bot.get_me()
            with contextlib.suppress(telegram.error.BadRequest):
                await bot.send_message("@nulle_part", "x")
    sandbox_lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.sandbox")]
    assert any("chat not found" in line for line in sandbox_lines)
    assert not any(sandbox.token.split(":")[1] in line for line in sandbox_lines)
