"""`relais history`: what was sent where and when, with links, over bot.services.history."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from bot.cli.common import console, settings, with_app
from bot.cli.queue import local_text
from bot.services import history as service
from bot.services.history import SentMessage


def _as_json(sent: SentMessage) -> dict[str, object]:
    return {"publication_id": sent.publication_id, "post_id": sent.post_id, "title": sent.title,
            "channel": sent.channel, "platform": sent.platform, "sent_at": sent.sent_at.isoformat(),
            "state": sent.state, "remote_id": sent.remote_id, "link": sent.link}


def history(
    ctx: typer.Context,
    post_id: int | None = typer.Option(None, "--post", help="Only this post."),
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    limit: int = typer.Option(50, "--limit", help=f"How many, newest first (1 to {service.MAX_LIMIT})."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """What was sent where and when, newest first, with a link to each message."""
    sent = with_app(ctx, lambda relais: service.history(relais, post_id=post_id, channel=channel, limit=limit))
    if as_json:
        typer.echo(json.dumps([_as_json(s) for s in sent], ensure_ascii=False, indent=2))
        return
    if not sent:
        console.print("Nothing sent yet" + (" that matches" if post_id or channel else "") + ".")
        return
    tz = settings(ctx).tz
    table = Table(title=f"Sent ({len(sent)}, newest first)")
    for column in (f"sent ({tz.key})", "channel", "post"):
        table.add_column(column)
    table.add_column("title", overflow="ellipsis", no_wrap=True, max_width=30)
    table.add_column("state")
    table.add_column("link", no_wrap=True, overflow="ignore", min_width=20)  # a link cut in two is no link
    for s in sent:
        table.add_row(local_text(s.sent_at, tz), s.channel, str(s.post_id), s.title,
                      s.state, s.link or "(private chat: no link)")
    console.print(table)
