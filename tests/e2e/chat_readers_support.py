"""The chat Application running against the sandbox, and a reader who talks to it.

Updates go the real way: the sandbox queues them, python-telegram-bot's updater fetches them
with getUpdates, the handlers answer through the Bot API. Waits are bounded by a condition on
the sandbox's state (with a generous timeout as a safety net), never by wall time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from telegram.ext import Application

from bot.app import App, build_chat_application
from bot.domain.posts import NewPost, PostStatus
from bot.sandbox import TelegramSandbox
from bot.sandbox.state import Answer, Chat, Message
from bot.store import repository

CAMILLE, SAM = 7101, 7102  # a French reader, an English one
SAFETY_TIMEOUT = 20.0  # seconds; only reached when the bot never answers (the test then fails)


async def until(condition: Callable[[], object], what: str = "the bot's answer") -> None:
    try:
        async with asyncio.timeout(SAFETY_TIMEOUT):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"no {what} within {SAFETY_TIMEOUT} s") from None


@asynccontextmanager
async def running_bot(app: App) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The Application ``relais run`` builds, polling the sandbox (post_init sets the command menu)."""
    application = build_chat_application(app)
    await application.initialize()
    assert application.post_init is not None and application.post_shutdown is not None
    await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)


@dataclass
class Reader:
    """A Telegram user in a private chat with the bot."""

    sandbox: TelegramSandbox
    user: Chat

    @property
    def id(self) -> int:
        return self.user.id

    def replies(self) -> list[Message]:
        return self.sandbox.messages(self.id)

    async def say(self, text: str) -> Message:
        """Send ``text`` and wait for the bot's answer."""
        before = len(self.replies())
        self.sandbox.inject_message(self.user, text)
        await until(lambda: len(self.replies()) > before)
        return self.replies()[-1]

    async def send(self, kind: str) -> Message:
        before = len(self.replies())
        self.sandbox.inject_attachment(self.user, kind)
        await until(lambda: len(self.replies()) > before)
        return self.replies()[-1]

    async def press(self, message: Message, data: str) -> Answer:
        """Press a button (its callback data) under ``message``; wait for the callback's answer."""
        before = len(self.sandbox.callback_answers)
        self.sandbox.inject_callback_query(self.user, data, message=message)
        await until(lambda: len(self.sandbox.callback_answers) > before, "callback answer")
        answer = self.sandbox.callback_answers[-1]
        await self.settled()
        return answer

    async def settled(self) -> None:
        """Wait until every update sent so far was handled: the updates are handled in order,
        so once a /help sent now is answered, so is everything before it."""
        before = len(self.replies())
        self.sandbox.inject_message(self.user, "/help")
        await until(lambda: len(self.replies()) > before)


def french_reader(sandbox: TelegramSandbox) -> Reader:
    return Reader(sandbox, sandbox.add_user(CAMILLE, "Camille", language_code="fr"))


def english_reader(sandbox: TelegramSandbox) -> Reader:
    return Reader(sandbox, sandbox.add_user(SAM, "Sam", language_code="en-GB"))


def buttons(message: Message) -> list[tuple[str, str]]:
    """(label, callback data) of every callback button under ``message``."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row if "callback_data" in b]


def data_of(message: Message, label_part: str) -> str:
    found = [data for label, data in buttons(message) if label_part in label]
    assert found, f"no button with {label_part!r} in {buttons(message)}"
    return found[0]


def post(number: int, title: str, tags: Sequence[str], status: PostStatus = PostStatus.PUBLISHED) -> NewPost:
    """A French blog post, published on day ``number`` of November 2026 (higher numbers are newer)."""
    return NewPost(source="https://esante.example/feed", source_key=f"https://esante.example/?p={number}",
                   title=title, url=f"https://esante.example/article-{number}",
                   body_html=f"<p>{title} — l’article complet, avec des «\u00a0guillemets\u00a0» 🩺.</p>",
                   tags=tuple(tags), language="fr", status=status,
                   published_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=number))


async def add_posts(app: App, posts: Sequence[NewPost]) -> list[int]:
    async with app.sessions.begin() as session:
        return [(await repository.add_post(session, new)).id for new in posts]


async def count(app: App, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model).where(*(getattr(model, k) == v for k, v in where.items()))
    async with app.sessions() as session:
        return await session.scalar(query) or 0
