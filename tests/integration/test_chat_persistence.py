"""PTB persistence in the chat_state table: what one Application writes, the next one reads."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.chat.persistence import DatabasePersistence
from bot.store.models import ChatState


async def test_conversations_and_user_and_chat_data_round_trip(sessions) -> None:
    first = DatabasePersistence(sessions)
    await first.update_conversation("new_post", (5002, 5002), 3)
    await first.update_conversation("new_post", (-100, 7), 1)
    await first.update_conversation("other", (5002, 5002), 0)
    await first.update_user_data(5002, {"new": {"post_id": 12, "title": "L’#IA « en vrai » 🧠"}})
    await first.update_chat_data(5002, {"seen": [1, 2]})
    await first.update_user_data(5003, {})  # nothing to keep: no row

    second = DatabasePersistence(sessions)
    assert await second.get_conversations("new_post") == {(5002, 5002): 3, (-100, 7): 1}
    assert await second.get_user_data() == {5002: {"new": {"post_id": 12, "title": "L’#IA « en vrai » 🧠"}}}
    assert await second.get_chat_data() == {5002: {"seen": [1, 2]}}
    assert await second.get_bot_data() == {} and await second.get_callback_data() is None

    await second.update_conversation("new_post", (5002, 5002), None)  # the conversation ended
    await second.update_user_data(5002, {"new": {"post_id": 13}})
    await second.drop_chat_data(5002)
    assert await second.get_conversations("new_post") == {(-100, 7): 1}
    assert await second.get_user_data() == {5002: {"new": {"post_id": 13}}}
    assert await second.get_chat_data() == {}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatState)) == 3
