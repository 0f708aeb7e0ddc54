"""python-telegram-bot persistence in OUR database: conversations, user_data and chat_data as JSON rows.

A ``/new`` draft in progress survives a restart (issue 10 item 2): PTB loads every
persistent ConversationHandler's states and the user/chat data at ``initialize`` and hands
changes back every ``update_interval`` seconds and at shutdown
(https://docs.python-telegram-bot.org/en/stable/telegram.ext.basepersistence.html). The
database is the single source of truth (DESIGN.md): no pickle file. ``bot_data`` is not
stored — it holds the App, bound in ``post_init`` — nor callback data (ours is plain strings).

What handlers keep in ``user_data``/``chat_data`` must be JSON (ints, strings, lists, dicts).
A crash (not a clean stop) loses at most the last ``update_interval`` of conversation steps;
the post itself is a row from the end of the text step on.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.store.models import ChatState

CONVERSATION, USER, CHAT = "conversation", "user", "chat"
UPDATE_INTERVAL = 2.0  # seconds between two writes of what changed (PTB's default is 60)

Data = dict[Any, Any]


def _key(key: ConversationKey) -> str:
    return json.dumps(list(key), separators=(",", ":"))


class DatabasePersistence(BasePersistence[Data, Data, Data]):
    """PTB's persistence interface over the ``chat_state`` table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, update_interval: float = UPDATE_INTERVAL) -> None:
        super().__init__(PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
                         update_interval=update_interval)
        self.sessions = sessions

    # --- reading, once at initialize
    async def _rows(self, kind: str, name: str = "") -> list[ChatState]:
        async with self.sessions() as session:
            query = select(ChatState).where(ChatState.kind == kind, ChatState.name == name)
            return list((await session.scalars(query)).all())

    async def get_conversations(self, name: str) -> ConversationDict:
        return {tuple(json.loads(row.key)): json.loads(row.data) for row in await self._rows(CONVERSATION, name)}

    async def get_user_data(self) -> dict[int, Data]:
        return {int(row.key): json.loads(row.data) for row in await self._rows(USER)}

    async def get_chat_data(self) -> dict[int, Data]:
        return {int(row.key): json.loads(row.data) for row in await self._rows(CHAT)}

    async def get_bot_data(self) -> Data:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    # --- writing what changed
    async def _put(self, kind: str, name: str, key: str, value: Any) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(ChatState, (kind, name, key))
            if value is None or value == {}:  # an ended conversation, emptied data: no row
                if row is not None:
                    await session.delete(row)
                return
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            if row is None:
                session.add(ChatState(kind=kind, name=name, key=key, data=text))
            elif row.data != text:
                row.data = text

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        await self._put(CONVERSATION, name, _key(key), new_state)

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._put(USER, "", str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._put(CHAT, "", str(chat_id), data)

    async def _drop(self, kind: str, key: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(delete(ChatState).where(ChatState.kind == kind, ChatState.key == str(key)))

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop(USER, user_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop(CHAT, chat_id)

    # --- the rest of the interface: nothing to do (one process owns the updates, see DESIGN.md)
    async def update_bot_data(self, data: Data) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Data) -> None:
        return None

    async def flush(self) -> None:
        return None  # every update is already committed
