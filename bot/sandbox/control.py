"""A small HTTP control API beside the Bot API, for a sandbox running in another process.

The demo (or a person with curl) plays the users and watches the channels:

    GET  /sandbox/messages[?chat=@name]   what the bot sent (edits and deletes included)
    GET  /sandbox/stats                   requests per method, 429 answers
    POST /sandbox/updates                 {"kind": "message", "user_id": 7, "text": "/start follow_ia"}
                                          {"kind": "message", "user_id": 7, "text": "<b>gras</b>", "parse_mode": "HTML"}
                                          {"kind": "photo", "user_id": 7, "file_id": "AgAC…"}
                                          {"kind": "callback_query", "user_id": 7, "data": "…",
                                           "chat": "@name", "message_id": 3}
                                          {"kind": "inline_query", "user_id": 7, "query": "therabot"}
                                          {"kind": "sticker", "user_id": 7}   (also "photo", "document")

In-process users (tests) call the TelegramSandbox methods directly instead.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.sandbox.server import TelegramSandbox

ATTACHMENTS = ("sticker", "photo", "document")  # the kinds TelegramSandbox.inject_attachment makes


def add_routes(app: web.Application, sandbox: TelegramSandbox) -> None:
    async def messages(request: web.Request) -> web.Response:
        try:
            found = sandbox.messages(request.query.get("chat"))
        except KeyError:
            return web.json_response({"error": "unknown chat"}, status=404)
        return web.json_response([_plain(asdict(m)) for m in found])

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": dict(sandbox.requests), "rejected_429": sandbox.rejected_429})

    async def updates(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            return web.json_response(_inject(sandbox, body))
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad update request: {exc!r}"}, status=400)

    app.router.add_get("/sandbox/messages", messages)
    app.router.add_get("/sandbox/stats", stats)
    app.router.add_post("/sandbox/updates", updates)


def _inject(sandbox: TelegramSandbox, body: dict[str, Any]) -> dict[str, Any]:
    kind, user = body["kind"], int(body["user_id"])
    if kind == "message":
        return sandbox.inject_message(user, str(body["text"]), chat=body.get("chat"), parse_mode=body.get("parse_mode"))
    if kind == "photo":
        return sandbox.inject_photo(user, str(body["file_id"]), caption=body.get("caption"))
    if kind == "callback_query":
        message = sandbox.message(body["chat"], int(body["message_id"])) if body.get("message_id") else None
        return sandbox.inject_callback_query(user, str(body["data"]), message=message)
    if kind in ATTACHMENTS:
        return sandbox.inject_attachment(user, kind, chat=body.get("chat"))
    if kind == "inline_query":
        return sandbox.inject_inline_query(user, str(body["query"]))
    raise ValueError(f"unknown kind {kind!r}")


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in record.items()}
