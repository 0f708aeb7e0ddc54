"""The send path for volume: ``sendMessage``/``sendPhoto`` as JSON over one pooled aiohttp session.

python-telegram-bot costs about 1.3–1.7 ms of CPU per message before any bookkeeping (httpx
checks every pooled connection per request; ``de_json`` builds a full ``Message``), more than
the whole 1 ms budget of issue 12. This sender posts the JSON itself and reads back only what
the outbox records: the message id and the chat's username (for the ``t.me`` link). An
``ok: false`` answer is classified by ``bot.publish.classify.classify_answer`` (the same rules
as PTB's exceptions) and raised as ``RetryableError``/``PermanentError``. PTB stays for the
chat (updates, handlers) and for edits and deletes, which are rare.

The request URL carries the bot token: no error text built here quotes it (``_hide``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.errors import PublishError
from bot.format.model import TelegramRender
from bot.publish.classify import classify_answer, classify_network

# Enough connections for the sends in flight at the paid-broadcast rate over a real network
# (1000/s × ~0.1 s round trip), matching the worker's default in-flight cap.
CONNECTIONS = 100
TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10)


@dataclass(frozen=True, slots=True)
class SentMessage:
    remote_id: str
    remote_url: str | None


def follow_markup(render: TelegramRender, bot_username: str) -> dict[str, Any] | None:
    """The render's buttons as one row (the Bot API's InlineKeyboardMarkup): its callback buttons
    (a reader notification's "unfollow"), else its follow buttons as deep links to this bot."""
    if render.callback_buttons:
        return {"inline_keyboard": [[{"text": label, "callback_data": data} for label, data in render.callback_buttons]]}
    if not render.follow_buttons:
        return None
    row = [{"text": b.label, "url": f"https://t.me/{bot_username}?start={b.payload}"} for b in render.follow_buttons]
    return {"inline_keyboard": [row]}


def send_request(chat: str, render: TelegramRender, bot_username: str, *,
                 allow_paid_broadcast: bool = False) -> tuple[str, dict[str, Any]]:
    """(method, JSON body) for one render: sendPhoto with a caption, else sendMessage."""
    body: dict[str, Any] = {"chat_id": chat, "parse_mode": render.parse_mode}
    markup = follow_markup(render, bot_username)
    if markup is not None:
        body["reply_markup"] = markup
    if allow_paid_broadcast:
        body["allow_paid_broadcast"] = True
    if render.photo:
        return "sendPhoto", {**body, "photo": render.photo, "caption": render.text}
    body["text"] = render.text
    preview = render.link_preview
    if preview is not None and preview.url:
        body["link_preview_options"] = {"url": preview.url, **({"prefer_large_media": True}
                                                               if preview.prefer_large_media else {})}
    return "sendMessage", body


def message_url(chat: str, result: dict[str, Any]) -> str | None:
    """https://t.me/<channel>/<id> for a public channel; None for a private chat or group."""
    username = (result.get("chat") or {}).get("username") or (chat[1:] if chat.startswith("@") else None)
    return f"https://t.me/{username}/{result['message_id']}" if username else None


class LeanTelegramSender:
    """Sends renders to Telegram; one instance (one connection pool) per event loop."""

    def __init__(self, token: str, *, base_url: str, connections: int = CONNECTIONS,
                 timeout: aiohttp.ClientTimeout = TIMEOUT) -> None:
        self._token = token
        self._endpoint = f"{base_url}{token}/"  # PTB's convention: base_url ends with "/bot"
        self._connections, self._timeout = connections, timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"LeanTelegramSender(connections={self._connections})"  # never the token

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=self._connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                                  json_serialize=_dumps, raise_for_status=False)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, chat: str, render: TelegramRender, *, bot_username: str,
                   allow_paid_broadcast: bool = False) -> SentMessage:
        method, body = send_request(chat, render, bot_username, allow_paid_broadcast=allow_paid_broadcast)
        result = await self.call(method, body)
        return SentMessage(str(result["message_id"]), message_url(chat, result))

    async def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one Bot API method; its ``result``, or a classified ``PublishError``."""
        if self._session is None:
            raise RuntimeError("LeanTelegramSender.start() must run before sending")
        try:
            async with self._session.post(self._endpoint + method, json=body) as response:
                status, raw = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise classify_network(exc, secret=self._token) from None
        return self._result(status, raw)

    def _result(self, status: int, raw: bytes) -> dict[str, Any]:
        try:
            answer = json.loads(raw)
        except ValueError:
            raise self._hide(classify_answer(status, None, f"unreadable answer (HTTP {status})")) from None
        if status == 200 and isinstance(answer, dict) and answer.get("ok"):
            result: dict[str, Any] = answer["result"]
            return result
        answer = answer if isinstance(answer, dict) else {}
        retry_after = (answer.get("parameters") or {}).get("retry_after")
        error = classify_answer(status, answer.get("error_code"), str(answer.get("description") or ""),
                                float(retry_after) if retry_after is not None else None)
        raise self._hide(error) from None

    def _hide(self, error: PublishError) -> PublishError:
        """The platform's words, minus the token should a proxy or server echo the URL."""
        if self._token and self._token in str(error):
            error.args = (str(error).replace(self._token, "***"),)
        return error


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
