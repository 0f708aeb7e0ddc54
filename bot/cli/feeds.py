"""`relais feeds`: each feed's last fetch, last error, failure streak and next attempt."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from bot.cli.common import console, settings, with_app
from bot.services import feeds as service
from bot.services.feeds import FeedStatus


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _as_json(feed: FeedStatus) -> dict[str, Any]:
    return {"name": feed.name, "url": feed.url, "configured": feed.configured,
            "interval_minutes": feed.interval_minutes, "last_attempt": _iso(feed.last_attempt),
            "last_success": _iso(feed.last_success), "last_error": feed.last_error, "failures": feed.failures,
            "next_attempt": _iso(feed.next_attempt), "last_seen_at": _iso(feed.last_seen_at)}


def _when(instant: datetime | None, tz: Any) -> str:
    return f"{instant.astimezone(tz):%Y-%m-%d %H:%M}" if instant else "never"


def _next(feed: FeedStatus, tz: Any) -> str:
    if not feed.configured:
        return "not polled"  # imported once by hand
    return _when(feed.next_attempt, tz) if feed.next_attempt else "next poll"


def feeds(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Each feed's last fetch, last error, failures in a row and next attempt."""
    statuses = with_app(ctx, service.feed_statuses)
    if as_json:
        typer.echo(json.dumps([_as_json(f) for f in statuses], ensure_ascii=False, indent=2))
        return
    if not statuses:
        console.print("No feeds: add [[feeds]] to the configuration file, or `relais import URL`.")
        return
    tz = settings(ctx).tz
    table = Table(title="Feeds", caption=f"times in {tz.key}")
    table.add_column("feed", overflow="fold")
    for column in ("last fetch", "failures", "next attempt"):
        table.add_column(column, justify="right" if column == "failures" else "left")
    table.add_column("last error", overflow="fold")
    for f in statuses:
        name = f.name if f.name == f.url else f"{f.name}\n{f.url}"
        failures = f"[red]{f.failures}[/red]" if f.failures else "0"
        table.add_row(name, _when(f.last_attempt, tz), failures, _next(f, tz), f.last_error or "")
    console.print(table)
