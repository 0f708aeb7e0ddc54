"""`relais retry`: send dead publications again, over bot.services.publishing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer

from bot.cli.common import console, err_console, settings, with_app
from bot.cli.queue import print_outcomes
from bot.errors import UsageError
from bot.services import publishing
from bot.services.publishing import Outcome, PostOutcomes


def _as_json(result: PostOutcomes) -> dict[str, Any]:
    return {"post_id": result.post_id, "title": result.title,
            "channels": [{"channel": c.channel, "outcome": c.outcome.value, "state": c.state,
                          "publication_id": c.publication_id} for c in result.matched]}


def retry(
    ctx: typer.Context,
    post_id: int | None = typer.Argument(None, help="The post whose dead publications to send again."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Every dead publication of every post."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: per post, what happened on each channel."),
) -> None:
    """Send again the publications that went dead (never one whose message went out)."""
    now = datetime.now(UTC)
    if post_id is not None and not all_dead:
        chosen = post_id
        results = [with_app(ctx, lambda relais: publishing.retry_dead(relais, chosen, now))]
    elif all_dead and post_id is None:
        results = with_app(ctx, lambda relais: publishing.retry_all_dead(relais, now))
    else:
        raise UsageError("give a post id or --all-dead (one of them)")
    retried = sum(c.outcome is Outcome.RETRIED for r in results for c in r.channels)
    if as_json:
        typer.echo(json.dumps([_as_json(r) for r in results], ensure_ascii=False, indent=2))
    else:
        for result in (r for r in results if r.matched):  # a post on no channel has nothing to tell
            console.print(f"Post {result.post_id}: {result.title}", soft_wrap=True, highlight=False)
            print_outcomes(result.matched, settings(ctx).tz)
    if not retried:
        err_console.print("No dead publication to send again." if all_dead
                          else f"Post {post_id} has no dead publication to send again.")
        raise typer.Exit(1)
    if not as_json:
        console.print(f"{retried} publication(s) will be sent again by `relais run`.")
