"""The typed context every chat handler receives: ``context.app`` is the composition root's App.

python-telegram-bot builds one ``RelaisContext`` per update (``ContextTypes(context=…)``,
as its contexttypesbot example does), so handlers reach services through a typed property
instead of an untyped ``bot_data["app"]``. The App is bound in the Application's
``post_init`` and released in ``post_shutdown`` (see ``bot.app.build_chat_application``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

if TYPE_CHECKING:
    from bot.app import App


class BotData:
    """What every handler of one Application shares (PTB's ``bot_data``, typed)."""

    def __init__(self) -> None:
        self.app: App | None = None
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # tests inject a clock


class RelaisContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def app(self) -> App:
        """The App: settings, sessions and what the services need."""
        app = self.bot_data.app
        if app is None:
            raise RuntimeError("the chat Application is not running: post_init binds the App")
        return app


CONTEXT_TYPES = ContextTypes(context=RelaisContext, bot_data=BotData)
