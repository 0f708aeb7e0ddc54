"""`relais post …`: minimal post management over the repository."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import typer
from rich.table import Table

from bot.app import App
from bot.cli.common import console, with_app
from bot.store import repository
from bot.store.models import Post, PostStatus

app = typer.Typer(help="Posts in the content store: add, list, show, delete.", no_args_is_help=True)


def post_dict(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "source": post.source,
        "source_key": post.source_key,
        "status": str(post.status),
        "title": post.title,
        "url": post.url,
        "author": post.author,
        "language": post.language,
        "tags": [tag.display for tag in post.tags],
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "image_url": post.image_url,
        "summary": post.summary,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="The post's title (hashtags allowed)."),
    url: str | None = typer.Option(None, help="Canonical URL of the article."),
    body: str = typer.Option("", help="Body as HTML or plain text."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="A tag; repeat for several."),
    language: str | None = typer.Option(None, help="Language code; default from configuration."),
    status: PostStatus = typer.Option(PostStatus.DRAFT, help="Initial status."),
) -> None:
    """Add a post by hand (source `manual`)."""

    async def work(relais: App) -> Post:
        key = hashlib.sha256(f"{title}\x00{url}\x00{body}".encode()).hexdigest()[:32]
        new = repository.NewPost(
            source="manual", source_key=key, title=title, url=url, body_html=body,
            language=language or relais.settings.default_language, tags=tuple(tag), status=status,
        )
        async with relais.sessions.begin() as session:
            if await repository.find_post(session, "manual", key):
                raise typer.BadParameter("an identical post already exists")
            return await repository.add_post(session, new)

    post = with_app(ctx, work)
    console.print(f"Added post {post.id}: {post.title}")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: PostStatus | None = typer.Option(None, help="Only posts in this status."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many posts at most."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List posts, newest first."""

    async def work(relais: App) -> tuple[list[dict[str, Any]], int]:
        async with relais.sessions() as session:
            posts = await repository.list_posts(session, status=status, limit=limit)
            return [post_dict(p) for p in posts], await repository.count_posts(session)

    rows, total = with_app(ctx, work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("No posts yet. Add one with `relais post add` or import a feed with `relais import`.")
        return
    table = Table(title=f"Posts ({len(rows)} of {total})")
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

    async def work(relais: App) -> dict[str, Any]:
        async with relais.sessions() as session:
            return post_dict(await repository.get_post(session, post_id))

    row = with_app(ctx, work)
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

    async def work(relais: App) -> Post:
        async with relais.sessions.begin() as session:
            return await repository.delete_post(session, post_id)

    post = with_app(ctx, work)
    console.print(f"Deleted post {post.id}: {post.title}")
