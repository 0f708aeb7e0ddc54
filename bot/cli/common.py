"""What every command shares: loading settings, opening the app, reporting errors."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from bot.logs import configure_logging, secrets_of
from bot.settings import Settings, load_settings

if TYPE_CHECKING:  # the app (SQLAlchemy, Alembic) loads only for commands that open it
    from bot.app import App

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


@dataclass
class GlobalOptions:
    config: Path | None = None
    database: str | None = None
    log_format: str | None = None
    log_level: str | None = None


def options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def settings(ctx: typer.Context, *, secrets: bool = True) -> Settings:
    """Load settings once per invocation and configure logging with the secrets to mask.

    ``secrets=False``: tokens named by token_env/token_file are not read (a command that
    sends nothing must not demand them). An invocation loads them once, the first way asked.
    """
    root = ctx.find_root()
    cached = root.meta.get("relais.settings")
    if cached is not None:
        return cached
    opts = options(ctx)
    config = opts.config or (Path(os.environ["RELAIS_CONFIG"]) if os.environ.get("RELAIS_CONFIG") else None)
    held: list[str] = []  # the file's warnings wait for logging, so --log-format json applies to them
    loaded = load_settings(
        config,
        env=os.environ,
        warn=held.append,
        database_url=opts.database,
        log_format=opts.log_format,
        log_level=opts.log_level,
        resolve_secrets=secrets,
    )
    configure_logging(loaded.log_level, loaded.log_format, secrets_of(loaded))
    for warning in held:
        logging.getLogger("bot.settings").warning(warning)
    root.meta["relais.settings"] = loaded
    return loaded


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def with_app(ctx: typer.Context, work: Callable[[App], Awaitable[T]], *, check_schema: bool = True,
             secrets: bool = True) -> T:
    """Run ``work`` with the app the composition root opens from this invocation's settings."""
    from bot.app import run_app

    return run_app(settings(ctx, secrets=secrets), work, check_schema=check_schema)
