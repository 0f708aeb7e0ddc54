"""Local stand-ins for the platforms: a Telegram Bot API emulator for tests and the demo.

Needs the ``test`` or ``demo`` extra (aiohttp, tdjson); nothing imports it in production.
"""

from bot.sandbox.limits import RateLimits, SandboxClock
from bot.sandbox.server import DEFAULT_TOKEN, TelegramSandbox
from bot.sandbox.state import Chat, Message

__all__ = ["DEFAULT_TOKEN", "Chat", "Message", "RateLimits", "SandboxClock", "TelegramSandbox"]
