"""Drive the real chat Application against the sandbox: inject an update, fetch it with getUpdates, process it.

Each step waits for its own update to be fully handled (``process_update`` awaits the
handlers), so tests never sleep or race the clock; ``now`` is the injected clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from telegram.ext import Application

from bot.app import App, build_chat_application
from bot.sandbox import Message, TelegramSandbox


class ChatDriver:
    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], sandbox: TelegramSandbox) -> None:
        self.application, self.sandbox = application, sandbox
        self.offset = 0

    async def pump(self) -> int:
        """Process every pending update, in order; returns how many."""
        updates = await self.application.bot.get_updates(offset=self.offset, timeout=0)
        for update in updates:
            await self.application.process_update(update)
            self.offset = update.update_id + 1
        await self.application.bot.get_updates(offset=self.offset, timeout=0)  # confirm them
        return len(updates)

    async def say(self, user: int, text: str, **options: Any) -> list[Message]:
        """``user`` writes ``text``; returns what the bot answered in that chat."""
        before = len(self.sandbox.messages(user)) if user in self.sandbox.state.chats else 0
        self.sandbox.inject_message(user, text, **options)
        assert await self.pump() == 1
        return self.sandbox.messages(user)[before:]

    async def photo(self, user: int, file_id: str) -> list[Message]:
        before = len(self.sandbox.messages(user))
        self.sandbox.inject_photo(user, file_id)
        assert await self.pump() == 1
        return self.sandbox.messages(user)[before:]

    async def press(self, user: int, data: str, message: Message | None = None) -> tuple[list[Message], dict[str, Any]]:
        """``user`` presses a button with ``data``; returns (new messages, the callback answer's parameters)."""
        before, answers = len(self.sandbox.messages(user)), len(self.sandbox.callback_answers)
        self.sandbox.inject_callback_query(user, data, message=message)
        assert await self.pump() == 1
        assert len(self.sandbox.callback_answers) == answers + 1, "every button press is answered"
        return self.sandbox.messages(user)[before:], self.sandbox.callback_answers[-1].params


@asynccontextmanager
async def running_chat(app: App, sandbox: TelegramSandbox, now: datetime, offset: int = 0) -> AsyncIterator[ChatDriver]:
    """The composition root's Application over ``app``, initialised (persistence loaded) and bound, then shut down."""
    application = build_chat_application(app)
    await application.initialize()
    assert application.post_init is not None and application.post_shutdown is not None
    await application.post_init(application)
    application.bot_data.now = lambda: now
    driver = ChatDriver(application, sandbox)
    driver.offset = offset
    try:
        yield driver
    finally:
        await application.shutdown()  # writes what changed to the persistence
        await application.post_shutdown(application)


def buttons(message: Message) -> dict[str, str]:
    """label → callback data of a message's inline keyboard."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def is_alert(answer: dict[str, Any]) -> bool:
    """An answerCallbackQuery shown as an alert (PTB sends form fields: "true")."""
    return str(answer.get("show_alert", "")).lower() == "true"
