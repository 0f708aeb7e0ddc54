"""The Bot API methods the emulator answers, with the real server's checks and error texts.

Each method takes the request parameters (already decoded: JSON-valued fields are Python
objects) and returns the ``result`` or raises :class:`ApiError`. Reference:
https://core.telegram.org/bots/api#available-methods
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.sandbox import text as tgtext
from bot.sandbox.state import Answer, ApiError, Chat, Message, State

DELETE_WINDOW = timedelta(hours=48)  # https://core.telegram.org/bots/api#deletemessage
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


@dataclass
class Context:
    state: State
    me: dict[str, Any]
    now: Callable[[], datetime]


def _message_id(params: dict[str, Any]) -> int:
    value = params.get("message_id")
    if value is None or value == "":
        raise ApiError(400, "Bad Request: message identifier is not specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "Bad Request: invalid message identifier specified") from None


def flag(params: dict[str, Any], name: str) -> bool:
    return str(params.get(name, "")).lower() in ("true", "1")


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup in (None, ""):
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
            if "url" in button and not re.match(r"(https?|tg)://\S+$", button["url"]):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _check_writable(chat: Chat) -> None:
    if chat.blocked_bot:
        raise ApiError(403, "Forbidden: bot was blocked by the user")


def message_json(ctx: Context, message: Message) -> dict[str, Any]:
    chat = ctx.state.chats[message.chat_id]
    result: dict[str, Any] = {"message_id": message.message_id, "date": int(message.date.timestamp()),
                              "chat": chat.as_chat()}
    if chat.type == "channel":
        result["sender_chat"] = chat.as_chat()
    else:
        result["from"] = ctx.me
    if message.photo is not None:
        unique = f"AQAD{abs(hash(message.photo)) % 10**8}"
        result["photo"] = [{"file_id": message.photo if not message.photo.startswith("http") else f"AgAC{unique}",
                            "file_unique_id": unique, "width": 1280, "height": 720, "file_size": 90_000}]
        if message.caption:
            result["caption"] = message.caption
            if message.caption_entities:
                result["caption_entities"] = message.caption_entities
    else:
        result["text"] = message.text
        if message.entities:
            result["entities"] = message.entities
        if message.link_preview_options:
            result["link_preview_options"] = message.link_preview_options
    if message.reply_markup:
        result["reply_markup"] = message.reply_markup
    if message.edit_date:
        result["edit_date"] = int(message.edit_date.timestamp())
    return result


def _preview(params: dict[str, Any]) -> dict[str, Any] | None:
    options = params.get("link_preview_options")
    if isinstance(options, dict):
        return options
    if flag(params, "disable_web_page_preview"):
        return {"is_disabled": True}
    return None


def get_me(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return ctx.me


def send_message(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    chat = ctx.state.resolve(params.get("chat_id"))
    _check_writable(chat)
    text = params.get("text")
    if text in (None, ""):
        raise ApiError(400, "Bad Request: message text is empty")
    plain, entities = _parse(str(text), params, "entities", caption=False)
    message = Message(chat_id=chat.id, message_id=ctx.state.new_message_id(chat.id), date=ctx.now(),
                      text=plain, entities=entities, reply_markup=_check_markup(params.get("reply_markup")),
                      link_preview_options=_preview(params), sent_html=str(text))
    ctx.state.messages.append(message)
    return message_json(ctx, message)


def send_photo(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    chat = ctx.state.resolve(params.get("chat_id"))
    _check_writable(chat)
    photo = params.get("photo")
    if not photo:
        raise ApiError(400, "Bad Request: there is no photo in the request")
    if isinstance(photo, str) and not re.match(r"https?://\S+$|AgAC\w+$|upload:", photo):
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    caption = params.get("caption")
    plain, entities = _parse(str(caption), params, "caption_entities", caption=True) if caption else ("", [])
    message = Message(chat_id=chat.id, message_id=ctx.state.new_message_id(chat.id), date=ctx.now(),
                      photo=str(photo), caption=plain or None,
                      caption_entities=entities, reply_markup=_check_markup(params.get("reply_markup")),
                      sent_html=caption)
    ctx.state.messages.append(message)
    return message_json(ctx, message)


def _parse(body: str, params: dict[str, Any], entities_key: str, *, caption: bool) -> tuple[str, list[dict[str, Any]]]:
    explicit = params.get(entities_key)
    try:
        return tgtext.parse(body, params.get("parse_mode"), explicit=explicit if isinstance(explicit, list) else None,
                            limit=tgtext.CAPTION_LIMIT if caption else tgtext.TEXT_LIMIT, caption=caption)
    except tgtext.TextError as exc:
        raise ApiError(400, str(exc)) from None


def _target(ctx: Context, params: dict[str, Any], missing: str) -> Message:
    if params.get("inline_message_id"):
        raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # inline messages: not emulated
    chat = ctx.state.resolve(params.get("chat_id"))
    message = ctx.state.find(chat.id, _message_id(params))
    if message is None or message.deleted:
        raise ApiError(400, f"Bad Request: message to {missing} not found")
    return message


def _finish_edit(ctx: Context, message: Message, changed: bool) -> dict[str, Any]:
    if not changed:
        raise ApiError(400, NOT_MODIFIED)
    message.edits += 1
    message.edit_date = ctx.now()
    return message_json(ctx, message)


def edit_message_text(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    message = _target(ctx, params, "edit")
    if message.photo is not None:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    text = params.get("text")
    if text in (None, ""):
        raise ApiError(400, "Bad Request: message text is empty")
    plain, entities = _parse(str(text), params, "entities", caption=False)
    markup = _check_markup(params.get("reply_markup"))
    preview = _preview(params)
    changed = (plain, entities, markup) != (message.text, message.entities, message.reply_markup)
    message.text, message.entities, message.reply_markup, message.sent_html = plain, entities, markup, str(text)
    message.link_preview_options = preview or message.link_preview_options
    return _finish_edit(ctx, message, changed)


def edit_message_caption(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    message = _target(ctx, params, "edit")
    if message.photo is None:
        raise ApiError(400, "Bad Request: there is no caption in the message to edit")
    caption = params.get("caption") or ""
    plain, entities = _parse(str(caption), params, "caption_entities", caption=True) if caption else ("", [])
    markup = _check_markup(params.get("reply_markup"))
    changed = (plain or None, entities, markup) != (message.caption, message.caption_entities, message.reply_markup)
    message.caption, message.caption_entities, message.reply_markup = plain or None, entities, markup
    message.sent_html = caption
    return _finish_edit(ctx, message, changed)


def edit_message_reply_markup(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    message = _target(ctx, params, "edit")
    markup = _check_markup(params.get("reply_markup"))
    changed = markup != message.reply_markup
    message.reply_markup = markup
    return _finish_edit(ctx, message, changed)


def delete_message(ctx: Context, params: dict[str, Any]) -> bool:
    message = _target(ctx, params, "delete")
    if ctx.now() - message.date > DELETE_WINDOW:
        raise ApiError(400, "Bad Request: message can't be deleted")
    message.deleted = True
    return True


def get_chat(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    chat = ctx.state.resolve(params.get("chat_id"))
    gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
             "premium_subscription": False, "gifts_from_channels": False}
    return {**chat.as_chat(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


def send_chat_action(ctx: Context, params: dict[str, Any]) -> bool:
    chat = ctx.state.resolve(params.get("chat_id"))
    _check_writable(chat)
    action = params.get("action")
    if action not in CHAT_ACTIONS:
        raise ApiError(400, "Bad Request: wrong parameter action in request")
    ctx.state.chat_actions.append((chat.id, action))
    return True


def _scope_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    return f"{scope.get('type')}:{scope.get('chat_id', '')}:{params.get('language_code') or ''}"


def set_my_commands(ctx: Context, params: dict[str, Any]) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    for command in commands:
        if not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: command description must be non-empty")
    ctx.state.commands[_scope_key(params)] = commands
    return True


def get_my_commands(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    return ctx.state.commands.get(_scope_key(params), [])


def _answer(ctx: Context, params: dict[str, Any], kind: str) -> bool:
    query_id = str(params.get("callback_query_id" if kind == "callback" else "inline_query_id", ""))
    if ctx.state.open_queries.pop(query_id, None) != kind:
        raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
    answers = ctx.state.callback_answers if kind == "callback" else ctx.state.inline_answers
    answers.append(Answer(query_id, {k: v for k, v in params.items() if not k.endswith("query_id")}))
    return True


def answer_callback_query(ctx: Context, params: dict[str, Any]) -> bool:
    return _answer(ctx, params, "callback")


def answer_inline_query(ctx: Context, params: dict[str, Any]) -> bool:
    if not isinstance(params.get("results"), list) or len(params["results"]) > 50:
        raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH" if isinstance(params.get("results"), list)
                       else "Bad Request: can't parse inline query results JSON object")
    return _answer(ctx, params, "inline")


def set_webhook(ctx: Context, params: dict[str, Any]) -> bool:
    url = params.get("url") or ""
    if url and not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        # The real server wants HTTPS; the sandbox also accepts loopback HTTP for local runs.
        raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters")
    if flag(params, "drop_pending_updates"):
        ctx.state.updates.clear()
    ctx.state.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")} if url else {}
    return True


def delete_webhook(ctx: Context, params: dict[str, Any]) -> bool:
    if flag(params, "drop_pending_updates"):
        ctx.state.updates.clear()
    ctx.state.webhook = {}
    return True


def get_webhook_info(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"url": ctx.state.webhook.get("url", ""), "has_custom_certificate": False,
                            "pending_update_count": len(ctx.state.updates)}
    for key in ("last_error_date", "last_error_message", "allowed_updates"):
        if ctx.state.webhook.get(key):
            info[key] = ctx.state.webhook[key]
    return info


METHODS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
    "getme": get_me,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "getchat": get_chat,
    "sendchataction": send_chat_action,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "answercallbackquery": answer_callback_query,
    "answerinlinequery": answer_inline_query,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
}
SENDING = {"sendmessage", "sendphoto"}  # the methods the broadcasting limits count
# Parameters the Bot API takes as JSON-serialized objects (form bodies carry them as strings).
JSON_FIELDS = {"reply_markup", "link_preview_options", "entities", "caption_entities", "allowed_updates",
               "commands", "scope", "results", "button", "reply_parameters"}
