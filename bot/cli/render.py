"""`relais render`: see what each channel would publish, without publishing anything.

The renders come from ``bot.publish.render.render_for``, the function the outbox worker
uses. Nothing is sent, so no token is read; Mastodon instances are only asked for their
public limits (``/api/v2/instance``), unless ``--offline``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.text import Text

from bot.cli.common import console, settings, with_app
from bot.errors import ParseError, UsageError
from bot.format import Article, MastodonRender, TelegramRender
from bot.i18n import base_language
from bot.ingest.fetch import DEFAULT_MAX_BYTES, read_file
from bot.publish.render import DEFAULT_LIMITS, RenderChannel, StatusLimits, limits_for, render_channels, render_for
from bot.settings import Settings

if TYPE_CHECKING:  # `render FILE` opens no database: the app loads only for --post
    from bot.app import App


def chosen_channels(loaded: Settings, only: str | None) -> list[RenderChannel]:
    """The configured channels (or the two defaults), or only the one named by ``--channel``."""
    found = render_channels(loaded)
    if only is not None:
        found = [c for c in found if c.name == only]
        if not found:
            raise UsageError(f"--channel {only}: no such channel")
    return found


def limit_source(channel: RenderChannel, limit: int, limits: StatusLimits) -> str:
    """Which limit bound the render: the profile's cap, the instance's (live), Mastodon's
    default or Telegram's documented one."""
    if channel.profile.max_length is not None and limit == channel.profile.max_length:
        return "profile"
    if channel.platform == "telegram":
        return "telegram"
    return "live" if limits.is_live else "default"


def render_one(source_key: str, article: Article, channel: RenderChannel, limits: StatusLimits) -> dict[str, Any]:
    """One object of the `--json` contract (post × channel)."""
    rendered = render_for(channel, article, limits)
    common = {"source_key": source_key, "channel": channel.name, "platform": channel.platform,
              "length": rendered.length, "limit": rendered.limit,
              "limit_source": limit_source(channel, rendered.limit, limits)}
    if isinstance(rendered, TelegramRender):
        return {**common, "text": rendered.text, "parse_mode": rendered.parse_mode, "photo": rendered.photo,
                "spoiler_text": None, "language": base_language(article.language),
                "buttons": [button.label for button in rendered.follow_buttons]}
    assert isinstance(rendered, MastodonRender)
    return {**common, "status": rendered.status, "parse_mode": None, "photo": rendered.media_url,
            "spoiler_text": rendered.spoiler_text or None, "language": rendered.language}


def articles_from_file(path: Path, loaded: Settings) -> list[tuple[str, Article]]:
    """The entries of a feed file, read under the importer's size cap; not a feed is an error."""
    if not path.is_file():
        raise UsageError(f"{path}: cannot read (no such file)")
    fetched = read_file(str(path), max_bytes=DEFAULT_MAX_BYTES)  # FetchError over the cap, as `import`
    from bot.ingest.parse import parse_feed

    parsed = parse_feed(fetched.content, source=path.name, default_language=loaded.default_language,
                        now=datetime.now(UTC), markdown=False)  # renders read the HTML body; markdownify is slow
    if not parsed.entries and parsed.error:
        reason = parsed.error if parsed.error.startswith("not a feed") else f"not a feed ({parsed.error})"
        raise ParseError(f"{path}: {reason}")
    return [(entry.source_key, Article.from_post(entry)) for entry in parsed.entries]


def _panel(row: dict[str, Any]) -> Panel:
    over = row["length"] > row["limit"]
    body = Text()
    if row["spoiler_text"]:
        body.append(f"CW: {row['spoiler_text']}\n\n", style="yellow")
    body.append(row.get("text") or row.get("status") or "")
    for label in row.get("buttons") or ():
        body.append(f"\n[ {label} ]", style="dim")
    measure = f"[{'red' if over else 'green'}]{row['length']}/{row['limit']}[/] ({row['limit_source']})"
    return Panel(body, title=f"{row['channel']} ({row['platform']})", subtitle=measure, width=60)


def _say_limits(channels: list[RenderChannel], limits: dict[str, StatusLimits], offline: bool) -> None:
    for channel in channels:
        if channel.platform != "mastodon":
            continue
        used = limits.get(channel.name, DEFAULT_LIMITS)
        figures = f"{used.max_characters} characters, {used.url_length} per URL"
        if used.is_live:
            console.print(f"{channel.name}: limits read from {channel.instance_url} ({figures})", highlight=False)
        else:
            why = ("--offline" if offline else "no instance_url" if not channel.instance_url
                   else f"{channel.instance_url} unreachable")
            console.print(f"{channel.name}: Mastodon's default limits ({figures}; {why})", highlight=False)


def render(
    ctx: typer.Context,
    source: Path | None = typer.Argument(None, help="A feed (RSS/Atom) or WordPress export (WXR) file.", dir_okay=False),
    post_id: int | None = typer.Option(None, "--post", help="Render a stored post instead of a file."),
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per post × channel."),
    offline: bool = typer.Option(False, "--offline", help="Don't ask Mastodon instances for their limits; use "
                                 "Mastodon's defaults (500 characters, 23 per URL)."),
) -> None:
    """Show what each channel would publish: text, measured length and limit. Sends nothing."""
    if (source is None) == (post_id is None):
        raise UsageError("give either a SOURCE file or --post ID")
    loaded = settings(ctx, secrets=False)
    chosen = chosen_channels(loaded, channel)
    if post_id is not None:
        from bot.store import repository

        async def work(relais: App) -> list[tuple[str, Article]]:
            async with relais.sessions() as session:
                post = await repository.get_post(session, post_id)
                return [(post.source_key, Article.from_post(post))]

        articles = with_app(ctx, work, secrets=False)
    else:
        assert source is not None
        articles = articles_from_file(source, loaded)
    limits = {} if offline or not articles else asyncio.run(limits_for(chosen))
    rows = [render_one(key, article, target, limits.get(target.name, DEFAULT_LIMITS))
            for key, article in articles for target in chosen]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("Nothing to render: the feed has no entries.")
        return
    _say_limits(chosen, limits, offline)
    for key, article in articles:
        console.rule(f"{article.title or key}", characters="─")
        console.print(Columns([_panel(r) for r in rows if r["source_key"] == key]))
