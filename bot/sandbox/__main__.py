"""Run the Telegram sandbox standalone: ``python -m bot.sandbox --port 8081 --channel @sante``.

Point Relais at it with ``telegram.api_base_url = "http://127.0.0.1:8081/bot"`` and the
token given with ``--token`` (default ``bot.sandbox.DEFAULT_TOKEN``). Logs never show the token (the access log is off; lines name the method).
Play users and watch channels over HTTP with the control API (see ``bot.sandbox.control``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from bot.sandbox import DEFAULT_TOKEN, RateLimits, TelegramSandbox


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description="Telegram Bot API emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 = any free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default="relais_sandbox_bot")
    parser.add_argument("--channel", action="append", default=[], metavar="@NAME", help="a channel that exists")
    parser.add_argument("--user", action="append", default=[], type=int, metavar="ID", help="a user who started the bot")
    parser.add_argument("--telegram-limits", action="store_true", help="enforce 20/min per channel, 1/s per user, 30/s")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    limits = RateLimits.telegram() if args.telegram_limits else RateLimits()
    async with TelegramSandbox(args.token, bot_username=args.bot_username, host=args.host, port=args.port,
                               limits=limits) as sandbox:
        for name in args.channel:
            sandbox.add_channel(name)
        for user_id in args.user:
            sandbox.add_user(user_id)
        print(f"base_url={sandbox.base_url}  bot=@{sandbox.bot_username}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_arguments(argv)))


if __name__ == "__main__":
    main()
