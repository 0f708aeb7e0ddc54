"""`relais post …`: posts in the content store, over bot.services.posts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from bot.cli.common import console, settings, with_app
from bot.cli.queue import parse_when, print_outcomes
from bot.services import posts
from bot.services.posts import PostView
from bot.store.models import PostStatus

app = typer.Typer(help="Posts in the content store: add, edit, list, show, delete.", no_args_is_help=True)


def post_dict(post: PostView) -> dict[str, Any]:
    return {
        "id": post.id,
        "source": post.source,
        "source_key": post.source_key,
        "status": str(post.status),
        "title": post.title,
        "url": post.url,
        "author": post.author,
        "language": post.language,
        "tags": list(post.tags),
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "image_url": post.image_url,
        "summary": post.summary,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="The post's title (its #hashtags become tags)."),
    url: str | None = typer.Option(None, help="Canonical URL of the article."),
    body: str = typer.Option("", help="Body as HTML or plain text (its #hashtags become tags)."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="A tag; repeat for several."),
    language: str | None = typer.Option(None, help="Language code; default from configuration."),
    status: PostStatus = typer.Option(PostStatus.DRAFT, help="Initial status; queued: on the queue like an "
                                      "imported entry; scheduled: at --at."),
    at: str | None = typer.Option(None, "--at", help='With --status scheduled: when, e.g. "2026-12-01 09:00" '
                                  "(local time)."),
) -> None:
    """Add a post by hand (source `manual`)."""
    when = parse_when(at, settings(ctx).tz) if at is not None else None
    now = datetime.now(UTC)
    created = with_app(ctx, lambda relais: posts.create(relais, title, now=now, url=url, body=body, tags=tag,
                                                        language=language, status=status, at=when))
    console.print(f"Added post {created.post.id}: {created.post.title}", soft_wrap=True, highlight=False)
    if status in (PostStatus.QUEUED, PostStatus.SCHEDULED):
        print_outcomes(created.channels, settings(ctx).tz)


@app.command("edit")
def edit(
    ctx: typer.Context,
    post_id: int = typer.Argument(..., help="The post's id."),
    title: str | None = typer.Option(None, help="The new title (its #hashtags become tags)."),
    body: str | None = typer.Option(None, help="The new body, HTML or plain text."),
    tag: list[str] | None = typer.Option(None, "--tag", "-t", help="Replace the tags; repeat for several."),
) -> None:
    """Edit a post; messages already sent are edited to match by `relais run`."""
    now = datetime.now(UTC)
    edited = with_app(ctx, lambda relais: posts.edit(relais, post_id, now=now, title=title, body=body,
                                                     tags=tag or None))
    if not edited.changed:
        console.print(f"Post {post_id} unchanged.")
        return
    console.print(f"Edited post {post_id}: {edited.post.title}", soft_wrap=True, highlight=False)
    console.print(f"  tags: {' '.join('#' + tag for tag in edited.post.tags) or 'none'}", soft_wrap=True, highlight=False)
    if edited.edited_on:
        console.print(f"  the message sent on {', '.join(edited.edited_on)} will be edited to match by `relais run`",
                      soft_wrap=True, highlight=False)
    else:
        console.print("  nothing sent yet: the new version goes out when it is published")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: PostStatus | None = typer.Option(None, help="Only posts in this status."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many posts at most."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List posts, newest first."""
    page = with_app(ctx, lambda relais: posts.list_posts(relais, status=status, limit=limit))
    rows = [post_dict(p) for p in page.posts]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("No posts yet. Add one with `relais post add` or import a feed with `relais import`.")
        return
    table = Table(title=f"Posts ({len(rows)} of {page.total})")
    for column in ("id", "status", "published", "title", "tags"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]), row["status"], (row["published_at"] or "")[:16], row["title"][:70],
            " ".join(f"#{t}" for t in row["tags"][:5]),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    post_id: int = typer.Argument(..., help="The post's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one post."""
    row = post_dict(with_app(ctx, lambda relais: posts.get(relais, post_id)))
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    table = Table(show_header=False)
    for key, value in row.items():
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value or ""))
    console.print(table)


@app.command("delete")
def delete(
    ctx: typer.Context,
    post_id: int = typer.Argument(..., help="The post's id."),
) -> None:
    """Delete a post (its sent messages are deleted by the publisher)."""
    now = datetime.now(UTC)
    post = with_app(ctx, lambda relais: posts.delete(relais, post_id, now=now))
    console.print(f"Deleted post {post.id}: {post.title}")
