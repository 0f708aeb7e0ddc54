"""`relais run`: the long-running process, or one pass of it for cron."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Literal

import typer
from rich.table import Table

from bot.app import App
from bot.cli.common import console, with_app
from bot.errors import PARTIAL_FAILURE


def run(
    ctx: typer.Context,
    role: Literal["all", "updates", "worker"] = typer.Option(
        "all", "--role", help="all | updates (the one process that receives Telegram updates) | worker (publishes; "
        "run several on PostgreSQL).",
    ),
    once: bool = typer.Option(False, "--once", help="Poll feeds, publish what is due, notify readers, then exit (cron)."),
    worker_id: str | None = typer.Option(None, "--worker-id", help="Name of this worker in the outbox (default host:pid)."),
    as_json: bool = typer.Option(False, "--json", help="With --once: print the summary as JSON."),
) -> None:
    """Run Relais: receive Telegram updates, wake the scheduler, publish due posts.

    Stops gracefully on Ctrl-C or SIGTERM: work in flight is finished and recorded first.
    With --once, exits 3 when a publication was given up or a platform was unreachable.
    """
    from bot import runtime

    try:
        chosen = runtime.Role(role)
    except ValueError:
        raise typer.BadParameter("must be all, updates or worker", param_hint="--role") from None
    runtime.use_uvloop()
    if once:
        report = with_app(ctx, lambda relais: runtime.run_once_now(relais, worker_id=worker_id))
        if as_json:
            typer.echo(json.dumps(
                {"feeds": [r.as_dict() for r in report.feeds], "moved": report.moved, "late": report.late,
                 "worker": asdict(report.worker), "held_back": list(report.held_back), "partial": report.partial},
                ensure_ascii=False, default=str,
            ))
            if report.partial:
                raise typer.Exit(PARTIAL_FAILURE)
            return
        table = Table(title="relais run --once")
        table.add_column("what")
        table.add_column("count", justify="right")
        for name in ("sent", "delivered", "retried", "dead", "edited", "deleted", "recovered"):
            table.add_row(name, str(getattr(report.worker, name)))
        table.add_row("feeds polled", str(len(report.feeds)))
        table.add_row("re-slotted after downtime", str(report.moved))
        console.print(table)
        for error in report.worker.errors:
            console.print(f"[yellow]{error.kind} {error.publication_id} on {error.channel}: {error.message}[/yellow]")
        if report.held_back:
            console.print(f"[yellow]held back (platform unreachable): {', '.join(report.held_back)}[/yellow]")
        if report.partial:
            raise typer.Exit(PARTIAL_FAILURE)
        return

    async def serve(relais: App) -> None:
        await runtime.serve(relais, role=chosen, worker_id=worker_id)

    with_app(ctx, serve)
