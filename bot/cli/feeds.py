"""`relais feeds`: each feed's last fetch, last error, failure streak and next attempt."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from bot.cli.common import console, settings, with_app
from bot.cli.queue import local_text
from bot.services import feeds as service
from bot.services.feeds import FeedStatus


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _as_json(feed: FeedStatus) -> dict[str, Any]:
    return {"name": feed.name, "url": feed.url, "configured": feed.configured,
            "interval_minutes": feed.interval_minutes, "last_attempt": _iso(feed.last_attempt),
            "last_success": _iso(feed.last_success), "last_error": feed.last_error, "failures": feed.failures,
            "next_attempt": _iso(feed.next_attempt), "last_seen_at": _iso(feed.last_seen_at)}


def _next(feed: FeedStatus, tz: Any) -> str:
    if not feed.configured:
        return "not polled (imported by hand)"
    return local_text(feed.next_attempt, tz) if feed.next_attempt else "at the next poll"


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
    table = Table(title="Feeds")
    for column in ("name", f"last fetch ({tz.key})", "failures", "last error", "next attempt", "url"):
        table.add_column(column, overflow="fold")
    for f in statuses:
        last = local_text(f.last_attempt, tz) if f.last_attempt else "never"
        failures = f"[red]{f.failures}[/red]" if f.failures else "0"
        table.add_row(f.name, last, failures, f.last_error or "", _next(f, tz), f.url)
    console.print(table)
