"""`relais status`: the queue, the platforms and the feeds at a glance (what /metrics exposes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from bot.app import App
from bot.cli.common import console, with_app
from bot.services.status import Status, status


def show_status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
) -> None:
    """Queue depth, counts by state, last success per platform, failing feeds.

    The same figures as /metrics (`relais run`), read from the database now; --json for scripts.
    """

    async def read(app: App) -> Status:
        return await status(app, datetime.now(UTC))

    snapshot = with_app(ctx, read)
    if as_json:
        typer.echo(json.dumps(snapshot.as_dict(), ensure_ascii=False))
        return
    print_status(snapshot)


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "nothing due is waiting"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def print_status(snapshot: Status) -> None:
    figures = snapshot.as_dict()
    queues = Table(title="Queue")
    for column in ("queue", "waiting", *sorted({state for states in figures["publications"].values() for state in states})):
        queues.add_column(column, justify="left" if column == "queue" else "right")
    states = queues.columns[2:]
    for name, depth in figures["queue_depth"].items():
        counts = figures["publications"].get(name) or (figures["deliveries"] if name == "readers" else {})
        queues.add_row(name, str(depth), *(str(counts.get(str(c.header), 0)) for c in states))
    console.print(queues)
    console.print(f"Oldest due publication waiting: {_ago(snapshot.oldest_due_seconds)}")
    for platform, seen in sorted(snapshot.platforms.items()):
        console.print(f"{platform}: last success {_when(seen.last_success)}, last failure {_when(seen.last_failure)}")
    if not snapshot.failing_feeds:
        console.print("Feeds: none failing")
    for feed in snapshot.failing_feeds:
        console.print(f"[yellow]feed {escape(feed.name)}: {feed.failures} failure(s) in a row, next attempt "
                      f"{_when(feed.next_poll_at)}: {escape(feed.last_error or '')}[/yellow]", highlight=False)
