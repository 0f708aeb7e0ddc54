"""`relais search QUERY`: the archive search readers get in Telegram, on the command line."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from bot.cli.common import console, with_app
from bot.services import search as service
from bot.services.search import SearchHit, SearchPage


def hit_dict(hit: SearchHit) -> dict[str, Any]:
    return {"id": hit.post_id, "title": hit.title, "date": hit.date.isoformat() if hit.date else None,
            "excerpt": hit.excerpt, "url": hit.url, "tags": list(hit.tags), "image_url": hit.image_url}


def page_dict(page: SearchPage) -> dict[str, Any]:
    return {"query": page.query, "understood": page.understood, "offset": page.offset, "limit": page.limit,
            "has_more": page.has_more, "results": [hit_dict(h) for h in page.hits]}


def search(
    ctx: typer.Context,
    query: list[str] = typer.Argument(None, help='Words, "phrases", prefix*, -excluded, #tag; none: the latest posts.'),
    limit: int = typer.Option(10, min=1, max=service.MAX_LIMIT, help="Results per page."),
    page: int = typer.Option(1, min=1, help="Which page of results."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Search the posts readers can see (not drafts, not deleted), best match first."""
    text = " ".join(query or [])
    found = with_app(ctx, lambda relais: service.search(relais, text, offset=(page - 1) * limit, limit=limit))
    if as_json:
        typer.echo(json.dumps(page_dict(found), ensure_ascii=False, indent=2))
        return
    if not found.understood:
        console.print('Query not understood: type words, "a phrase", a prefix* or a #tag.')
        return
    if not found.hits:
        console.print("No post matches." if page == 1 else "No more results.")
        return
    table = Table(title=f"Page {page}" + (f" (more: --page {page + 1})" if found.has_more else ""))
    for column in ("id", "date", "title", "excerpt", "link"):
        table.add_column(column, overflow="fold")
    for hit in found.hits:
        table.add_row(str(hit.post_id), hit.date.strftime("%Y-%m-%d") if hit.date else "", hit.title[:80],
                      hit.excerpt, hit.url or "")
    console.print(table)
