"""What the emulator remembers: chats, users, messages sent by the bot, pending updates."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status = error_code, and a description."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None  # without '@'
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    blocked_bot: bool = False  # a private chat whose user blocked the bot

    def as_chat(self) -> dict[str, Any]:
        fields = {"title": self.title, "username": self.username,
                  "first_name": self.first_name, "last_name": self.last_name}
        return {"id": self.id, "type": self.type, **{k: v for k, v in fields.items() if v}}

    def as_user(self) -> dict[str, Any]:
        fields = {"last_name": self.last_name, "username": self.username, "language_code": self.language_code}
        return {"id": self.id, "is_bot": False, "first_name": self.first_name or str(self.id),
                **{k: v for k, v in fields.items() if v}}


@dataclass
class Message:
    """One message the bot sent, as the sandbox stores it (public for inspection)."""

    chat_id: int
    message_id: int
    date: datetime
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    photo: str | None = None  # URL or file_id given, or "upload:<filename>"
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None
    sent_html: str | None = None  # the text/caption exactly as the client sent it
    edit_date: datetime | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def edited(self) -> bool:
        return self.edits > 0

    @property
    def body(self) -> str | None:
        """Text of a text message, caption of a photo."""
        return self.caption if self.photo is not None else self.text

    def url_buttons(self) -> list[tuple[str, str]]:
        """(label, url) of every URL button of the inline keyboard."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b["url"]) for row in rows for b in row if "url" in b]


@dataclass
class Answer:
    """An answerCallbackQuery / answerInlineQuery call, recorded."""

    query_id: str
    params: dict[str, Any]


@dataclass
class State:
    chats: dict[int, Chat] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    callback_answers: list[Answer] = field(default_factory=list)
    inline_answers: list[Answer] = field(default_factory=list)
    open_queries: dict[str, Literal["callback", "inline"]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    _next_message_id: dict[int, int] = field(default_factory=dict)
    _next_update_id: itertools.count = field(default_factory=lambda: itertools.count(100_000_001))
    _next_channel_id: itertools.count = field(default_factory=lambda: itertools.count(1_001_000_000_001))
    _next_query_id: itertools.count = field(default_factory=lambda: itertools.count(4_000_000_001))

    def add_channel(self, username: str, title: str | None = None, chat_type: ChatType = "channel") -> Chat:
        name = username.removeprefix("@")
        chat = Chat(id=-next(self._next_channel_id), type=chat_type, title=title or name, username=name)
        self.chats[chat.id] = chat
        return chat

    def add_user(self, user_id: int, first_name: str = "Camille", *, username: str | None = None,
                 language_code: str | None = "fr", last_name: str | None = None) -> Chat:
        chat = self.chats.get(user_id) or Chat(id=user_id, type="private")
        chat.first_name, chat.username, chat.language_code, chat.last_name = first_name, username, language_code, last_name
        self.chats[user_id] = chat
        return chat

    def resolve(self, chat_id: int | str | None) -> Chat:
        """The chat a chat_id parameter names, as the server does: 400 when unknown."""
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        text = str(chat_id)
        if text.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == text[1:].lower() and chat.type != "private":
                    return chat
            raise ApiError(400, "Bad Request: chat not found")
        try:
            found = self.chats.get(int(text))
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None
        if found is None:
            raise ApiError(400, "Bad Request: chat not found")
        return found

    def new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    def find(self, chat_id: int, message_id: int) -> Message | None:
        for message in reversed(self.messages):
            if message.chat_id == chat_id and message.message_id == message_id:
                return message
        return None

    def new_query_id(self, kind: Literal["callback", "inline"]) -> str:
        query_id = str(next(self._next_query_id))
        self.open_queries[query_id] = kind
        return query_id

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._next_update_id), kind: payload}
        self.updates.append(update)
        return update
